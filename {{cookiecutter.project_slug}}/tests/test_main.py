"""The ASGI entry point that servers load: `{{ cookiecutter.package_name }}.main:app`."""

import runpy

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }} import application
from {{ cookiecutter.package_name }}.settings import Settings


def test_servers_get_the_app_built_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setattr(application, "get_settings", lambda: settings)

    app = runpy.run_module("{{ cookiecutter.package_name }}.main")["app"]

    assert isinstance(app, FastAPI)
    assert app.state.settings is settings
