"""Run a baked service under its real server command, for tests that talk to it over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import run

ACCOUNT = {"email": "ada@example.com", "password": "correct-horse-battery", "full_name": "Ada"}


@dataclass(frozen=True)
class Served:
    """A running service: where it listens and where it logs."""

    base: str
    log: Path


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str) -> tuple[int, str]:
    """GET `url`; the status and body, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, body: bytes, content_type: str, token: str = "") -> tuple[int, str]:
    """POST `body` to `url`; the status and body."""
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
        return response.status, response.read().decode()


def register(base: str) -> None:
    """Register `ACCOUNT` with the service at `base`."""
    post(f"{base}/api/v1/auth/register", json.dumps(ACCOUNT).encode(), "application/json")


def register_and_login(base: str) -> str:
    """Register `ACCOUNT` and return an access token for it."""
    register(base)
    form = urllib.parse.urlencode({"username": ACCOUNT["email"], "password": ACCOUNT["password"]})
    _, tokens = post(
        f"{base}/api/v1/auth/login", form.encode(), "application/x-www-form-urlencoded"
    )
    token: str = json.loads(tokens)["access_token"]
    return token


@contextmanager
def serving(project: Path, service_env: Path, workdir: Path) -> Iterator[Served]:
    """Migrate a fresh database, start `<package> serve`, stop it on exit."""
    package = next((project / "src").iterdir()).name
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'served.db'}",
        "LOG_JSON": "true",  # the bake's own .env asks for readable lines
    }
    run([str(service_env / "alembic"), "upgrade", "head"], project, env)
    port = str(free_port())
    served = Served(base=f"http://127.0.0.1:{port}", log=workdir / "server.log")
    command = [str(service_env / "python"), "-m", package, "serve", "--port", port]
    with served.log.open("wb") as log_file:
        server = subprocess.Popen(command, cwd=project, env=env, stdout=log_file, stderr=log_file)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    get(f"{served.base}/health/live")
                    break
                except OSError:
                    assert server.poll() is None, served.log.read_text()
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            yield served
        finally:
            server.terminate()
            server.wait(timeout=10)
