"""The command line."""

import json
import runpy
from typing import Any

import pytest
import uvicorn

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.server import HardenedHttpToolsProtocol


def test_openapi_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    main(["openapi"])

    document = json.loads(capsys.readouterr().out)
    assert "/api/v1/items" in document["paths"]


def test_serve_runs_uvicorn_hardened_on_the_fast_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))

    main(["serve", "--port", "9001"])

    [(app, options)] = calls
    assert app == "{{ cookiecutter.package_name }}.main:app"
    assert (options["port"], options["loop"]) == (9001, "uvloop")
    assert options["http"] is HardenedHttpToolsProtocol
    assert (options["access_log"], options["server_header"]) == (False, False)


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit):
        main([])


def test_python_dash_m_runs_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["{{ cookiecutter.package_name }}", "--help"])

    with pytest.raises(SystemExit) as exited:
        runpy.run_module("{{ cookiecutter.package_name }}", run_name="__main__")

    assert exited.value.code == 0
