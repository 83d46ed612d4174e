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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import run

# Time to stop after SIGTERM: the default graceful shutdown (20 s) and a margin.
SHUTDOWN_SECONDS = 25
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


def request(
    method: str, url: str, body: bytes = b"", content_type: str = "", token: str = ""
) -> tuple[int, str]:
    """Send one request; the status and body, errors included."""
    headers = {"Content-Type": content_type} if content_type else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    outgoing = urllib.request.Request(url, data=body or None, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(outgoing, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get(url: str, token: str = "") -> tuple[int, str]:
    """GET `url`; the status and body, errors included."""
    return request("GET", url, token=token)


def post(url: str, body: bytes, content_type: str, token: str = "") -> tuple[int, str]:
    """POST `body` to `url`; the status and body, errors included."""
    return request("POST", url, body, content_type, token)


def register(base: str, account: dict[str, str] = ACCOUNT) -> None:
    """Register `account` with the service at `base`."""
    post(f"{base}/api/v1/auth/register", json.dumps(account).encode(), "application/json")


def register_and_login(base: str, account: dict[str, str] = ACCOUNT) -> str:
    """Register `account` and return an access token for it."""
    register(base, account)
    form = urllib.parse.urlencode({"username": account["email"], "password": account["password"]})
    status, tokens = post(
        f"{base}/api/v1/auth/login", form.encode(), "application/x-www-form-urlencoded"
    )
    assert status == 200, tokens
    token: str = json.loads(tokens)["access_token"]
    return token


def service_environment(project: Path, **settings: str) -> dict[str, str]:
    """The environment a baked service runs in here, with `settings` (name: value) added."""
    return {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "LOG_JSON": "true",  # the bake's own .env asks for readable lines
        # No relay beside the served processes: with a broker it would publish, under the
        # service's real prefix, to the broker the machine shares.
        "OUTBOX_RELAY_IN_PROCESS": "false",
        **settings,
    }


def migrate(project: Path, service_env: Path, env: Mapping[str, str]) -> None:
    """Bring the database `env` names to the latest revision."""
    run([str(service_env / "alembic"), "upgrade", "head"], project, env)


@contextmanager
def serve(
    project: Path,
    service_env: Path,
    env: Mapping[str, str],
    logs: list[Path],
    options: Sequence[str] = (),
) -> Iterator[list[Served]]:
    """Run `<package> serve [options]` once for each of `logs`, each on a free port, until the
    block ends; then send each SIGTERM and check that it stops within its graceful-shutdown
    time."""
    package = next((project / "src").iterdir()).name
    with ExitStack() as stack:
        started: list[tuple[subprocess.Popen[bytes], Served]] = []
        for log in logs:
            port = str(free_port())
            command = [str(service_env / "python"), "-m", package, "serve", "--port", port]
            command += options
            log_file = stack.enter_context(log.open("wb"))
            server = subprocess.Popen(
                command, cwd=project, env=env, stdout=log_file, stderr=log_file
            )
            stack.callback(server.wait, timeout=SHUTDOWN_SECONDS)
            stack.callback(server.terminate)
            started.append((server, Served(base=f"http://127.0.0.1:{port}", log=log)))
        for server, served in started:
            _until_live(server, served)
        yield [served for _, served in started]


def _until_live(server: subprocess.Popen[bytes], served: Served) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{served.base}/health/live")
            return
        except OSError:
            assert server.poll() is None, served.log.read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


@contextmanager
def serving(
    project: Path, service_env: Path, workdir: Path, options: Sequence[str] = ()
) -> Iterator[Served]:
    """Migrate a fresh SQLite database, start `<package> serve [options]`, stop it on exit."""
    env = service_environment(project, DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'served.db'}")
    migrate(project, service_env, env)
    with serve(project, service_env, env, [workdir / "server.log"], options) as (served,):
        yield served
