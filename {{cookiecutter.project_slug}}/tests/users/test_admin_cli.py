"""`create-admin` makes the first administrator; the password never comes from argv."""

import getpass
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.settings import Settings, get_settings
from {{ cookiecutter.package_name }}.users.models import User
from tests.server_database import run_on


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the CLI's settings at the test database."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_KIB", "64")
    monkeypatch.setenv("PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield settings.database_url
    get_settings.cache_clear()


EMAIL = "ops@example.com"


def stored_users(url: str) -> list[User]:
    """Users created by these tests (the template database holds seeded accounts too)."""
    query = select(User).where(User.email == EMAIL)
    return run_on(url, lambda connection: list(Session(connection).scalars(query)))


def test_creates_an_admin_with_the_password_from_the_environment(
    environment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-passphrase")

    main(["create-admin", "--email", "Ops@Example.com"])

    [admin] = stored_users(environment)
    assert (admin.email, admin.role, admin.is_active) == (EMAIL, "admin", True)
    assert "a-long-admin-passphrase" not in capsys.readouterr().out


def test_prompts_twice_when_no_environment_password(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "a-long-admin-passphrase")

    main(["create-admin", "--email", EMAIL, "--full-name", "Ops"])

    assert [u.full_name for u in stored_users(environment)] == ["Ops"]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["one-long-passphrase", "another-passphrase"], "do not match"),
        (["short", "short"], "password"),
    ],
)
def test_refuses_mismatched_or_weak_passwords(
    environment: str, monkeypatch: pytest.MonkeyPatch, answers: list[str], message: str
) -> None:
    replies = iter(answers)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(replies))

    with pytest.raises(SystemExit) as exited:
        main(["create-admin", "--email", EMAIL])

    assert message in str(exited.value.code)
    assert stored_users(environment) == []


def test_refuses_an_email_that_is_taken(environment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-passphrase")
    main(["create-admin", "--email", EMAIL])

    with pytest.raises(SystemExit, match="already registered"):
        main(["create-admin", "--email", EMAIL])


def test_refuses_an_email_that_reads_like_a_taken_one(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-passphrase")
    main(["create-admin", "--email", EMAIL])

    with pytest.raises(SystemExit, match="already registered"):
        main(["create-admin", "--email", EMAIL.replace("o", "0", 1)])  # a zero for the o


def test_refuses_an_email_that_mixes_scripts(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-passphrase")
    mixed = EMAIL.replace("o", "\N{CYRILLIC SMALL LETTER O}", 1)

    with pytest.raises(SystemExit, match="email: The part before the @ mixes scripts"):
        main(["create-admin", "--email", mixed])

    assert stored_users(environment) == []


def test_has_no_password_option() -> None:
    with pytest.raises(SystemExit):
        main(["create-admin", "--email", EMAIL, "--password", "x"])


@pytest.mark.parametrize(
    ("interruption", "message"),
    [(EOFError, "set ADMIN_PASSWORD or run this in a terminal"), (KeyboardInterrupt, "Cancelled")],
)
def test_a_prompt_without_a_terminal_or_cancelled_is_one_line(
    environment: str,
    monkeypatch: pytest.MonkeyPatch,
    interruption: type[BaseException],
    message: str,
) -> None:
    def prompt(_: str) -> str:
        raise interruption

    monkeypatch.setattr(getpass, "getpass", prompt)

    with pytest.raises(SystemExit) as exited:
        main(["create-admin", "--email", EMAIL])

    assert message in str(exited.value.code)
    assert stored_users(environment) == []
