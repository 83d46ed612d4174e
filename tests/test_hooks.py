"""Unit tests of both hooks, called as plain functions."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COOKIECUTTER_JSON, git
from tests.hook_modules import HOOKS, post_gen, pre_gen

VALID = {
    "project_name": "Orders Service",
    "project_slug": "orders-service",
    "package_name": "orders_service",
    "description": "Takes orders.",
    "author_name": "Ada Lovelace",
    "author_email": "ada@example.com",
    "version": "0.1.0",
    "python_version": "3.12",
    "database": "sqlite",
    "redis": False,
    "messaging": "local",
    "observability": "prometheus",
    "sentry": False,
    "kubernetes": False,
    "ci": "github",
}


def test_valid_answers_pass() -> None:
    pre_gen.validate(VALID)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("project_slug", "Orders", "is invalid"),
        ("project_slug", "orders--service", "is invalid"),
        ("project_slug", "a" * 41, "at most 40"),
        ("project_slug", "asyncio", "would shadow"),
        ("package_name", "orders-service", "not a valid Python identifier"),
        ("package_name", "match", "is a Python keyword"),
        ("package_name", "b" * 41, "at most 40"),
        ("package_name", "structlog", "would shadow"),
        ("package_name", "test", "would shadow"),
        ("author_email", "ada@", "not an email address"),
        ("version", "1.0-beta.x", "not a PEP 440 version"),
        ("python_version", "3.10", "not supported"),
        ("database", "oracle", "not supported"),
        ("redis", "maybe", "not a yes/no answer"),
        ("kubernetes", "maybe", "not a yes/no answer"),
        ("ci", "gitlab", "not supported"),
        ("observability", "datadog", "not supported"),
        ("messaging", "kafka", "not supported"),
        ("sentry", "maybe", "not a yes/no answer"),
        ("kubernetes", True, "cannot share a SQLite file"),
        ("project_name", "", "is invalid"),
        ("description", "back\\slash", "is invalid"),
        ("author_name", "two\nlines", "is invalid"),
    ],
)
def test_each_bad_answer_names_field_value_and_remedy(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(pre_gen.InvalidAnswer) as caught:
        pre_gen.validate({**VALID, field: value})

    assert str(caught.value).startswith(f"{field} {value!r}" if value is not True else field)
    assert message in str(caught.value)


@pytest.mark.parametrize("version", ["0.1.0", "1.0.0rc1", "2024.1", "1.0.post2.dev3"])
def test_pep440_versions_are_accepted(version: str) -> None:
    pre_gen.check_version(version)


def test_pre_gen_main_prints_one_line_and_returns_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert pre_gen.main(json.dumps({**VALID, "package_name": "class"})) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: package_name 'class'")
    assert pre_gen.main(json.dumps(VALID)) == 0


def test_the_hooks_parse_before_rendering() -> None:
    for name in ("pre_gen_project", "post_gen_project"):
        path = HOOKS / f"{name}.py"
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def _answers(option: str) -> list[str]:
    """Every answer `option` accepts, as the manifest keys them."""
    default = COOKIECUTTER_JSON[option]
    return ["True", "False"] if isinstance(default, bool) else list(default)


def test_manifest_covers_every_choice_of_its_options() -> None:
    for option, paths_by_value in post_gen.MANIFEST.items():
        assert sorted(paths_by_value) == sorted(_answers(option))


def test_every_manifest_path_is_in_the_template() -> None:
    project = HOOKS.parent / "{{cookiecutter.project_slug}}"
    listed = [
        path.format(package_name="{{cookiecutter.package_name}}")
        for paths_by_value in post_gen.MANIFEST.values()
        for paths in paths_by_value.values()
        for path in paths
    ]

    assert [path for path in listed if not (project / path).exists()] == []


@pytest.mark.parametrize(("redis", "kept"), [(True, True), (False, False)])
def test_redis_files_stay_only_when_redis_is_chosen(
    tmp_path: Path, redis: bool, kept: bool
) -> None:
    module = tmp_path / "src" / "orders_service" / "core" / "redis.py"
    module.parent.mkdir(parents=True)
    module.write_text("")

    post_gen.prune_unselected(tmp_path, {**VALID, "redis": redis})

    assert module.exists() is kept


def test_prune_removes_only_unchosen_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "x.py").write_text("")
    (tmp_path / "lite.py").write_text("")
    manifest = {"database": {"sqlite": ["lite.py"], "postgresql": ["pg", "absent.txt"]}}
    monkeypatch.setattr(post_gen, "MANIFEST", manifest)

    removed = post_gen.prune_unselected(tmp_path, VALID)

    assert removed == [tmp_path / "pg"]
    assert (tmp_path / "lite.py").exists()
    assert post_gen.prune_unselected(tmp_path, VALID) == []


def test_env_drops_the_copy_me_line_and_logs_readably(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(
        "# Copy to .env and adjust.\nSECRET_KEY=change-me\nLOG_JSON=true\n"
    )

    post_gen.write_env(tmp_path)

    env = (tmp_path / ".env").read_text()
    assert env.startswith(post_gen.ENV_HEADER)
    assert "Copy to .env" not in env
    assert "LOG_JSON=false" in env


def test_env_gets_a_fresh_secret_once(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for root in (tmp_path, other):
        (root / ".env.example").write_text("ENVIRONMENT=development\nSECRET_KEY=change-me\n")
        assert post_gen.write_env(root) is True

    first = (tmp_path / ".env").read_text()
    assert "SECRET_KEY=change-me" not in first
    assert len(first.split("SECRET_KEY=")[1].strip()) >= 43
    assert first != (other / ".env").read_text()
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
    assert post_gen.write_env(tmp_path) is False
    assert (tmp_path / ".env").read_text() == first


def test_init_git_keeps_the_users_own_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Grace\n\temail = grace@example.com\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("")

    post_gen.init_git(project, "Ada", "ada@example.com")

    log = git(project, "log", "--format=%an <%ae>")
    assert log.strip() == "Grace <grace@example.com>"


def test_init_git_commits_once_and_ignores_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No git identity anywhere: the template's answers stand in.
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / ".env").write_text("SECRET_KEY=x\n")
    (tmp_path / "app.py").write_text("")

    assert post_gen.init_git(tmp_path, "Ada", "ada@example.com") is True
    assert post_gen.init_git(tmp_path, "Ada", "ada@example.com") is False

    tracked = git(tmp_path, "ls-files").split()
    assert tracked == [".gitignore", "app.py"]
    log = git(tmp_path, "log", "--format=%an <%ae> %s")
    assert log.strip() == "Ada <ada@example.com> Initial commit"


def test_find_python_finds_nothing_for_an_absent_version() -> None:
    assert post_gen.find_python("3.99") is None


def test_find_python_finds_the_running_version() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"

    python = post_gen.find_python(version)

    assert python is not None
    assert post_gen._version_of(python) == sys.version_info[:2]


def test_an_absent_python_is_a_loud_warning_naming_both_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    used: list[str] = []

    def install(root: Path, python: str) -> list[str]:
        used.append(python)
        return []

    monkeypatch.setattr(post_gen, "find_python", lambda version: None)
    monkeypatch.setattr(post_gen, "install", install)

    post_gen.install_for_tests(_context(python_version="3.13"), tmp_path)

    err = capsys.readouterr().err
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert err.startswith("warning: Python 3.13 was not found")
    assert f"the local .venv uses Python {running}" in err
    assert "the Dockerfile and the CI workflow use Python 3.13" in err
    assert used == [sys.executable]


def test_version_probe_ignores_warnings_on_stderr(tmp_path: Path) -> None:
    noisy = tmp_path / "python-wrapper"
    noisy.write_text(f'#!/bin/sh\necho "pyenv: cannot rehash" >&2\nexec {sys.executable} "$@"\n')
    noisy.chmod(0o755)

    assert post_gen._version_of(str(noisy)) == sys.version_info[:2]
    assert post_gen._version_of(str(tmp_path / "missing")) == (0, 0)


def test_run_raises_setup_error_with_the_output(tmp_path: Path) -> None:
    with pytest.raises(post_gen.SetupError, match="boom"):
        post_gen.run([sys.executable, "-c", "import sys; sys.exit('boom')"], tmp_path)
    with pytest.raises(post_gen.SetupError, match="could not run"):
        post_gen.run(["/nonexistent/tool"], tmp_path)


def _tiny_project(root: Path, test_body: str) -> list[str]:
    (root / "test_x.py").write_text(
        f"def test_one():\n    {test_body}\n\ndef test_two():\n    pass\n"
    )
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:cookies"]


def test_run_tests_reports_the_pytest_summary(tmp_path: Path) -> None:
    outcome = post_gen.run_tests(tmp_path, _tiny_project(tmp_path, "pass"))

    assert outcome.passed
    assert outcome.summary == "2 passed"


def test_run_tests_reports_failures(tmp_path: Path) -> None:
    outcome = post_gen.run_tests(tmp_path, _tiny_project(tmp_path, "assert 1 == 2"))

    assert not outcome.passed
    assert outcome.summary == "1 failed, 1 passed"
    assert "assert 1 == 2" in outcome.output


def _context(**overrides: Any) -> dict[str, Any]:
    return {**VALID, "run_tests": True, "init_git": False, **overrides}


def _project(root: Path) -> Path:
    (root / ".env.example").write_text("SECRET_KEY=change-me\n")
    return root


def test_main_exits_1_and_prints_failures_when_tests_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = _tiny_project(_project(tmp_path), "assert 1 == 2")
    monkeypatch.setattr(post_gen, "install", lambda root, python: command)

    assert post_gen.main(_context(), tmp_path) == 1

    captured = capsys.readouterr()
    assert "assert 1 == 2" in captured.out
    assert "error: orders-service's tests failed: 1 failed, 1 passed" in captured.err


def test_main_prints_one_summary_line_when_tests_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = _tiny_project(_project(tmp_path), "pass")
    monkeypatch.setattr(post_gen, "install", lambda root, python: command)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"

    assert post_gen.main(_context(python_version=version), tmp_path) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("orders-service: 2 passed in ")
    assert lines[1] == (
        "Next: cd orders-service && uv run alembic upgrade head && uv run orders-service serve"
        " --reload"
    )


def test_main_keeps_the_project_and_explains_when_install_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def offline(root: Path, python: str) -> list[str]:
        raise post_gen.SetupError("error: Failed to fetch: `https://pypi.org/simple/fastapi/`")

    monkeypatch.setattr(post_gen, "install", offline)

    assert post_gen.main(_context(), _project(tmp_path)) == 0

    out = capsys.readouterr().out
    assert "Could not install orders-service's dependencies (error: Failed to fetch" in out
    assert "uv sync && uv run pytest" in out
    assert (tmp_path / ".env").exists()


def test_main_skips_setup_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(post_gen.SKIP_SETUP_VARIABLE, "1")

    assert post_gen.main(_context(init_git=True), _project(tmp_path)) == 0

    assert not (tmp_path / ".git").exists()
    assert (tmp_path / ".env").exists()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "case",
    [
        ({"redis": True}, "REDIS_URL", "redis://127.0.0.1:{port}/0", "Redis"),
        (
            {"database": "postgresql"},
            "DATABASE_URL",
            "postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres",
            "PostgreSQL",
        ),
    ],
)
def test_main_leaves_the_tests_when_the_server_they_need_is_absent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, Any], str, str, str],
) -> None:
    answer, variable, url, name = case
    command = _tiny_project(_project(tmp_path), "assert False")
    monkeypatch.setattr(post_gen, "install", lambda root, python: command)
    absent = url.format(port=_closed_port())
    monkeypatch.setenv(variable, absent)

    assert post_gen.main(_context(**answer), tmp_path) == 0

    out = capsys.readouterr().out
    assert f"orders-service's tests need {name} and nothing answers at {absent}" in out
    assert "uv run pytest" in out


def _closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_server_probe_tells_a_listening_port_from_a_closed_one() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert post_gen.server_answers(f"redis://127.0.0.1:{port}/0", 6379) is True
    assert post_gen.server_answers(f"redis://127.0.0.1:{_closed_port()}/0", 6379) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("yes", True), (False, False), ("false", False), ("0", False)],
)
def test_yes_no_answers_are_read_either_way(value: object, expected: bool) -> None:
    assert post_gen.is_yes(value) is expected


def test_running_the_hook_twice_is_harmless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path)
    (tmp_path / ".gitignore").write_text(".env\n")
    context = _context(run_tests=False, init_git=True)

    assert post_gen.main(context, tmp_path) == 0
    env = (tmp_path / ".env").read_text()
    assert post_gen.main(context, tmp_path) == 0

    assert (tmp_path / ".env").read_text() == env
    commits = git(tmp_path, "rev-list", "--count", "HEAD")
    assert commits.strip() == "1"
    assert capsys.readouterr().out.count("Created orders-service.") == 2


def test_cruft_create_writes_the_state_file_cruft_writes(tmp_path: Path) -> None:
    context = _context(run_tests=False, _template="/templates/backend", _commit="abc123")

    assert post_gen.main(context, _project(tmp_path)) == 0

    state = json.loads((tmp_path / ".cruft.json").read_text())
    assert state == {
        "template": "/templates/backend",
        "commit": "abc123",
        "checkout": None,
        "context": {"cookiecutter": context},
        "directory": None,
    }
    assert list(state["context"]["cookiecutter"]) == list(context)
    assert (tmp_path / ".env").exists()


def test_cruft_rerenders_are_left_as_the_template_wrote_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(post_gen.tempfile, "gettempdir", lambda: str(tmp_path))
    render = tmp_path / "tmpab12cd34" / "orders-service"
    render.mkdir(parents=True)
    _project(render)
    cruft_context = _context(init_git=True, _template="/templates/backend", _commit="abc123")

    assert post_gen.main(cruft_context, render) == 0

    assert sorted(path.name for path in render.iterdir()) == [".env.example"]
    # The same folder without cruft's marker is an ordinary bake.
    assert post_gen.main(_context(run_tests=False), render) == 0
    assert (render / ".env").exists()
