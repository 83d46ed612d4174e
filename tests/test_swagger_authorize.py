"""In a real browser, Swagger UI's Authorize button logs in and authorizes "Try it out".

Needs Debian's chromium and npm (for the swagger-ui-dist assets the docs page loads from a
CDN, served here from a local copy). Outside CI the test is skipped when they are missing;
`.ci/run` installs them, and under CI a missing tool fails the test instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.serving import ACCOUNT, register, serving

CHROMIUM = "/usr/bin/chromium"
SWAGGER_UI = "swagger-ui-dist@5"
CDN = re.compile(r"^https://(cdn\.jsdelivr\.net|fastapi\.tiangolo\.com)/")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require(condition: bool, what: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/run should have installed it")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def swagger_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local copy of the Swagger UI files the docs page would fetch from the CDN."""
    npm = shutil.which("npm")
    _require(npm is not None, "npm")
    assert npm is not None
    folder = tmp_path_factory.mktemp("swagger-ui")
    packed = subprocess.run(
        [npm, "pack", SWAGGER_UI, "--silent"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tarfile.open(folder / packed.splitlines()[-1]) as archive:
        archive.extractall(folder, filter="data")
    return folder / "package"


def test_authorize_logs_in_and_try_it_out_sends_the_token(
    bake: Callable[..., Path], service_env: Path, swagger_assets: Path, tmp_path: Path
) -> None:
    _require(Path(CHROMIUM).exists(), "chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")

    with serving(bake(), service_env, tmp_path) as served:
        register(served.base)
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.route(CDN, lambda route: _serve_local(route, swagger_assets))
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
            browser.close()

    assert me["email"] == ACCOUNT["email"]
    log = served.log.read_text()
    assert '"event": "login_succeeded"' in log
    assert re.search(r'"route": "/api/v1/users/me", [^\n]*"status": 200', log)


def _serve_local(route: object, assets: Path) -> None:
    """Answer a CDN request from the local copy (404 for anything not in it)."""
    name = route.request.url.rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    path = assets / name
    if path.is_file():
        route.fulfill(path=str(path))  # type: ignore[attr-defined]
    else:
        route.fulfill(status=404, body="")  # type: ignore[attr-defined]
