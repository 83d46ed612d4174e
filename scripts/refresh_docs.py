"""Regenerate the documents a bake ships that its code also produces: `docs/openapi.json`.

`uv run python -m scripts.refresh_docs` bakes the default set, exports its OpenAPI document
with the service's own `openapi` command, turns the default answers in it back into the
template's variables, and writes it into the template. Run it after changing the API: every
baked suite fails while the document it ships is stale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
TARGET = TEMPLATE / "{{cookiecutter.project_slug}}" / "docs" / "openapi.json"
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
SLUG = "my-service"


def templated(document: dict[str, object]) -> str:
    """The document as the template holds it: the default answers as variables."""
    info = document["info"]
    assert isinstance(info, dict)
    info |= {
        "title": "{{ cookiecutter.project_name }}",
        "version": "{{ cookiecutter.version }}",
        "description": "{{ cookiecutter.description }}",
    }
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    return text.replace(f"urn:{SLUG}:", "urn:{{ cookiecutter.project_slug }}:")


def main() -> int:
    """Bake, export, template, write; 0 on success."""
    env = {**os.environ, "BACKEND_TEMPLATE_SKIP_SETUP": "1", "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    with tempfile.TemporaryDirectory() as scratch:
        bake = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", scratch, str(TEMPLATE)]
        subprocess.run([*bake, "run_tests=false", "init_git=false"], env=env, check=True)
        project = Path(scratch) / SLUG
        exported = subprocess.run(
            ["uv", "run", "--quiet", SLUG, "openapi"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    document = json.loads(exported)
    assert document["info"]["title"] == DEFAULTS["project_name"], document["info"]
    TARGET.write_text(templated(document), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(TEMPLATE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
