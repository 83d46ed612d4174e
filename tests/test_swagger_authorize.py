"""In a real browser and with no network beyond the service, its docs pages work.

Swagger UI's Authorize button logs in and authorizes "Try it out", and ReDoc renders the API,
from the baked service exactly as it serves them. A test fails if its page tried to reach any
host but the service: such requests are aborted and recorded, and so are those the pages'
Content-Security-Policy stopped before they were sent.

Needs Debian's chromium. Outside CI the tests are skipped when it is missing; `.ci/run`
installs it, and under CI a missing browser fails the tests instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_tool
from tests.serving import ACCOUNT, Served, get, register, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVICE_HOSTS = {"127.0.0.1", "localhost"}
# ReDoc always asks cdn.redoc.ly for Redocly's logo; the page's policy stops it unsent.
EXPECTED_POLICY_BLOCKS = {"img-src https://cdn.redoc.ly/redoc/logo-mini.svg"}
REPORT_POLICY_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) =>
    reportPolicyViolation(`${event.effectiveDirective} ${event.blockedURI}`));
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, driven by Playwright, shared by the tests of this module."""
    require_tool(Path(CHROMIUM).exists(), "chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(
    bake: Callable[..., Path], service_env: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The default bake, migrated and running under its own server command."""
    with serving(bake(), service_env, tmp_path_factory.mktemp("served")) as running:
        yield running


@contextmanager
def offline_page(browser: Any) -> Iterator[Any]:
    """A page that may reach only the service; the test fails if it tried anything else.

    Requests to other hosts are aborted and recorded. The docs pages' Content-Security-Policy
    stops some before they are sent; its reports are recorded too, so a policy that blocks
    what the page needs fails the test as well. The check runs however the test ends, so a
    page left blank by a blocked script names the script, not only the timeout that followed.
    """
    context = browser.new_context()
    outside: list[str] = []
    blocked: list[str] = []

    def allow_only_the_service(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in SERVICE_HOSTS:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    def record_policy_violation(violation: str) -> None:
        blocked.append(violation)

    context.route("**/*", allow_only_the_service)
    context.expose_function("reportPolicyViolation", record_policy_violation)
    context.add_init_script(REPORT_POLICY_VIOLATIONS)
    try:
        yield context.new_page()
    finally:
        context.close()
        unexpected = sorted(set(blocked) - EXPECTED_POLICY_BLOCKS)
        if outside or unexpected:
            pytest.fail(
                f"requests to other hosts: {outside}; blocked by the page's policy: {unexpected}"
            )


def test_authorize_logs_in_and_try_it_out_sends_the_token(browser: Any, served: Served) -> None:
    register(served.base)
    with offline_page(browser) as page:
        page.goto(f"{served.base}/docs")

        page.locator("button.authorize").first.click()
        page.fill("#oauth_username", ACCOUNT["email"])
        page.fill("#oauth_password", ACCOUNT["password"])
        page.locator(".auth-btn-wrapper button.authorize").click()
        page.get_by_text("Authorized", exact=True).wait_for()
        page.locator(".auth-btn-wrapper button.btn-done").click()

        operation = page.locator("#operations-users-read_me_api_v1_users_me_get")
        operation.click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        body = operation.locator(".live-responses-table .response-col_description pre")
        body.first.wait_for()
        me = json.loads(body.first.inner_text())

    assert me["email"] == ACCOUNT["email"]
    log = served.log.read_text()
    assert '"event": "login_succeeded"' in log
    assert re.search(r'"route": "/api/v1/users/me", [^\n]*"status": 200', log)


def test_redoc_renders_the_api(browser: Any, served: Served) -> None:
    status, document = get(f"{served.base}/openapi.json")
    assert status == 200
    summary = json.loads(document)["paths"]["/api/v1/users/me"]["get"]["summary"]

    with offline_page(browser) as page:
        page.goto(f"{served.base}/redoc")
        # ReDoc titles each operation with its summary, once the script has read the document.
        page.locator("h2").get_by_text(summary, exact=True).wait_for()
