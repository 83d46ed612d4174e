"""The ASGI entry point: `{{ cookiecutter.package_name }}.main:app`."""

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }} import main


def test_the_app_is_built_on_first_use_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(vars(main), "app", raising=False)

    app = main.app

    assert isinstance(app, FastAPI)
    assert main.app is app


def test_other_names_are_still_missing() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = main.no_such_name
