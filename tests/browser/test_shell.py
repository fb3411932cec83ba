"""The shell of the application in a real browser: login, navigation, language, keyboard,
accessibility (axe-core, WCAG 2.1 AA), and the promise that no page talks to anyone but us."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .support import (
    DEMO_PASSWORD,
    HERRLJUNGA_REQUESTER,
    IT_MANAGER,
    VARGARDA_REQUESTER,
    PageLog,
)

pytestmark = pytest.mark.browser


def _path(page) -> str:
    return urlsplit(page.url).path


def _pk(email: str) -> int:
    from arende.core.models import User

    return User.objects.get(email=email).pk


def _organisation_pk(short_name: str) -> int:
    from arende.core.models import Organisation

    return Organisation.objects.get(short_name=short_name).pk


# --------------------------------------------------------------------------- login & home


def test_it_manager_logs_in_and_sees_home_with_navigation(page, login):
    login(page, IT_MANAGER)

    assert _path(page) == "/"
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    nav = page.locator("nav.main-nav")
    expect(nav).to_be_visible()
    hrefs = nav.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    # Other apps add entries (the service desk's, say); the IT manager's core ones must be
    # there in this order, and no Django admin (she is not staff).
    core = ["/", "/people/", "/organisations/", "/audit/", "/status/", "/api/docs/"]
    assert [href for href in hrefs if href in core] == core, hrefs
    assert hrefs[0] == "/", hrefs
    assert not any(href.startswith("/admin/") for href in hrefs), hrefs
    expect(nav.locator('a[href="/"]')).to_have_attribute("aria-current", "page")
    expect(nav.locator("a[aria-current]")).to_have_count(1)
    expect(page.locator(".user-menu__name")).to_have_text("Sara Lindqvist")
    expect(page.locator('form[action="/accounts/logout/"] button')).to_have_text("Logga ut")
    expect(page.locator("main h1")).to_have_count(1)


def test_wrong_password_shows_an_error_and_stays_on_login(page):
    page.goto("/accounts/login/")
    page.fill("#id_login", IT_MANAGER)
    page.fill("#id_password", "not-the-password")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")

    assert _path(page) == "/accounts/login/"
    error = page.locator("form.form .form-errors[role=alert]")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.locator("#id_login")).to_have_value(IT_MANAGER)
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.locator("nav.main-nav")).to_have_count(0)

    page.goto("/")
    assert _path(page) == "/accounts/login/", "a failed login must not leave a session"


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("who", "start", "probe", "swedish", "english"),
    [
        (None, "/accounts/login/", "form.form button[type=submit]", "Logga in", "Log in"),
        (
            IT_MANAGER,
            "/people/",
            'form[action="/accounts/logout/"] button',
            "Logga ut",
            "Log out",
        ),
    ],
    ids=["logged-out", "logged-in"],
)
def test_language_switch_to_english_and_back(page, login, who, start, probe, swedish, english):
    if who:
        login(page, who)
    page.goto(start)
    html = page.locator("html")
    sv = page.locator("button[name=language][value=sv]")
    en = page.locator("button[name=language][value=en]")

    # Swedish by default, although the browser asks for English (locale en-GB).
    expect(html).to_have_attribute("lang", "sv")
    expect(sv).to_have_attribute("aria-pressed", "true")
    expect(en).to_have_attribute("aria-pressed", "false")
    expect(page.locator(probe)).to_have_text(swedish)

    with page.expect_navigation():
        en.click()
    assert _path(page) == start, "the switch returns to the page it was used on"
    expect(html).to_have_attribute("lang", "en")
    expect(en).to_have_attribute("aria-pressed", "true")
    expect(sv).to_have_attribute("aria-pressed", "false")
    expect(page.locator(probe)).to_have_text(english)

    with page.expect_navigation():
        sv.click()
    assert _path(page) == start
    expect(html).to_have_attribute("lang", "sv")
    expect(sv).to_have_attribute("aria-pressed", "true")
    expect(en).to_have_attribute("aria-pressed", "false")
    expect(page.locator(probe)).to_have_text(swedish)


# --------------------------------------------------------------------------- keyboard


@pytest.mark.parametrize(
    ("who", "path"), [(None, "/accounts/login/"), (IT_MANAGER, "/")], ids=["login", "home"]
)
def test_first_tab_focuses_skip_link_which_moves_focus_to_main(page, login, who, path):
    if who:
        login(page, who)
    page.goto(path)

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_attribute("href", "#main")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["width"] > 1 and box["height"] > 1, (
        f"the focused skip link must be on screen, its box is {box}"
    )

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # Sequential navigation now continues inside main, past the header.
    page.keyboard.press("Tab")
    inside_main = page.evaluate(
        "() => document.querySelector('main').contains(document.activeElement)"
    )
    assert inside_main, "Tab after the skip link should reach the first control inside main"


# --------------------------------------------------------------------------- every page


@dataclass(frozen=True)
class PageSpec:
    name: str
    user: str | None
    path: str
    status: int = 200
    ready: str | None = None  # selector to wait for when the page renders with JavaScript
    reauthenticate: bool = False  # allauth asks for the password again before this page

    def url(self) -> str:
        return self.path.format(
            person=_pk(HERRLJUNGA_REQUESTER) if "{person}" in self.path else "",
            organisation=_organisation_pk("Herrljunga") if "{organisation}" in self.path else "",
        )


PAGES = [
    PageSpec("login", None, "/accounts/login/"),
    PageSpec("password-reset", None, "/accounts/password/reset/"),
    PageSpec("home", IT_MANAGER, "/"),
    PageSpec("people", IT_MANAGER, "/people/"),
    PageSpec("person", IT_MANAGER, "/people/{person}/"),
    PageSpec("organisations", IT_MANAGER, "/organisations/"),
    PageSpec("organisation", IT_MANAGER, "/organisations/{organisation}/"),
    PageSpec("audit-log", IT_MANAGER, "/audit/"),
    PageSpec("system-status", IT_MANAGER, "/status/"),
    PageSpec("change-password", IT_MANAGER, "/accounts/password/change/"),
    PageSpec("two-factor", IT_MANAGER, "/accounts/2fa/"),
    PageSpec("reauthenticate", IT_MANAGER, "/accounts/reauthenticate/"),
    PageSpec("totp-activate", IT_MANAGER, "/accounts/2fa/totp/activate/", reauthenticate=True),
    PageSpec("api-docs", IT_MANAGER, "/api/docs/", ready=".swagger-ui .opblock"),
    PageSpec("not-found", IT_MANAGER, "/no-such-page/", status=404),
    PageSpec("requester-home", HERRLJUNGA_REQUESTER, "/"),
    # Queues, an SLA alarm tile and an overdue follow-up action of his own.
    PageSpec("change-manager-home", "peter.dahl@it.herrljunga.example", "/"),
    PageSpec("forbidden", HERRLJUNGA_REQUESTER, "/audit/", status=403),
]


def _open(page, sign_in, spec: PageSpec, screenshot=None) -> None:
    """Sign in as the spec's person, open the page, check it is the page we asked for.

    With ``screenshot`` the page is photographed before any check, so a broken page is
    photographed too."""
    if spec.user:
        sign_in(page, spec.user)
    url = spec.url()
    response = page.goto(url)
    if spec.reauthenticate and _path(page) == "/accounts/reauthenticate/":
        page.fill("#id_password", DEMO_PASSWORD)
        with page.expect_navigation() as navigation:
            page.locator("main form button[type=submit]").click()
        response = navigation.value
    assert response is not None
    try:
        if spec.ready and response.ok:
            page.wait_for_selector(spec.ready)
            page.wait_for_load_state("networkidle")
    finally:
        if screenshot:
            screenshot(page, spec.name)
    assert response.status == spec.status, f"{url} answered {response.status}"
    assert _path(page) == urlsplit(url).path, f"{url} ended up at {page.url}"


@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_page_has_no_axe_violations(page, sign_in, assert_accessible, screenshot, spec):
    _open(page, sign_in, spec, screenshot)
    assert_accessible(page)


@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_page_stays_on_our_origin_and_within_its_csp(page, page_log, sign_in, live_url, spec):
    _open(page, sign_in, spec)
    page.wait_for_load_state("networkidle")  # whatever the page fetches after "load" counts too

    foreign = page_log.foreign_requests(live_url)
    assert foreign == [], f"requests left {live_url}:\n" + "\n".join(foreign)
    csp = page_log.csp_errors()
    assert csp == [], "Content-Security-Policy violations:\n" + "\n".join(csp)
    # The recording works, so the empty lists above mean something.
    assert any(url.startswith(live_url) for url in page_log.requests)


# --------------------------------------------------------------------------- scoping


def test_vargarda_requester_gets_404_for_a_herrljunga_person(page, login):
    login(page, VARGARDA_REQUESTER)
    own = page.goto(f"/people/{_pk(VARGARDA_REQUESTER)}/")
    assert own is not None and own.status == 200, "control: a requester can open their own page"

    unknown = page.goto("/no-such-page/")
    assert unknown is not None and unknown.status == 404
    not_found_heading = page.locator("main h1").inner_text()

    response = page.goto(f"/people/{_pk(HERRLJUNGA_REQUESTER)}/")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main h1")).to_have_text(not_found_heading)
    expect(page.locator("main")).not_to_contain_text("Astrid")
    expect(page.locator("main")).not_to_contain_text("Andersson")


# --------------------------------------------------------------------------- the checks


def test_the_checks_can_fail(page, page_log, assert_accessible):
    """An empty violation list means something only if the same checks catch a broken page."""
    page.goto("/accounts/login/")
    assert page_log.csp_errors() == []

    # A form field that lost its label, and an inline <style> that the CSP must refuse.
    page.evaluate("() => document.querySelector('label[for=id_login]').remove()")
    page.evaluate(
        "() => document.head.appendChild("
        "Object.assign(document.createElement('style'), {textContent: 'body {}'}))"
    )
    with pytest.raises(AssertionError, match=r"(?s)\blabel\b.*#id_login"):
        assert_accessible(page)
    for _ in range(40):  # the violation is reported asynchronously
        if any("style-src" in error for error in page_log.csp_errors()):
            break
        page.wait_for_timeout(50)
    assert any("style-src" in error for error in page_log.csp_errors()), page_log.csp_errors()


def test_foreign_requests_are_recognised():
    log = PageLog(
        requests=[
            "http://127.0.0.1:8123/",
            "http://127.0.0.1:8123/static/css/arende.css",
            "data:image/svg+xml;base64,PHN2Zz4=",
            "http://localhost:8123/",
            "http://127.0.0.1:9999/",
            "https://127.0.0.1:8123/",
            "https://cdn.example.org/swagger-ui.css",
        ]
    )
    assert log.foreign_requests("http://127.0.0.1:8123") == [
        "http://localhost:8123/",
        "http://127.0.0.1:9999/",
        "https://127.0.0.1:8123/",
        "https://cdn.example.org/swagger-ui.css",
    ]
