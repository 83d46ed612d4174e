"""The ASGI entry point that servers load: `{{ cookiecutter.package_name }}.main:app`."""

import gc
import runpy
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }} import application
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """The collector as it was, after a test that imports the entry point."""
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_servers_get_the_app_built_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setattr(application, "get_settings", lambda: settings)

    app = runpy.run_module("{{ cookiecutter.package_name }}.main")["app"]

    assert isinstance(app, FastAPI)
    assert app.state.settings is settings


@pytest.mark.usefixtures("unfrozen")
def test_what_the_server_built_at_start_is_left_out_of_garbage_collection(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setattr(application, "get_settings", lambda: settings)
    gc.unfreeze()

    app = runpy.run_module("{{ cookiecutter.package_name }}.main")["app"]

    # Frozen objects are in none of the generations the collector walks.
    assert gc.get_freeze_count() > 0
    assert not any(tracked is app for tracked in gc.get_objects())
