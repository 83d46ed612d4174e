"""`report` prints the service report's four sections, in Markdown and in JSON, from the
live application and the project's files."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }} import report as service_report
from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ["POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/register"]


def report(capsys: pytest.CaptureFixture[str], project: Path) -> dict[str, Any]:
    main(["report", "--json", "--project", str(project)])
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return printed


def test_the_report_says_what_each_route_needs(capsys: pytest.CaptureFixture[str]) -> None:
    printed = report(capsys, ROOT)

    assert list(printed) == ["implementation", "security", "testing", "documentation"]
    routes = {row["route"]: row for row in printed["implementation"]["routes"]}
    assert routes["GET /api/v1/users"]["permission"] == "users:admin"
    assert routes["GET /api/v1/users/me"]["permission"] == "any signed-in user"
    assert routes["POST /api/v1/items"]["permission"] == "items:write"
    assert routes["POST /api/v1/auth/login"]["permission"] == "public"
    assert routes["POST /api/v1/auth/login"]["rate_limit"] == "login (20/minute)"
    assert routes["GET /api/v1/items"]["rate_limit"] == "default (120/minute)"
    assert routes["GET /health/live"]["rate_limit"] == "exempt"
    assert "users" in printed["implementation"]["tables"]


def test_the_security_audit_counts_what_is_protected(capsys: pytest.CaptureFixture[str]) -> None:
    audit = report(capsys, ROOT)["security"]

    api_routes = audit["authentication"]["routes"]
    assert audit["authentication"] == {
        "covered": api_routes - len(PUBLIC),
        "routes": api_routes,
        "public": PUBLIC,
    }
    assert audit["authorization"]["DELETE /api/v1/users/{user_id}"] == ["users:admin"]
    assert audit["rules"]
    assert all(found == [] for found in audit["rules"].values())
    assert "x-content-type-options" in audit["security_headers"]
    assert "strict-transport-security" not in audit["security_headers"]


def test_behind_https_the_audit_lists_strict_transport_security(
    shared_app: FastAPI, settings: Settings
) -> None:
    behind_https = settings.model_copy(update={"https_only": True})

    audit = service_report.security(shared_app, behind_https)

    assert "strict-transport-security" in audit["security_headers"]


def test_the_documents_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert report(capsys, ROOT)["documentation"] == {
        "openapi_current": True,
        "errors_current": True,
        "asyncapi_current": True,
        "undocumented_codes": [],
    }


def test_stale_documents_and_a_missing_code_are_reported(
    shared_app: FastAPI, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    (tmp_path / "docs" / "openapi.json").write_text("{}", encoding="utf-8")
    errors = tmp_path / "docs" / "errors.md"
    errors.write_text(errors.read_text(encoding="utf-8").replace("`email_taken`", ""))

    (tmp_path / "docs" / "asyncapi.yaml").unlink()

    assert service_report.documentation(shared_app, tmp_path) == {
        "openapi_current": False,
        "errors_current": False,
        "asyncapi_current": False,
        "undocumented_codes": ["email_taken"],
    }


def test_the_markdown_report_has_the_four_sections(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["report", "--project", str(tmp_path)])
    printed = capsys.readouterr().out

    assert [line for line in printed.splitlines() if line.startswith("## ")] == [
        "## Implementation summary",
        "## Security audit",
        "## Testing status",
        "## Documentation",
    ]
    assert "| `GET /api/v1/users/me` | Get my account | any signed-in user |" in printed
    assert "- Each route is rate limited: every route." in printed
    assert "- Coverage: no data; run the tests (`report --run-tests`)." in printed
    assert "- `docs/openapi.json` is current: no." in printed


SAMPLE_PROJECT = {
    "pyproject.toml": """
[tool.pytest.ini_options]
addopts = ["-p", "no:cacheprovider", "--cov=sample", "--cov-report="]
[tool.coverage.report]
fail_under = 50
""",
    "sample.py": "def double(number):\n    return 2 * number\n",
    "tests/test_contract.py": """
import sample

def test_doubles():
    assert sample.double(2) == 4
""",
    "tests/test_other.py": """
import pytest

def test_fails():
    assert False

@pytest.mark.skip
def test_skipped():
    pass
""",
}


def test_the_testing_section_runs_the_tests_and_reads_their_coverage(
    shared_app: FastAPI, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in SAMPLE_PROJECT.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.delenv("COV_CORE_SOURCE", raising=False)  # this run's own coverage

    section = service_report.testing(tmp_path, run=True)

    assert section["exit_code"] == 1
    assert section["tests"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert section["contract_tests"] == {"passed": 1, "failed": 0, "skipped": 0}
    assert section["coverage"]["percent"] == 100.0
    assert section["coverage"]["floor"] == 50
    assert service_report.testing(tmp_path, run=False)["coverage"] == section["coverage"]
    built = service_report.build(shared_app, settings, tmp_path)
    printed = service_report.markdown(built | {"testing": section})
    assert "- Test run: exit code 1." in printed
    assert "- All tests: 1 passed, 1 failed, 1 skipped." in printed
    assert "- Contract tests: 1 passed, 0 failed, 0 skipped." in printed
    assert "- Coverage: 100.0% of lines (floor 50.0%), measured 20" in printed
