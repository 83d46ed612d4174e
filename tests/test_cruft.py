"""`cruft create` then `cruft update`, offline, from a local git clone of this template."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEMPLATE, git, run

CRUFT = str(Path(sys.executable).with_name("cruft"))
IDENTITY = ["-c", "user.name=Template Maintainer", "-c", "user.email=maintainer@example.com"]
UPDATE_LINE = "A line the template added after the service was created."


def template_repository(destination: Path) -> Path:
    """This template's working tree as a fresh git repository with one commit."""
    shutil.copytree(
        TEMPLATE,
        destination,
        ignore=shutil.ignore_patterns(".git", ".venv", "*_cache", "__pycache__"),
    )
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, *IDENTITY, "commit", "--quiet", "-m", "Template")
    return destination


def status(project: Path) -> list[str]:
    """`git status --porcelain` of `project`, untracked and ignored-but-unexpected included."""
    return git(project, "status", "--porcelain", "--untracked-files=all").splitlines()


def test_cruft_create_then_update_applies_the_change_and_leaves_a_clean_tree(
    tmp_path: Path,
) -> None:
    template = template_repository(tmp_path / "template")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    # Install and tests are the hook's own tests' business; git and .env are what cruft meets.
    answers = json.dumps({"run_tests": False})
    run([CRUFT, "create", str(template), "--no-input", "--extra-context", answers], workspace)
    project = workspace / "my-service"

    assert status(project) == []
    assert ".cruft.json" in git(project, "ls-files").split()
    assert (project / ".env").is_file()
    env_before = (project / ".env").read_text(encoding="utf-8")

    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + f"\n{UPDATE_LINE}\n", encoding="utf-8")
    git(template, *IDENTITY, "commit", "--quiet", "--all", "-m", "Say more in the README")
    output = subprocess.run(
        [CRUFT, "update", "-y"], cwd=project, capture_output=True, text=True, check=False
    )

    assert output.returncode == 0, output.stdout + output.stderr
    assert "error" not in output.stderr.lower(), output.stderr
    assert UPDATE_LINE in (project / "README.md").read_text(encoding="utf-8")
    assert sorted(line[3:] for line in status(project)) == [".cruft.json", "README.md"]
    assert list(project.rglob("*.rej")) == []
    assert (project / ".env").read_text(encoding="utf-8") == env_before
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == git(template, "rev-parse", "HEAD").strip()
