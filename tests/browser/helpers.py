"""What the browser tests share: ORM calls off Playwright's thread, a browser context that
reports CSP refusals and console errors, and signing an agent in."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection

# Runs in every document before its own scripts: records what the policy refused. (The tests
# wait with locators, not string predicates: Playwright evaluates those with eval, which the
# policy refuses too.)
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    e.violatedDirective + " refused " + (e.blockedURI || "inline") + " at " +
    e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
}, true);
"""

# A phone: what a customer (and an agent on the move) sees.
PHONE_VIEWPORT: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


def _orm(function: Callable[[], Any]) -> Any:
    """Run ORM code off this thread: Playwright's event loop runs here, and Django refuses
    database calls from a thread with a running loop."""

    def run() -> Any:
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


class Watched:
    """A browser context whose pages report CSP refusals, console complaints and errors.
    `options` go to `browser.new_context` (a viewport, a locale)."""

    def __init__(self, browser: Any, **options: Any) -> None:
        self.context = browser.new_context(**options)
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.problems: list[str] = []

    def page(self) -> Any:
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        return page

    def _console(self, message: Any) -> None:
        # Chromium may ask for /favicon.ico by itself (a redirect to the SVG icon).
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def assert_clean(self, page: Any) -> None:
        """Nothing refused or broken in the page's current document (or before it)."""
        violations = page.evaluate("window.__cspViolations")
        assert violations == [], f"{page.url}: {violations}"
        assert self.problems == [], f"{page.url}: {self.problems}"


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
