"""Shared fixtures: each option set is baked once per session and one environment serves all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.hook_modules import post_gen

TEMPLATE = Path(__file__).resolve().parents[1]
COOKIECUTTER_JSON = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))

# Every supported option set; the first is the defaults.
OPTION_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    # The longest package name allowed (40) catches lines that only fit for short names.
    "python-3.11": {
        "python_version": "3.11",
        "project_name": "Regional Customer Loyalty Reward Service",
    },
    "python-3.13": {"python_version": "3.13", "project_name": "Ledger"},
    # Rate limits and the cache in Redis; the baked tests use the Redis at REDIS_URL.
    "redis": {"redis": True},
    # PostgreSQL through asyncpg; the baked tests use the server at DATABASE_URL. With
    # OpenTelemetry traces.
    "postgresql": {"database": "postgresql", "observability": "prometheus+otel"},
    # Events and jobs through NATS JetStream, with the worker; the baked tests use the NATS
    # at BROKER_URL.
    "nats": {"messaging": "nats"},
    # Every option on: Redis, RabbitMQ, traces (Redis' too), Sentry and the Kubernetes
    # manifests.
    "postgresql-redis": {
        "database": "postgresql",
        "redis": True,
        "messaging": "rabbitmq",
        "observability": "prometheus+otel",
        "sentry": True,
        "kubernetes": True,
    },
}
NO_SETUP = {"run_tests": False, "init_git": False}


def checked_context(extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` after checking every key is a cookiecutter variable (unknown keys are ignored)."""
    unknown = set(extra) - set(COOKIECUTTER_JSON)
    assert not unknown, f"not in cookiecutter.json: {sorted(unknown)}"
    return dict(extra)


def run(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run `command`; fail the test with its output when it exits non-zero."""
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def require_tool(condition: bool, what: str) -> None:
    """Skip a test whose tool is missing; under CI, where `.ci/run` installs it, fail it."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/run should have installed it")
    pytest.skip(f"{what} is not installed")


def git(cwd: Path, *args: str) -> str:
    """Output of `git <args>` in `cwd`."""
    return run(["git", *args], cwd)


@pytest.fixture(scope="session")
def bake(cookies_session: Any) -> Callable[..., Path]:
    """Bake an option set once per session and return the project path."""
    cache: dict[str, Path] = {}

    def _bake(name: str = "defaults") -> Path:
        if name not in cache:
            result = cookies_session.bake(
                extra_context=checked_context({**NO_SETUP, **OPTION_SETS[name]})
            )
            assert result.exit_code == 0, result.exception
            assert result.exception is None
            cache[name] = Path(result.project_path)
        return cache[name]

    return _bake


@pytest.fixture(scope="session")
def service_env(bake: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One virtualenv with every runtime and dev dependency of every option set's service.

    The services' own code is found through `pythonpath` in their pytest and mypy settings,
    so bakes that differ only in names or optional dependencies share this environment
    without being installed.
    """
    requirements: set[str] = set()
    for name in OPTION_SETS:
        project = tomllib.loads((bake(name) / "pyproject.toml").read_text(encoding="utf-8"))
        requirements.update(project["project"]["dependencies"])
        requirements.update(project["dependency-groups"]["dev"])
    venv = tmp_path_factory.mktemp("service-env") / ".venv"
    uv = shutil.which("uv")
    assert uv, "uv is required: pip install uv"
    env = post_gen.child_env(UV_PYTHON_DOWNLOADS="never")
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], TEMPLATE, env)
    python = str(venv / "bin" / "python")
    install = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python]
    run([*install, *sorted(requirements)], TEMPLATE, env)
    return venv / "bin"
