"""The real post-generation hook, end to end: install, test, report; and offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COOKIECUTTER_JSON, TEMPLATE, checked_context, git, run
from tests.hook_modules import post_gen


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
    summary = re.compile(r"my-service: \d+ passed(, \d+ skipped)?(, \d+ deselected)? in [\d.]+ s")
    return any(summary.fullmatch(line) for line in out.splitlines())


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


def _real(command: str) -> Path:
    """The file behind `command`: past pyenv's shims, which are scripts, not links."""
    found = os.environ.get("UV") if command == "uv" else shutil.which(command)
    assert found, f"{command} is not installed"
    return Path(found).resolve()


def _interpreter(python: str) -> Path:
    """The interpreter that `python` runs, as it names itself."""
    named = subprocess.run(
        [python, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(named).resolve()


def fake_pyenv(root: Path, versions: dict[str, list[Path]]) -> dict[str, str]:
    """A pyenv root whose versions hold only the given executables; its first is global.

    Returns the environment of a shell in which pyenv manages `python3`, as on many
    developers' machines: the shims first on PATH, no other Python or uv there.
    """
    for version, executables in versions.items():
        bin_dir = root / "versions" / version / "bin"
        bin_dir.mkdir(parents=True)
        for executable in executables:
            names = [executable.name]
            if executable.name.startswith("python3."):
                names += ["python3", "python"]
            for name in names:
                (bin_dir / name).symlink_to(executable)
    (root / "version").write_text(f"{next(iter(versions))}\n")
    pyenv = _real("pyenv")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYENV", "UV"))}
    env.pop("VIRTUAL_ENV", None)
    env |= {
        "PYENV_ROOT": str(root),
        "PATH": os.pathsep.join([str(root / "shims"), str(pyenv.parent), "/usr/bin", "/bin"]),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    subprocess.run([str(pyenv), "rehash"], env=env, check=True)
    return env


@pytest.mark.skipif(shutil.which("pyenv") is None, reason="needs pyenv")
@pytest.mark.parametrize("chosen", ["installed", "absent"])
def test_uv_works_in_a_bake_on_a_pyenv_machine(tmp_path: Path, chosen: str) -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    others = [v for v in COOKIECUTTER_JSON["python_version"] if v != running]
    installed = next((v for v in others if post_gen.find_python(v)), None)
    if installed is None:
        pytest.skip(f"needs a second Python among {others}")
    chosen_version = (
        installed if chosen == "installed" else next(v for v in others if v != installed)
    )
    # uv was installed with pip into the global Python, as `pip install uv` does under pyenv.
    global_python = _interpreter(sys.executable)
    env = fake_pyenv(
        tmp_path / "pyenv",
        {
            f"{running}.99": [global_python, _real("uv")],
            f"{installed}.99": [_interpreter(str(post_gen.find_python(installed)))],
        },
    )
    bake = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(tmp_path),
            str(TEMPLATE),
            f"python_version={chosen_version}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bake.returncode == 0, bake.stdout + bake.stderr
    project = tmp_path / "my-service"
    if chosen == "absent":
        assert f"warning: Python {chosen_version} was not found" in bake.stderr
        assert f"use Python {chosen_version}" in bake.stderr

    # What the hook's "Next:" line and the baked README run, offline.
    for command in (
        ["uv", "sync", "--offline"],
        ["uv", "run", "--offline", "pytest", "-q", "-p", "no:cacheprovider"],
        ["uv", "run", "--offline", "alembic", "upgrade", "head"],
    ):
        run(command, project, env)
    venv_python = subprocess.run(
        [".venv/bin/python", "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert venv_python == (installed if chosen == "installed" else running)
