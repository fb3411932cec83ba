"""The queue's filter form is fetched when it is opened: with HTMX in place, without JavaScript
on a page of its own. Both ways end on the same filtered queue, and axe-core finds nothing.

The demo world of the browser package has no tickets; a filtered empty queue is enough here
(which tickets a filter finds is tested in arende/servicedesk/tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation
from playwright.sync_api import expect

from .support import AGENT, record_console, record_context

pytestmark = pytest.mark.browser

GROUP = "Servicedesk"


def sv(message: str) -> str:
    with translation.override("sv"):
        return translation.gettext(message)


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


@pytest.fixture
def no_js_page(browser, live_url, page_log) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_url,
        locale="en-GB",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=False,
    )
    context.set_default_timeout(10_000)
    record_context(context, page_log)
    page = context.new_page()
    record_console(page, page_log)
    yield page
    context.close()


def _group_id() -> str:
    from arende.servicedesk.models import SupportGroup

    return str(SupportGroup.objects.get(name=GROUP).pk)


def test_filters_load_when_opened(page, sign_in, assert_accessible, page_log, live_url):
    sign_in(page, AGENT)
    page.goto("/desk/?queue=open&q=skrivare")
    filters = page.locator("details.filters")
    expect(filters.locator("#id_group")).to_have_count(0)  # not sent with the page
    with page.expect_response(lambda response: "/desk/filters/" in response.url):
        filters.locator("summary").click()
    page.locator("#id_group").select_option(label=GROUP)
    assert_accessible(page)
    with page.expect_navigation():
        page.locator(".filters__actions button[type=submit]").click()
    query = _query(page)
    assert query["group"] == [_group_id()]
    assert query["queue"] == ["open"] and query["q"] == ["skrivare"]  # search kept
    expect(page.locator("details.filters")).to_have_attribute("open", "")
    expect(page.locator("#id_group")).to_have_value(_group_id())  # shown with the page now
    page.goto("/desk/filters/?queue=open&q=skrivare")  # the page the link opens without JS
    assert_accessible(page)
    assert page_log.foreign_requests(live_url) == []
    assert page_log.csp_errors() == []


def test_filters_work_without_javascript(no_js_page, sign_in):
    page = no_js_page
    sign_in(page, AGENT)
    page.goto("/desk/?queue=open&q=skrivare")
    page.locator("details.filters summary").click()
    with page.expect_navigation():
        page.get_by_role("link", name=sv("Show the filter form")).click()
    assert urlsplit(page.url).path == "/desk/filters/"
    expect(page.locator("h1")).to_have_text(sv("Filter tickets"))
    expect(page.locator("#desk-q")).to_have_value("skrivare")
    page.locator("#id_group").select_option(label=GROUP)
    with page.expect_navigation():
        page.locator(".filters__actions button[type=submit]").click()
    # The queue tidies the address (empty fields dropped) with a redirect, no script needed.
    assert urlsplit(page.url).path == "/desk/"
    query = _query(page)
    assert query["group"] == [_group_id()] and query["queue"] == ["open"]
    assert query["q"] == ["skrivare"]
    expect(page.locator("details.filters")).to_have_attribute("open", "")
