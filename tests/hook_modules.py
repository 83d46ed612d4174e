"""Import the hooks as modules: they are plain Python until cookiecutter renders them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HOOKS = Path(__file__).resolve().parents[1] / "hooks"


def load(name: str) -> ModuleType:
    """Import `hooks/<name>.py` under its own name."""
    spec = importlib.util.spec_from_file_location(name, HOOKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


pre_gen = load("pre_gen_project")
post_gen = load("post_gen_project")
