"""Each invalid answer stops the bake with one clear line and leaves nothing on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException

from tests.conftest import NO_SETUP, checked_context

INVALID = [
    ({"project_slug": "My Service"}, "project_slug 'My Service' is invalid"),
    ({"project_slug": "fastapi"}, "project_slug 'fastapi' would shadow"),
    ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
    ({"package_name": "9lives"}, "package_name '9lives' is not a valid Python identifier"),
    ({"package_name": "sqlalchemy"}, "package_name 'sqlalchemy' would shadow"),
    ({"package_name": "json"}, "package_name 'json' would shadow"),
    ({"package_name": "app"}, "package_name 'app' would shadow"),
    ({"author_email": "not-an-email"}, "author_email 'not-an-email' is not an email address"),
    ({"version": "one"}, "version 'one' is not a PEP 440 version"),
    ({"description": 'say "hi"'}, "description 'say \"hi\"' is invalid"),
    # cookiecutter turns text into true or false itself; a number passes it unconverted.
    ({"redis": 2}, "redis '2' is not a yes/no answer"),
    ({"kubernetes": True}, "kubernetes runs several replicas, which cannot share a SQLite file"),
]


@pytest.mark.parametrize(("answers", "message"), INVALID)
def test_invalid_answer_is_refused(
    cookies: Any,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    answers: dict[str, Any],
    message: str,
) -> None:
    result = cookies.bake(extra_context=checked_context({**NO_SETUP, **answers}))

    assert result.exit_code != 0
    assert isinstance(result.exception, FailedHookException)
    err = capfd.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert list((tmp_path / "cookies" / "bake00").iterdir()) == []


def test_unknown_choice_is_refused_before_anything_is_written(cookies: Any, tmp_path: Path) -> None:
    result = cookies.bake(extra_context=checked_context({**NO_SETUP, "python_version": "3.9"}))

    assert result.exit_code != 0
    assert "choices are ['3.12', '3.11', '3.13']" in str(result.exception)
    assert not (tmp_path / "cookies" / "bake00").exists() or not any(
        (tmp_path / "cookies" / "bake00").iterdir()
    )
