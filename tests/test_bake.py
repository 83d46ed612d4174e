"""Baking every supported option set: the output is complete, rendered, lint-clean and green."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import COOKIECUTTER_JSON, OPTION_SETS, TEMPLATE, run
from tests.hook_modules import post_gen
from tests.serving import get, post, register_and_login, serving

EXPECTED_FILES = [
    ".env",
    ".env.example",
    ".gitignore",
    ".gitattributes",
    ".editorconfig",
    ".github/workflows/ci.yml",
    "Dockerfile",
    "README.md",
    "alembic.ini",
    "pyproject.toml",
    "docs/architecture.md",
    "migrations/env.py",
    "src/my_service/application.py",
    "src/my_service/main.py",
    "src/my_service/settings.py",
    "src/my_service/api.py",
    "src/my_service/core/errors.py",
    "src/my_service/core/repository.py",
    "src/my_service/items/router.py",
    "src/my_service/items/service.py",
    "src/my_service/auth/tokens.py",
    "src/my_service/auth/permissions.py",
    "src/my_service/users/router.py",
    "tests/conftest.py",
    "tests/items/test_api.py",
]
UNRENDERED = re.compile(r"\{\{|\{%|cookiecutter\.")


def text_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every text file under `root` with its text; binary files are skipped."""
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def test_default_bake_has_the_expected_files(bake: Callable[..., Path]) -> None:
    project = bake()

    assert project.name == "my-service"
    missing = [name for name in EXPECTED_FILES if not (project / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_nothing_is_left_unrendered(bake: Callable[..., Path], option_set: str) -> None:
    project = bake(option_set)

    leftovers = [
        str(path.relative_to(project))
        for path, text in text_files(project)
        if UNRENDERED.search(text)
    ]
    assert leftovers == []


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_python_version_drives_image_and_ci_but_pins_no_local_python(
    bake: Callable[..., Path], option_set: str
) -> None:
    project = bake(option_set)
    version = OPTION_SETS[option_set].get("python_version", COOKIECUTTER_JSON["python_version"][0])

    assert f"FROM python:{version}-slim" in (project / "Dockerfile").read_text(encoding="utf-8")
    workflow = (project / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    assert f'python-version: "{version}"' in workflow
    # pyenv would select that Python for every command in the folder, uv included.
    assert not (project / ".python-version").exists()


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_database_sets_the_driver_default_url_and_ci_service(
    bake: Callable[..., Path], option_set: str
) -> None:
    project = bake(option_set)
    database = OPTION_SETS[option_set].get("database", COOKIECUTTER_JSON["database"][0])
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    dependencies = pyproject["project"]["dependencies"]
    settings = (project / ".env.example").read_text(encoding="utf-8").splitlines()
    workflow = (project / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    on_postgresql = database == "postgresql"

    assert any(name.startswith("asyncpg>") for name in dependencies) is on_postgresql
    assert any(name.startswith("aiosqlite>") for name in dependencies) is not on_postgresql
    assert ("database_url" in pyproject["tool"]["pytest"]["ini_options"]) is on_postgresql
    url_prefix = "DATABASE_URL=postgresql+asyncpg://" if on_postgresql else "DATABASE_URL=sqlite"
    assert any(line.startswith(url_prefix) for line in settings)
    assert ("image: postgres:" in workflow) is on_postgresql


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_redis_brings_its_module_dependency_and_settings_only_when_chosen(
    bake: Callable[..., Path], option_set: str
) -> None:
    project = bake(option_set)
    chosen = OPTION_SETS[option_set].get("redis", COOKIECUTTER_JSON["redis"])
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    settings = (project / ".env.example").read_text(encoding="utf-8").splitlines()

    # Replies parsed by hiredis, the client's C parser.
    assert ("redis[hiredis]>=6.4" in pyproject["project"]["dependencies"]) is chosen
    assert any(name.startswith("redis") for name in pyproject["project"]["dependencies"]) is (
        chosen
    )
    assert bool(list(project.glob("src/*/core/redis.py"))) is chosen
    assert (project / "tests/core/test_redis.py").exists() is chosen
    assert ("redis_url" in pyproject["tool"]["pytest"]["ini_options"]) is chosen
    assert any(line.startswith("REDIS_URL=redis://") for line in settings) is chosen
    # With Redis the counts go there; a memory:// storage next to REDIS_URL is refused.
    assert ("RATE_LIMIT_STORAGE_URI=memory://" in settings) is not chosen


def test_env_holds_a_fresh_secret_and_is_ignored(bake: Callable[..., Path]) -> None:
    project = bake()
    env = (project / ".env").read_text(encoding="utf-8")

    [secret] = re.findall(r"^SECRET_KEY=(.+)$", env, re.MULTILINE)
    assert len(secret) >= 43  # at least 32 random bytes, base64url-encoded
    assert secret not in (project / ".env.example").read_text(encoding="utf-8")
    assert ".env" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_output_passes_ruff_and_mypy_strict(
    bake: Callable[..., Path], service_env: Path, option_set: str
) -> None:
    project = bake(option_set)

    run([str(service_env / "ruff"), "check", "--no-cache", "."], project)
    run([str(service_env / "ruff"), "format", "--check", "--no-cache", "."], project)
    run([str(service_env / "mypy"), "--no-incremental"], project)


def redis_keys(service_env: Path) -> set[str]:
    """Every key under `test:` (where the baked tests keep theirs) in the Redis they use."""
    script = (
        "import redis, sys; print(*redis.Redis.from_url(sys.argv[1]).keys('test:*'), sep='\\n')"
    )
    output = run([str(service_env / "python"), "-c", script, post_gen.TEST_REDIS_URL], TEMPLATE)
    return set(output.split())


# The sets whose code differs; the others change only names, which the lint covers. The
# two with Redis run one after the other (`--dist loadgroup`): each checks that it left no
# key behind, which the other's keys, there while it runs, would confuse.
ONE_AT_A_TIME_IN_REDIS = pytest.mark.xdist_group("redis")


@pytest.mark.parametrize(
    "option_set",
    [
        "defaults",
        pytest.param("redis", marks=ONE_AT_A_TIME_IN_REDIS),
        "postgresql",
        "nats",
        pytest.param("postgresql-redis", marks=ONE_AT_A_TIME_IN_REDIS),
    ],
)
def test_baked_tests_pass_with_full_coverage_gate(
    bake: Callable[..., Path], service_env: Path, option_set: str
) -> None:
    uses_redis = OPTION_SETS[option_set].get("redis", False)
    env = dict(os.environ)
    if uses_redis:
        # As the service's own CI sets it; `.ci/run` starts this Redis if need be.
        env["REDIS_URL"] = post_gen.TEST_REDIS_URL
    keys_before = redis_keys(service_env) if uses_redis else set()

    output = run(
        [str(service_env / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        bake(option_set),
        env,
    )

    assert re.search(r"\d+ passed", output), output
    assert "failed" not in output
    assert re.search(r"Required test coverage of 95(\.0)?% reached", output), output
    if uses_redis:
        assert redis_keys(service_env) - keys_before == set(), "the tests left keys in Redis"
    assert broker_leftovers(service_env, option_set) == [], "the tests left these on the broker"


def broker_leftovers(service_env: Path, option_set: str) -> list[str]:
    """What the baked tests declared on their broker (under `test-`) and left behind."""
    messaging = OPTION_SETS[option_set].get("messaging", "local")
    if messaging == "nats":
        script = (
            "import asyncio, nats, sys\n"
            "async def main():\n"
            "    connection = await nats.connect(sys.argv[1])\n"
            "    names = await connection.jetstream().streams_info()\n"
            "    print(*(s.config.name for s in names if s.config.name.startswith('test-')))\n"
            "    await connection.close()\n"
            "asyncio.run(main())\n"
        )
        command = [str(service_env / "python"), "-c", script, post_gen.TEST_NATS_URL]
        return run(command, TEMPLATE).split()
    if messaging == "rabbitmq" and shutil.which("rabbitmqctl"):
        listed = run(["rabbitmqctl", "list_queues", "name", "-q"], TEMPLATE).split()
        return [name for name in listed if name.startswith("test-")]
    return []


def test_migrate_then_serve_answers_ready_and_docs(
    bake: Callable[..., Path], service_env: Path, tmp_path: Path
) -> None:
    with serving(bake(), service_env, tmp_path) as served:
        assert get(f"{served.base}/health/ready") == (200, '{"status":"ok"}')
        docs_status, docs = get(f"{served.base}/docs")
        assert docs_status == 200
        assert "swagger-ui" in docs
        token = register_and_login(served.base)
        item = b'{"name": "mug", "price_cents": 5}'
        status, _ = post(f"{served.base}/api/v1/items", item, "application/json", token)
        assert status == 201
    assert '"event": "request"' in served.log.read_text()


def test_the_metrics_of_several_workers_add_up(
    bake: Callable[..., Path], service_env: Path, tmp_path: Path
) -> None:
    requests = 12
    with serving(bake(), service_env, tmp_path, ["--workers", "2"]) as served:
        # Sent at once, so that both workers take some.
        with ThreadPoolExecutor(requests) as pool:
            ready = pool.map(get, [f"{served.base}/health/ready"] * requests)
            assert [status for status, _ in ready] == [200] * requests
        # Each scrape reaches one worker or the other; every one counts both workers' requests.
        scrapes = [get(f"{served.base}/metrics") for _ in range(6)]

    pattern = r'^http_requests_total\{method="GET",route="/health/ready",status="2xx"\} (\S+)$'
    for status, text in scrapes:
        assert status == 200, text
        counted = re.search(pattern, text, re.MULTILINE)
        assert counted is not None, text
        assert float(counted[1]) == requests
        # Read from the workers' shared files, not from the answering process's memory, which
        # would add the process collector's own series.
        assert "process_resident_memory_bytes" not in text


def test_stale_exported_documents_fail_the_baked_suite(
    bake: Callable[..., Path], service_env: Path, tmp_path: Path
) -> None:
    project = tmp_path / "stale"
    shutil.copytree(bake(), project)
    exported = project / "docs" / "openapi.json"
    document = json.loads(exported.read_text(encoding="utf-8"))
    document["paths"]["/api/v1/items"]["get"]["summary"] = "An older summary"
    exported.write_text(json.dumps(document), encoding="utf-8")
    catalogue = project / "docs" / "errors.md"
    stale_catalogue = catalogue.read_text(encoding="utf-8").replace("409.", "410.")
    catalogue.write_text(stale_catalogue, encoding="utf-8")

    stale = subprocess.run(
        [str(service_env / "python"), "-m", "pytest", "--no-cov", "-p", "no:cacheprovider",
         "tests/test_openapi.py::test_the_exported_document_is_current",
         "tests/test_error_catalogue.py::test_the_document_is_the_catalogue"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert stale.returncode == 1, stale.stdout
    assert "2 failed" in stale.stdout
    assert "docs/openapi.json is stale: run `uv run my-service openapi" in stale.stdout
    assert "docs/errors.md is stale: run `uv run my-service errors" in stale.stdout
