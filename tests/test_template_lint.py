"""The template repository itself is lint-clean (the baked output is checked in test_bake)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import TEMPLATE, run


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
        ["mypy", "--no-incremental"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_template_repository_is_clean(command: list[str]) -> None:
    executable = shutil.which(command[0])
    assert executable, f"{command[0]} is not installed; run `uv sync`"

    run([executable, *command[1:]], TEMPLATE)
