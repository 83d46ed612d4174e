"""Finish a freshly baked service: prune unchosen options, write `.env`, git, install, test.

Plain Python: cookiecutter renders only the string literal at the bottom, so this module
imports unchanged and `tests/test_hooks.py` unit-tests each step. Every step can run again on
the same output without harm. `cruft update` and `cruft diff` render the template into
throwaway folders to compare them; the hook recognises those renders and leaves them exactly
as the template wrote them. BACKEND_TEMPLATE_SKIP_SETUP=1 skips git, install and tests
anywhere else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# The files of a service that consumes from a broker, whichever broker it is.
BROKER_FILES = [
    "src/{package_name}/messaging/broker.py",
    "tests/messaging/test_broker.py",
    "kubernetes/worker.yaml",
]
# Paths that belong to one answer of one option; the other answers' paths are removed.
# Answers are keyed as text (a yes/no option's as "True" and "False"); "{package_name}"
# stands for the import package's folder.
MANIFEST: dict[str, dict[str, list[str]]] = {
    "database": {"sqlite": [], "postgresql": []},
    "redis": {
        "True": ["src/{package_name}/core/redis.py", "tests/core/test_redis.py"],
        "False": [],
    },
    "observability": {
        "prometheus+otel": ["src/{package_name}/core/tracing.py", "tests/core/test_tracing.py"],
        "prometheus": [],
    },
    "sentry": {
        "True": ["src/{package_name}/core/sentry.py", "tests/core/test_sentry.py"],
        "False": [],
    },
    "messaging": {
        "local": [],
        "rabbitmq": BROKER_FILES,
        "nats": BROKER_FILES,
    },
    "kubernetes": {"True": ["kubernetes"], "False": []},
    "ci": {"github": [".github"], "none": []},
}

SECRET_LINE = re.compile(r"^SECRET_KEY=.*$", re.MULTILINE)
SKIP_SETUP_VARIABLE = "BACKEND_TEMPLATE_SKIP_SETUP"
MIN_PYTHON = (3, 11)
# The Redis a service baked with Redis tests against, unless REDIS_URL names another; the
# same default as `redis_url` in the service's pytest settings.
TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
# Likewise the PostgreSQL server of a service baked with it (its pytest `database_url`).
TEST_POSTGRESQL_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# And the brokers (the service's pytest `broker_url`).
TEST_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
TEST_NATS_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True)
class TestServer:
    """A server the baked tests of one answer need, found through an environment variable."""

    name: str
    variable: str
    default_url: str
    default_port: int


# (option, answer as text) -> the server the service's tests then need.
TEST_SERVERS = {
    ("redis", "True"): TestServer("Redis", "REDIS_URL", TEST_REDIS_URL, 6379),
    ("database", "postgresql"): TestServer("PostgreSQL", "DATABASE_URL", TEST_POSTGRESQL_URL, 5432),
    ("messaging", "rabbitmq"): TestServer("RabbitMQ", "BROKER_URL", TEST_RABBITMQ_URL, 5672),
    ("messaging", "nats"): TestServer("NATS", "BROKER_URL", TEST_NATS_URL, 4222),
}


class SetupError(RuntimeError):
    """A step failed in a way the user has to fix; the message says how."""


@dataclass(frozen=True)
class TestOutcome:
    """What running the baked service's tests produced."""

    passed: bool
    summary: str
    output: str
    seconds: float


def prune_unselected(root: Path, context: Mapping[str, object]) -> list[Path]:
    """Delete the files of every option value not chosen; return what was removed."""
    removed = []
    for option, paths_by_value in MANIFEST.items():
        chosen = str(context[option])
        kept = set(paths_by_value.get(chosen, []))  # a path may belong to several answers
        for value, paths in paths_by_value.items():
            if value == chosen:
                continue
            for relative in set(paths) - kept:
                path = root / relative.format(package_name=context["package_name"])
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
                else:
                    continue
                removed.append(path)
    return removed


ENV_HEADER = (
    "# Local settings, written when the service was baked; git-ignored, never commit it.\n"
    "# .env.example documents every setting.\n"
)


def write_env(root: Path) -> bool:
    """Create `.env` from `.env.example` with a fresh secret; keep an existing one.

    The local file logs readable lines instead of JSON.
    """
    env = root / ".env"
    if env.exists():
        return False
    example = (root / ".env.example").read_text(encoding="utf-8")
    first_line, _, rest = example.partition("\n")
    settings = rest if first_line.startswith("#") else example  # drop "copy me to .env"
    secret = secrets.token_urlsafe(48)  # 48 random bytes, 64 characters
    settings = SECRET_LINE.sub(f"SECRET_KEY={secret}", settings, count=1)
    settings = settings.replace("LOG_JSON=true", "LOG_JSON=false", 1)
    env.write_text(ENV_HEADER + settings, encoding="utf-8")
    env.chmod(0o600)
    return True


def run(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run `command`; return its combined output or raise `SetupError` with it."""
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise SetupError(f"could not run {command[0]}: {error}") from error
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise SetupError(output.strip() or f"{' '.join(command)} exited {completed.returncode}")
    return output


def init_git(root: Path, author_name: str, author_email: str) -> bool:
    """`git init` and a first commit, unless the folder is already a repository.

    The commit is the user's own git identity; the template's answers stand in only where
    git has none configured.
    """
    if (root / ".git").exists():
        return False
    git = shutil.which("git")
    if git is None:
        raise SetupError("git is not installed; run `git init` yourself later")
    run([git, "init", "--quiet", "--initial-branch=main"], root)
    identity = []
    for key, fallback in (("user.name", author_name), ("user.email", author_email)):
        configured = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            [git, "config", key], cwd=root, capture_output=True, text=True, check=False
        ).stdout.strip()
        if not configured:
            identity += ["-c", f"{key}={fallback}"]
    run([git, "add", "--all"], root)
    run([git, *identity, "commit", "--quiet", "--no-verify", "-m", "Initial commit"], root)
    return True


VERSION_LINE = re.compile(r"^(\d+) (\d+)$", re.MULTILINE)


def _version_of(python: str) -> tuple[int, int]:
    """(major, minor) of an interpreter, or (0, 0) when it does not run.

    Only stdout is read: wrappers such as pyenv's shims may warn on stderr.
    """
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return (0, 0)
    found = VERSION_LINE.search(completed.stdout)
    if completed.returncode != 0 or found is None:
        return (0, 0)
    return int(found.group(1)), int(found.group(2))


def find_python(version: str) -> str | None:
    """An interpreter for `version`, or None when there is none.

    uv only finds interpreters on PATH, so pyenv's are named by full path.
    """
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(path)
        for path in sorted((pyenv_root / "versions").glob(f"{version}.*/bin/python{version}"))
    ]
    wanted = tuple(map(int, version.split(".")))
    return next((found for found in candidates if found and _version_of(found) == wanted), None)


def fallback_warning(version: str) -> str:
    """The warning shown when the chosen Python is absent and the running one stands in."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        f"warning: Python {version} was not found, so the local .venv uses Python {running} "
        f"({sys.executable}); the Dockerfile and the CI workflow use Python {version}. "
        f"Install {version} (`uv python install {version}` or `pyenv install {version}`), "
        f"then run `uv sync --python {version}` to match them."
    )


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment for a child, without the caller's active virtualenv."""
    env = {**os.environ, **overrides}
    env.pop("VIRTUAL_ENV", None)
    return env


def install(root: Path, python: str) -> list[str]:
    """Create `.venv` and install the service with its dev group; return the test command.

    Packages are compiled to bytecode once, here: where Python may not write bytecode
    (PYTHONDONTWRITEBYTECODE) the first test run would otherwise compile them on every start.
    """
    venv_python = root / ".venv" / "bin" / "python"
    uv = shutil.which("uv")
    if uv is not None:
        sync = [uv, "sync", "--python", python, "--compile-bytecode"]
        run(sync, root, child_env(UV_PYTHON_DOWNLOADS="never"))
        return [uv, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"]
    if not venv_python.exists():
        run([python, "-m", "venv", ".venv"], root)
    run([str(venv_python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], root)
    run([str(venv_python), "-m", "pip", "install", "--quiet", "-e", ".", "--group", "dev"], root)
    return [str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]


SUMMARY_LINE = re.compile(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s", re.MULTILINE)


def run_tests(root: Path, command: Sequence[str]) -> TestOutcome:
    """Run the service's tests and capture the outcome."""
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        list(command), cwd=root, env=child_env(), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    found = SUMMARY_LINE.findall(output)
    summary = found[-1] if found else f"pytest exited {completed.returncode}"
    return TestOutcome(completed.returncode == 0, summary, output, seconds)


def offline_message(slug: str, reason: str) -> str:
    """The one paragraph shown when dependencies cannot be installed."""
    last_line = reason.strip().splitlines()[-1] if reason.strip() else "unknown error"
    return (
        f"Could not install {slug}'s dependencies ({last_line}). The project is complete; "
        f"once the package index is reachable, run `cd {slug} && uv sync && uv run pytest` "
        "(or create a virtualenv and `pip install -e . --group dev`)."
    )


def server_answers(url: str, default_port: int, timeout: float = 1.0) -> bool:
    """Whether anything accepts connections where `url` points."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=timeout
        ):
            return True
    except OSError:
        return False


def absent_test_server(context: Mapping[str, object]) -> tuple[TestServer, str] | None:
    """The first server the service's tests need that does not answer, with its URL."""
    for (option, answer), server in TEST_SERVERS.items():
        if str(context.get(option)) != answer:
            continue
        url = os.environ.get(server.variable, server.default_url)
        if not server_answers(url, server.default_port):
            return server, url
    return None


def missing_server_message(slug: str, server: TestServer, url: str) -> str:
    """The one paragraph shown when the service's tests need a server that is not there."""
    return (
        f"{slug}'s tests need {server.name} and nothing answers at {url}, so they were not "
        f"run. The project is complete; start {server.name} or point {server.variable} at "
        f"one, then run `cd {slug} && uv run pytest`."
    )


def is_yes(value: object) -> bool:
    """A yes/no answer, whether cookiecutter passed it as a boolean or as text."""
    return value is True or str(value).strip().lower() in {"true", "yes", "y", "1", "on"}


def install_for_tests(context: Mapping[str, object], root: Path) -> list[str] | None:
    """Install the service; return the test command, or None after explaining why not."""
    slug = str(context["project_slug"])
    version = str(context["python_version"])
    # A Python that was found is the version asked for, which the pre-generation hook checked.
    python = find_python(version)
    if python is None:
        if sys.version_info[:2] < MIN_PYTHON:
            print(
                f"{slug} needs Python {'.'.join(map(str, MIN_PYTHON))} or later, and none was "
                f"found. The project is complete; install Python {version}, "
                f"then run `cd {slug} && uv sync && uv run pytest`."
            )
            return None
        print(fallback_warning(version), file=sys.stderr)
        python = sys.executable
    try:
        return install(root, python)
    except SetupError as error:
        print(offline_message(slug, str(error)))
        return None


def is_cruft_rerender(context: Mapping[str, object], root: Path) -> bool:
    """Whether this is one of the throwaway renders `cruft update` and `cruft diff` compare.

    Only cruft puts `_commit` in the context, and it renders those copies into a folder of
    their own directly under the system's temporary directory.
    """
    temporary = Path(tempfile.gettempdir()).resolve()
    return "_commit" in context and root.resolve().parent.parent == temporary


def write_cruft_state(context: Mapping[str, object], root: Path) -> None:
    """Write `.cruft.json` as `cruft create` will, so that the first commit holds it.

    cruft writes the file only after the hooks have run; it then finds the same bytes here.
    """
    state = {
        "template": context["_template"],
        "commit": context["_commit"],
        "checkout": None,
        "context": {"cookiecutter": dict(context)},
        "directory": None,
    }
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": "))
    (root / ".cruft.json").write_text(text + "\n", encoding="utf-8")


def main(context: Mapping[str, object], root: Path) -> int:
    """Run every step; return the process exit code."""
    slug = str(context["project_slug"])
    prune_unselected(root, context)
    if is_cruft_rerender(context, root):
        return 0
    write_env(root)
    if "_commit" in context:
        write_cruft_state(context, root)
    if os.environ.get(SKIP_SETUP_VARIABLE) == "1":
        return 0
    test_now = is_yes(context["run_tests"])
    command = install_for_tests(context, root) if test_now else None
    absent = absent_test_server(context) if command is not None else None
    if absent is not None:
        print(missing_server_message(slug, *absent))
        command = None
    # After the install, so the first commit holds the lock file uv just wrote.
    if is_yes(context["init_git"]):
        try:
            init_git(root, str(context["author_name"]), str(context["author_email"]))
        except SetupError as error:
            print(f"warning: git repository not created: {error}", file=sys.stderr)
    if command is None:
        if not test_now:
            print(f"Created {slug}. Next: cd {slug} && uv sync && uv run pytest")
        return 0
    outcome = run_tests(root, command)
    if not outcome.passed:
        print(outcome.output)
        print(f"error: {slug}'s tests failed: {outcome.summary}", file=sys.stderr)
        return 1
    print(f"{slug}: {outcome.summary} in {outcome.seconds:.1f} s")
    print(f"Next: cd {slug} && uv run alembic upgrade head && uv run {slug} serve --reload")
    return 0


if __name__ == "__main__":
    # Key order matters to cruft's state file, and `tojson` sorts mappings: pass pairs.
    context = dict(json.loads(r"""{{ cookiecutter.items() | list | tojson }}"""))
    sys.exit(main(context, Path.cwd()))
