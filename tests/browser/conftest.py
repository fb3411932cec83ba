"""Browser tests: Debian's Chromium driven by Playwright against a live Ärende server.

How the database is set up, and why:

* pytest-django's ``live_server`` fixture forces ``transactional_db`` on every test that uses
  it, which flushes the database after each test. The demo world takes ~2 s to build, so
  seeding per test would make the suite slow; seeding in an overridden ``django_db_setup``
  would be wiped by the first flush and would leak the demo world into every other app's
  tests in the same session.
* So ``demo_server`` (package scope) seeds the demo world once, committed, into the test
  database and serves it with Django's ``LiveServerThread``, through pytest-django's
  ``LiveServer`` helper (which shares the in-memory SQLite connection with the server thread;
  on PostgreSQL the server simply opens its own connections). After the last browser test it
  stops the server and flushes the database as a ``TransactionTestCase`` would, so tests that
  run later find the usual empty, migrated database (post_migrate recreates the roles).
* pytest-django creates the test database only if some test asks for ``db``,
  ``transactional_db``, ``live_server`` or the ``django_db`` marker. The browser tests ask for
  ``db``, which is overridden here: it unblocks database access for the test (and the server
  thread answering it) without a per-test transaction. Without it nothing would create the
  test database and the seed would go to the development database; ``_assert_test_databases``
  refuses to seed or flush anything that does not look like a test database.
* Do not use ``transactional_db`` or ``django_db(transaction=True)`` in this package: the flush
  after such a test would remove the demo world from under the tests that follow.
* The tests are read-mostly: logging in writes a session and ``last_login``; the language
  switch only sets a cookie. Every test gets a fresh browser context.

Chromium is Debian's, at /usr/bin/chromium (never ``playwright install``). When it is missing
the suite is skipped, unless ARENDE_REQUIRE_BROWSER is set (CI sets it to 1): then it fails.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import support

# Playwright's sync API runs an asyncio loop in this thread; Django would then refuse ORM
# calls from fixtures and tests with SynchronousOnlyOperation.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def _browser_required() -> bool:
    return os.environ.get("ARENDE_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false")


# --------------------------------------------------------------------------- server & data


def _assert_test_databases() -> None:
    """Refuse to seed or flush anything but a test database (never the development one)."""
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        name = str(connection.settings_dict["NAME"])
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            continue
        if name == connection.settings_dict.get("TEST", {}).get("NAME"):
            continue
        if "test" in Path(name).name.lower():  # test_arende, or a test_*.sqlite3 file
            continue
        raise RuntimeError(
            f"Database {alias!r} is {name!r}, which does not look like a test database; "
            "the browser tests will not seed or flush it."
        )


def _wait_for_request_threads(timeout: float = 5.0) -> None:
    """Let the server's per-connection threads finish before the shared SQLite connection
    stops being shareable: each one closes "its" connection on the way out. They end when
    Chromium closes its keep-alive sockets, i.e. when the tests' contexts are closed."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture(scope="package")
def demo_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Seed the demo world once and serve it; yields the origin, e.g. http://127.0.0.1:PORT."""
    from django.core.management import call_command
    from django.db import connections
    from pytest_django.live_server_helper import LiveServer

    from arende.core.demo.seed import seed_demo

    with django_db_blocker.unblock():
        _assert_test_databases()
        seed_demo(password=support.DEMO_PASSWORD)
    # Requests reach the database only while a test runs, inside its ``db`` fixture.
    server = LiveServer("127.0.0.1:0")
    server._live_server_modified_settings.enable()
    try:
        yield server.url
    finally:
        server._live_server_modified_settings.disable()
        _wait_for_request_threads()
        server.stop()
        with django_db_blocker.unblock():
            _assert_test_databases()
            for alias in connections:
                call_command("flush", verbosity=0, interactive=False, database=alias)


@pytest.fixture
def db(django_db_blocker) -> Iterator[None]:
    """pytest-django's ``db``, overridden for the browser tests: database access WITHOUT a
    per-test transaction, because the live server must see the committed demo world.

    The name matters: it is how pytest-django knows to create the test database at all.
    """
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def live_url(db, demo_server) -> str:
    """The live server's origin; the test itself may read the database (ids of demo records)."""
    return demo_server


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not support.CHROMIUM.exists():
        if _browser_required():
            pytest.fail(f"ARENDE_REQUIRE_BROWSER is set but {support.CHROMIUM} is missing.")
        pytest.skip(
            f"Browser tests need Debian's Chromium at {support.CHROMIUM} (apt-get install "
            "chromium); with ARENDE_REQUIRE_BROWSER=1 its absence is a failure instead."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _browser_required():
            pytest.fail("ARENDE_REQUIRE_BROWSER is set but playwright is not installed.")
        pytest.skip("Browser tests need the playwright package (pip install -e '.[dev]').")

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(support.CHROMIUM), args=support.CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_log() -> support.PageLog:
    """Every request URL, console error and CSP violation of the test's browser context."""
    return support.PageLog()


@pytest.fixture
def page(browser, live_url, page_log):
    """A fresh context per test (no cookies). Its locale is English on purpose: the app must
    answer in Swedish all the same until the person chooses otherwise."""
    context = browser.new_context(
        base_url=live_url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    context.on("request", lambda request: page_log.requests.append(request.url))
    context.expose_binding(
        "__arendeCspViolation", lambda _source, text: page_log.csp_violations.append(text)
    )
    context.add_init_script(support.CSP_LISTENER)
    browser_page = context.new_page()

    def on_console(message) -> None:
        if message.type == "error":
            page_log.console_errors.append(f"{browser_page.url}: {message.text}")

    browser_page.on("console", on_console)
    browser_page.on(
        "pageerror", lambda error: page_log.console_errors.append(f"{browser_page.url}: {error}")
    )
    try:
        yield browser_page
    finally:
        context.close()


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, email)``: log in through the login form with the demo password."""
    return support.login


@pytest.fixture(scope="package")
def _session_cookies() -> dict[str, list[dict]]:
    return {}


@pytest.fixture
def sign_in(browser, live_url, _session_cookies) -> Callable[..., None]:
    """``sign_in(page, email)``: be logged in, without the form's round trips every time.

    The first call per person logs in through the form in a throwaway context and keeps the
    session cookie; later calls give that cookie to the test's fresh context. Tests about
    logging in use ``login``. Nothing in the suite logs out or rotates a session key.
    """
    from django.conf import settings

    def sign_in(page, email: str) -> None:
        if email not in _session_cookies:
            context = browser.new_context(base_url=live_url)
            try:
                support.login(context.new_page(), email)
                _session_cookies[email] = [
                    cookie
                    for cookie in context.cookies()
                    if cookie["name"] == settings.SESSION_COOKIE_NAME
                ]
            finally:
                context.close()
        page.context.add_cookies(_session_cookies[email])

    return sign_in


@pytest.fixture(scope="session")
def axe_source() -> str:
    return support.AXE_SOURCE.read_text(encoding="utf-8")


@pytest.fixture
def assert_accessible(axe_source) -> Callable[..., None]:
    """``assert_accessible(page)``: axe-core, WCAG 2.0/2.1 A and AA; no violation allowed."""

    def check(page) -> None:
        # page.evaluate goes over CDP, which the page's Content-Security-Policy does not
        # govern; a <script> tag (add_script_tag) would be refused by script-src 'self'.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        violations = page.evaluate(support.AXE_RUN, support.AXE_TAGS)
        assert violations == [], (
            f"axe found {len(violations)} accessibility violation(s) on {page.url}:\n"
            + support.format_violations(violations)
        )

    return check


@pytest.fixture
def screenshot() -> Callable[..., None]:
    """``screenshot(page, name)``: a full-page PNG in /tmp/shots-browser/ for people to see."""

    def take(page, name: str) -> None:
        support.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        page.screenshot(path=str(support.SCREENSHOT_DIR / f"{safe}.png"), full_page=True)

    return take
