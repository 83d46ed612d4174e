"""The ASGI entry point that servers load: `{{ cookiecutter.package_name }}.main:app`."""

import gc
import runpy

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }} import application
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture(autouse=True)
def steps(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> list[str]:
    """What importing the entry point did, in order: the app is built from the test's
    settings, and the collector's calls are recorded rather than made, so that the test
    process's own collector is left as it was."""
    done: list[str] = []
    create_app = application.create_app

    def recorded_create_app() -> FastAPI:
        done.append("create_app")
        return create_app()

    def collect() -> int:
        done.append("collect")
        return 0

    def freeze() -> None:
        done.append("freeze")

    monkeypatch.setattr(application, "get_settings", lambda: settings)
    monkeypatch.setattr(application, "create_app", recorded_create_app)
    monkeypatch.setattr(gc, "collect", collect)
    monkeypatch.setattr(gc, "freeze", freeze)
    return done


def test_servers_get_the_app_built_from_the_environment(settings: Settings) -> None:
    app = runpy.run_module("{{ cookiecutter.package_name }}.main")["app"]

    assert isinstance(app, FastAPI)
    assert app.state.settings is settings


def test_what_the_server_built_at_start_is_left_out_of_garbage_collection(
    steps: list[str],
) -> None:
    runpy.run_module("{{ cookiecutter.package_name }}.main")

    # Garbage first, so that none is kept for good; then everything built so far.
    assert steps == ["create_app", "collect", "freeze"]
