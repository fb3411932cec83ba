"""Constants and plain helpers of the browser tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SOURCE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOT_DIR = Path("/tmp/shots-browser")  # noqa: S108 - for people to look at, not the repo

# The demo world (arende.core.demo.seed), seeded once with this password.
DEMO_PASSWORD = "browser-demo-password"
IT_MANAGER = "sara.lindqvist@it.herrljunga.example"
AGENT = "erik.nystrom@it.herrljunga.example"
ADMIN = "karin.holm@it.herrljunga.example"
HERRLJUNGA_REQUESTER = "astrid.andersson@herrljunga.example"
VARGARDA_REQUESTER = "jakob.johansson@vargarda.example"

# Runs in every document before the page's own scripts and reports through an exposed
# binding, so violations survive navigations. Injected over CDP: not subject to the CSP.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__arendeCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""

# Only the violations cross the wire: the full result (passes, inapplicable, ...) is megabytes
# on a long table and makes the run several times slower. resultTypes changes what is
# reported, not what is checked.
AXE_RUN = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target, html: n.html, failureSummary: n.failureSummary})),
  }));
}
"""


@dataclass
class PageLog:
    """What a test's browser context did: every request URL, console errors, CSP violations."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests that left the live server (data:, blob: and about: never leave the page)."""
        allowed = urlsplit(origin)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if (parts.scheme, parts.netloc) != (allowed.scheme, allowed.netloc):
                foreign.append(url)
        return foreign

    def csp_errors(self) -> list[str]:
        """Console errors that mention the Content Security Policy, and violation events."""
        mentions = [e for e in self.console_errors if "content security policy" in e.lower()]
        return mentions + [f"securitypolicyviolation: {v}" for v in self.csp_violations]


def format_violations(violations: list[dict]) -> str:
    """axe's violations as lines a person can act on: rule, impact, selector, snippet."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            target = " ".join(t if isinstance(t, str) else json.dumps(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary}")
            lines.append(f"       {node['html'][:200]}")
    return "\n".join(lines)


def open_all_details(page) -> None:
    """Open every <details>, so that axe also checks what they hold (closed, it is not shown)."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    # The ticket page's action panels fetch their forms when opened; check them loaded.
    page.wait_for_function("() => !document.querySelector('.action-panel__fallback')")


def login(page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form; fails loudly if the app stays on the login page."""
    page.goto("/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    if urlsplit(page.url).path.startswith("/accounts/login/"):
        errors = page.locator(".form-errors, .field-error").all_inner_texts()
        raise AssertionError(f"Logging in as {email} failed: {errors or 'no error shown'}")


def record_context(context, log: PageLog) -> None:
    """Record what another browser context does into ``log``, as the ``page`` fixture does for
    the test's own context: every request, and CSP violations reported by ``CSP_LISTENER``.
    (For tests that need a second person, or the same person twice, at the same moment.)"""
    context.on("request", lambda request: log.requests.append(request.url))
    context.expose_binding(
        "__arendeCspViolation", lambda _source, text: log.csp_violations.append(text)
    )
    context.add_init_script(CSP_LISTENER)


def record_console(page, log: PageLog) -> None:
    """Record the console errors and uncaught exceptions of ``page`` into ``log``."""

    def on_console(message) -> None:
        if message.type == "error":
            log.console_errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: log.console_errors.append(f"{page.url}: {error}"))
