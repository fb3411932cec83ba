"""The service catalogue editor in a real browser (issue 3).

The IT manager finds the catalogue in the navigation, opens a service and a request type of
its own (made here, so that the demo's request types the portal tests use stay as they are),
is told next to the input what is wrong with a custom field, and saves. axe-core (WCAG 2.1 AA)
on the list, the edit pages and the page with errors; an agent has no link and gets 403.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.utils import translation
from playwright.sync_api import expect

from .support import AGENT, IT_MANAGER

pytestmark = pytest.mark.browser


def sv(message: str) -> str:
    with translation.override("sv"):
        return str(translation.gettext(message))


@dataclass(frozen=True)
class Catalogue:
    service_id: int
    request_type_id: int


@pytest.fixture(scope="module")
def catalogue(demo_server, django_db_blocker) -> Catalogue:
    from arende.servicedesk.services import catalogue as services

    with django_db_blocker.unblock():
        service = services.service_create(
            actor=None, name="Skrivare och utskrift (test)", description="Följ mig-utskrift"
        )
        request_type = services.request_type_create(
            actor=None,
            service=service,
            name="Ny skrivarkö (test)",
            fields=[
                {"name": "plats", "label": "Var står skrivaren?", "type": "text", "required": True}
            ],
        )
        return Catalogue(service.pk, request_type.pk)


def test_the_it_manager_edits_the_catalogue(
    page, sign_in, assert_accessible, page_log, live_url, screenshot, catalogue
):
    from arende.servicedesk.models import RequestType, Service

    sign_in(page, IT_MANAGER)
    page.goto("/")
    page.get_by_role("navigation", name=sv("Main navigation")).get_by_role(
        "link", name=sv("Service catalogue")
    ).click()
    expect(page.locator("main h1")).to_have_text(sv("Service catalogue"))
    expect(page.locator("main table")).to_contain_text("Ny skrivarkö (test)")
    assert_accessible(page)

    page.get_by_role("link", name="Skrivare och utskrift (test)", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/catalogue/services/{catalogue.service_id}/$"))
    assert_accessible(page)
    page.locator("#id_description").fill("Följ mig-utskrift på alla förvaltningar")
    page.get_by_role("button", name=sv("Save")).click()
    expect(page).to_have_url(re.compile(r"/catalogue/$"))
    expect(page.locator(".messages")).to_contain_text("Skrivare och utskrift (test)")
    assert Service.objects.get(pk=catalogue.service_id).version == 2

    page.get_by_role("link", name="Ny skrivarkö (test)", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/catalogue/request-types/{catalogue.request_type_id}/"))
    expect(page.locator("#id_fields-0-name")).to_have_value("plats")
    assert_accessible(page)
    # A choice with one option is refused next to its input, and nothing is saved.
    page.locator("#id_fields-1-name").fill("farg")
    page.locator("#id_fields-1-label").fill("Färgutskrift?")
    page.locator("#id_fields-1-type").select_option("choice")
    page.locator("#id_fields-1-choices").fill("Ja")
    page.get_by_role("button", name=sv("Save")).click()
    error = page.locator("#id_fields-1-choices_error")
    expect(error).to_have_text(sv("A choice needs at least two options."))
    described = page.locator("#id_fields-1-choices").get_attribute("aria-describedby") or ""
    assert "id_fields-1-choices_error" in described.split()
    try:
        assert_accessible(page)
    except AssertionError:
        screenshot(page, "catalogue-errors")
        raise
    page.locator("#id_fields-1-choices").fill("Ja\nNej")
    page.get_by_role("button", name=sv("Save")).click()
    expect(page).to_have_url(re.compile(r"/catalogue/$"))
    fields = RequestType.objects.get(pk=catalogue.request_type_id).fields
    assert [field["name"] for field in fields] == ["plats", "farg"]
    assert fields[1]["choices"] == ["Ja", "Nej"]
    assert page_log.foreign_requests(live_url) == []
    assert page_log.csp_errors() == []


def test_an_agent_has_no_catalogue(page, sign_in, catalogue):
    sign_in(page, AGENT)
    page.goto("/")
    navigation = page.get_by_role("navigation", name=sv("Main navigation"))
    expect(navigation.get_by_role("link", name=sv("Service catalogue"))).to_have_count(0)
    response = page.goto("/catalogue/")
    assert response is not None and response.status == 403
