"""Every task of a bake's Makefile works on the bake, and its pre-commit hooks pass on it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import git, require_tool, run
from tests.hook_modules import post_gen
from tests.serving import free_port, get

TOOLS = Path(sys.executable).parent
# One worker runs them in order on one copy: the pre-commit hooks see the bake as baked,
# before `make format` touches it.
pytestmark = pytest.mark.xdist_group("task-runner")


@pytest.fixture(scope="module")
def project(bake: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the default bake, with a .venv of its own made by `make install`."""
    require_tool(shutil.which("make") is not None, "make (apt-get install make)")
    copy = tmp_path_factory.mktemp("tasks") / "my-service"
    shutil.copytree(bake(), copy)
    run(["make", "install"], copy, environment(copy))
    return copy


def environment(project: Path) -> dict[str, str]:
    """What the tasks run with: a database of their own, no Python downloads."""
    env: dict[str, str] = post_gen.child_env(
        UV_PYTHON_DOWNLOADS="never",
        DATABASE_URL=f"sqlite+aiosqlite:///{project / 'tasks.db'}",
        PRE_COMMIT_HOME=str(project.parent / "pre-commit"),
    )
    return env


def test_help_lists_every_task(project: Path) -> None:
    output = run(["make", "help"], project)

    assert [line.split("\t")[0] for line in output.splitlines()] == [
        "help", "install", "run", "test", "lint", "format", "migrate", "up",
    ]  # fmt: skip


def test_the_local_pre_commit_hooks_pass_on_a_fresh_bake(project: Path) -> None:
    # The hooks from GitHub cannot be fetched offline; the configuration is validated whole
    # and its local hooks (ruff and mypy in the project's environment) are run.
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    env = environment(project)
    run([str(TOOLS / "pre-commit"), "validate-config", ".pre-commit-config.yaml"], project, env)
    local = project / "local-hooks.yaml"
    local_repos = [repo for repo in config["repos"] if repo["repo"] == "local"]
    local.write_text(yaml.safe_dump({"repos": local_repos}), encoding="utf-8")
    git(project, "init", "-q")
    git(project, "add", "-A")

    output = run(
        [str(TOOLS / "pre-commit"), "run", "--all-files", "--config", str(local)], project, env
    )

    assert [hook["id"] for repo in local_repos for hook in repo["hooks"]] == [
        "ruff-check", "ruff-format", "mypy",
    ]  # fmt: skip
    assert output.count("Passed") == 3, output


def test_migrate_then_run_serves(project: Path) -> None:
    env = environment(project)
    run(["make", "migrate"], project, env)
    port = free_port()
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # make, uv and the reloader's children stop together
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert get(f"http://127.0.0.1:{port}/health/ready")[0] == 200
                break
            except OSError:
                assert server.poll() is None, "make run stopped"
                assert time.monotonic() < deadline, "make run did not start"
                time.sleep(0.2)
    finally:
        subprocess.run(["pkill", "-TERM", "-s", str(server.pid)], check=False)
        server.wait(timeout=30)


def test_format_leaves_nothing_for_lint_and_test_passes(project: Path) -> None:
    env = environment(project)

    run(["make", "format"], project, env)
    run(["make", "lint"], project, env)
    output = run(["make", "test"], project, env)

    assert " passed" in output
    assert re.search(r"Required test coverage of 95(\.0)?% reached", output), output


def test_up_starts_the_compose_file(project: Path) -> None:
    # No Docker daemon runs here: the command is checked, and compose.yaml by its schema.
    assert run(["make", "-n", "up"], project).strip() == "docker compose up --build"
