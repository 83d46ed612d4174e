"""Regenerate the documents a bake ships that its code also produces: `docs/openapi.json`,
`docs/asyncapi.yaml` and `docs/errors.md`.

`uv run python -m scripts.refresh_docs` bakes the default set, exports them with the
service's own `openapi`, `asyncapi` and `errors` commands, turns the default answers in them
back into the template's variables, and writes them into the template. Run it after
changing the API, the messages or the error catalogue: every baked suite fails while a
document it ships is stale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
DOCS = TEMPLATE / "{{cookiecutter.project_slug}}" / "docs"
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
SLUG, SLUG_VARIABLE = "my-service", "{{ cookiecutter.project_slug }}"


def templated(document: dict[str, object]) -> str:
    """The document as the template holds it: the default answers as variables."""
    info = document["info"]
    assert isinstance(info, dict)
    info |= {
        "title": "{{ cookiecutter.project_name }}",
        "version": "{{ cookiecutter.version }}",
        "description": "{{ cookiecutter.description }}",
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def messages_templated(document: str) -> str:
    """The AsyncAPI document as the template holds it: the default answers as variables."""
    for answer, variable in (
        (f"{DEFAULTS['project_name']} messages", "{{ cookiecutter.project_name }} messages"),
        (f"version: {DEFAULTS['version']}", "version: {{ cookiecutter.version }}"),
        (DEFAULTS["description"], "{{ cookiecutter.description }}"),
    ):
        assert document.count(answer) == 1, answer
        document = document.replace(answer, variable)
    return document


def main() -> int:
    """Bake, export, template, write; 0 on success."""
    env = {**os.environ, "BACKEND_TEMPLATE_SKIP_SETUP": "1", "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    with tempfile.TemporaryDirectory() as scratch:
        bake = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", scratch, str(TEMPLATE)]
        subprocess.run([*bake, "run_tests=false", "init_git=false"], env=env, check=True)
        project = Path(scratch) / SLUG

        def export(command: str) -> str:
            return subprocess.run(
                ["uv", "run", "--quiet", SLUG, command],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout

        document, catalogue = json.loads(export("openapi")), export("errors")
        messages = export("asyncapi")
    assert document["info"]["title"] == DEFAULTS["project_name"], document["info"]
    written = {
        DOCS / "openapi.json": templated(document),
        DOCS / "errors.md": catalogue.replace(f"{SLUG} errors", f"{SLUG_VARIABLE} errors"),
        DOCS / "asyncapi.yaml": messages_templated(messages),
    }
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(TEMPLATE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
