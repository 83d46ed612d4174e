"""Baking every supported option set: the output is complete, rendered, lint-clean and green."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import OPTION_SETS, run

EXPECTED_FILES = [
    ".env",
    ".env.example",
    ".gitignore",
    ".gitattributes",
    ".editorconfig",
    ".python-version",
    ".github/workflows/ci.yml",
    "Dockerfile",
    "README.md",
    "alembic.ini",
    "pyproject.toml",
    "docs/architecture.md",
    "migrations/env.py",
    "src/my_service/main.py",
    "src/my_service/settings.py",
    "src/my_service/api.py",
    "src/my_service/core/errors.py",
    "src/my_service/core/repository.py",
    "src/my_service/items/router.py",
    "src/my_service/items/service.py",
    "src/my_service/auth/tokens.py",
    "src/my_service/auth/permissions.py",
    "src/my_service/users/router.py",
    "tests/conftest.py",
    "tests/items/test_api.py",
]
UNRENDERED = re.compile(r"\{\{|\{%|cookiecutter\.")


def text_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            yield path


def test_default_bake_has_the_expected_files(bake: Callable[..., Path]) -> None:
    project = bake()

    assert project.name == "my-service"
    missing = [name for name in EXPECTED_FILES if not (project / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_nothing_is_left_unrendered(bake: Callable[..., Path], option_set: str) -> None:
    project = bake(option_set)

    leftovers = [
        str(path.relative_to(project))
        for path in text_files(project)
        if UNRENDERED.search(path.read_text(encoding="utf-8"))
        and path.name != "ci.yml"  # GitHub Actions' ${{ }} is copied verbatim on purpose
    ]
    assert leftovers == []


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_python_version_drives_image_ci_and_pin(bake: Callable[..., Path], option_set: str) -> None:
    project = bake(option_set)
    version = OPTION_SETS[option_set].get("python_version", "3.12")

    assert (project / ".python-version").read_text(encoding="utf-8").strip() == version
    assert f"FROM python:{version}-slim" in (project / "Dockerfile").read_text(encoding="utf-8")
    assert "python-version-file: .python-version" in (
        project / ".github/workflows/ci.yml"
    ).read_text(encoding="utf-8")


def test_env_holds_a_fresh_secret_and_is_ignored(bake: Callable[..., Path]) -> None:
    project = bake()
    env = (project / ".env").read_text(encoding="utf-8")

    [secret] = re.findall(r"^SECRET_KEY=(.+)$", env, re.MULTILINE)
    assert len(secret) >= 43  # at least 32 random bytes, base64url-encoded
    assert secret not in (project / ".env.example").read_text(encoding="utf-8")
    assert ".env" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_output_passes_ruff_and_mypy_strict(
    bake: Callable[..., Path], service_env: Path, option_set: str
) -> None:
    project = bake(option_set)

    run([str(service_env / "ruff"), "check", "--no-cache", "."], project)
    run([str(service_env / "ruff"), "format", "--check", "--no-cache", "."], project)
    run([str(service_env / "mypy"), "--no-incremental"], project)


def test_baked_tests_pass_with_full_coverage_gate(
    bake: Callable[..., Path], service_env: Path
) -> None:
    output = run(
        [str(service_env / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], bake()
    )

    assert re.search(r"\d+ passed", output), output
    assert "failed" not in output
    assert "Required test coverage of 95% reached" in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(url)
        except OSError:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        else:
            return


def test_migrate_then_serve_answers_ready_and_docs(
    bake: Callable[..., Path], service_env: Path, tmp_path: Path
) -> None:
    project = bake()
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
    }
    run([str(service_env / "alembic"), "upgrade", "head"], project, env)
    port = str(_free_port())
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    command = [str(service_env / "python"), "-m", "my_service", "serve", "--port", port]
    with log.open("wb") as log_file:
        server = subprocess.Popen(command, cwd=project, env=env, stdout=log_file, stderr=log_file)
        try:
            _wait_until_serving(f"{base}/health/live", server, log)
            assert _get(f"{base}/health/ready") == (200, '{"status":"ok"}')
            docs_status, docs = _get(f"{base}/docs")
            assert docs_status == 200
            assert "swagger-ui" in docs
            assert _create_item_as_a_new_user(base) == 201
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert '"event": "request"' in log.read_text()


def _create_item_as_a_new_user(base: str) -> int:
    account = {"email": "ada@example.com", "password": "correct-horse-battery", "full_name": "A"}
    _request(f"{base}/api/v1/auth/register", json.dumps(account).encode(), "application/json")
    form = urllib.parse.urlencode({"username": account["email"], "password": account["password"]})
    _, tokens = _request(
        f"{base}/api/v1/auth/login", form.encode(), "application/x-www-form-urlencoded"
    )
    status, _ = _request(
        f"{base}/api/v1/items",
        b'{"name": "mug", "price_cents": 5}',
        "application/json",
        token=json.loads(tokens)["access_token"],
    )
    return status


def _request(url: str, body: bytes, content_type: str, token: str = "") -> tuple[int, str]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
        return response.status, response.read().decode()
