"""The real post-generation hook, end to end: install, test, report; and offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import checked_context, git


def test_hook_installs_the_service_and_runs_its_tests(
    cookies: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    result = cookies.bake(extra_context=checked_context({"run_tests": True, "init_git": True}))

    assert result.exit_code == 0, capfd.readouterr()
    assert result.exception is None
    project = Path(result.project_path)
    out = capfd.readouterr().out
    assert re_summary(out), out
    assert (project / ".venv" / "bin" / "python").exists()
    assert (project / "uv.lock").exists()
    status = git(project, "status", "--porcelain", "--ignored")
    assert "!! .env" in status
    tracked = git(project, "ls-files").split()
    assert "uv.lock" in tracked


def re_summary(out: str) -> bool:
    return any(
        line.startswith("my-service: ") and " passed in " in line and line.endswith(" s")
        for line in out.splitlines()
    )


def test_hook_offline_keeps_the_project_and_exits_0(
    cookies: Any, capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")

    result = cookies.bake(extra_context=checked_context({"run_tests": True, "init_git": False}))

    assert result.exit_code == 0
    assert result.exception is None
    out = capfd.readouterr().out
    assert "Could not install my-service's dependencies" in out
    assert "uv sync && uv run pytest" in out
    assert (Path(result.project_path) / "src" / "my_service" / "main.py").exists()
    assert os.environ["UV_OFFLINE"] == "1"
