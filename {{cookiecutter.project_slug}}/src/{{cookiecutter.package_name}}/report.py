"""The service report: what the live application serves and how it is protected, tested and
documented, in four sections (`uv run {{ cookiecutter.project_slug }} report`).

The route facts and the rule findings come from `route_policy`, which the route policy tests
hold to; the testing section reads the coverage data the last test run left, or runs the
tests first when asked.
"""

import io
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from fastapi import FastAPI

from {{ cookiecutter.package_name }} import route_policy
from {{ cookiecutter.package_name }}.core.errors import CATALOGUE, catalogue_markdown
from {{ cookiecutter.package_name }}.core.protection import security_headers
from {{ cookiecutter.package_name }}.messaging.asyncapi import document_yaml
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings

Section = dict[str, Any]
# The tests whose results count as contract validation.
CONTRACT_TESTS = "tests/test_contract.py"


def implementation(app: FastAPI, settings: Settings) -> Section:
    """Every route with what it needs, and the tables behind them."""
    rows = []
    for route in route_policy.routes(app):
        policy = route_policy.rate_limit(route)
        if route_policy.authenticated(route):
            who = ", ".join(route_policy.required_permissions(route)) or "any signed-in user"
        else:
            who = "public"
        rows.append(
            {
                "route": route_policy.name(route),
                "summary": route.summary or "",
                "permission": who,
                "rate_limit": (
                    f"{policy} ({getattr(settings, f'rate_limit_{policy}')})"
                    if policy
                    else "exempt"
                ),
            }
        )
    return {"routes": rows, "tables": sorted(Base.metadata.tables)}


def security(app: FastAPI, settings: Settings) -> Section:
    """The rules' findings, authentication coverage and the headers every response carries."""
    routes = [
        route for route in route_policy.routes(app) if route_policy.path(route).startswith("/api")
    ]
    headers = [name.decode() for name, _ in security_headers(settings)]
    return {
        "authentication": {
            "covered": sum(route_policy.authenticated(route) for route in routes),
            "routes": len(routes),
            "public": sorted(
                route_policy.name(route)
                for route in routes
                if not route_policy.authenticated(route)
            ),
        },
        "authorization": {
            route_policy.name(route): route_policy.required_permissions(route)
            for route in routes
            if route_policy.authenticated(route)
        },
        "rules": {rule: check(app) for rule, check in route_policy.RULES.items()},
        "security_headers": headers,
        "allowed_hosts": settings.allowed_hosts,
        "cors_origins": settings.cors_allow_origins,
    }


def testing(root: Path, *, run: bool) -> Section:
    """Coverage of the last test run, after running the tests first if `run`."""
    section: Section = {"ran": run}
    if run:
        with tempfile.TemporaryDirectory() as scratch:
            results = Path(scratch) / "results.xml"
            completed = subprocess.run(  # noqa: S603 - this interpreter's pytest
                [sys.executable, "-m", "pytest", "-q", f"--junitxml={results}"],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            section["exit_code"] = completed.returncode
            section |= junit_counts(results) if results.exists() else {}
    section["coverage"] = coverage_of(root)
    return section


def junit_counts(junit: Path) -> Section:
    """Passed, failed and skipped counts from a JUnit file, over all and for the contract."""
    tree = ElementTree.parse(junit)  # noqa: S314 - the file pytest just wrote
    counts = {"all": _counts(), "contract": _counts()}
    for case in tree.iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in {"failure", "error"}:
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
        counts["all"][outcome] += 1
        module = case.get("classname", "").replace(".", "/") + ".py"
        if module == CONTRACT_TESTS:
            counts["contract"][outcome] += 1
    return {"tests": counts["all"], "contract_tests": counts["contract"]}


def _counts() -> dict[str, int]:
    return {"passed": 0, "failed": 0, "skipped": 0}


def coverage_of(root: Path) -> Section | None:
    """Line coverage in the data the last run left in `root`, with when; None without any."""
    data_file = root / ".coverage"
    if not data_file.exists():
        return None
    try:
        from coverage import Coverage  # noqa: PLC0415 - a development dependency
    except ImportError:  # pragma: no cover - coverage comes with the development tools
        return None
    measured = Coverage(data_file=str(data_file), config_file=str(root / "pyproject.toml"))
    measured.load()
    percent = measured.report(file=io.StringIO())
    floor = measured.get_option("report:fail_under")
    written = datetime.fromtimestamp(data_file.stat().st_mtime, UTC)
    return {"percent": round(percent, 1), "floor": floor, "measured_at": written.isoformat()}


def documentation(app: FastAPI, root: Path) -> Section:
    """Whether the exported documents are the live ones, and which codes lack an entry."""
    docs = root / "docs"
    openapi_file, errors_file = docs / "openapi.json", docs / "errors.md"
    asyncapi_file = docs / "asyncapi.yaml"
    exported = (
        json.loads(openapi_file.read_text(encoding="utf-8")) if openapi_file.exists() else None
    )
    catalogue = errors_file.read_text(encoding="utf-8") if errors_file.exists() else ""
    return {
        "openapi_current": exported == json.loads(json.dumps(app.openapi())),
        "errors_current": catalogue == catalogue_markdown(),
        "asyncapi_current": asyncapi_file.exists()
        and asyncapi_file.read_text(encoding="utf-8") == document_yaml(),
        "undocumented_codes": sorted(code for code in CATALOGUE if f"`{code}`" not in catalogue),
    }


def build(app: FastAPI, settings: Settings, root: Path, *, run_tests: bool = False) -> Section:
    """The four sections, as plain data (what `--json` prints)."""
    return {
        "implementation": implementation(app, settings),
        "security": security(app, settings),
        "testing": testing(root, run=run_tests),
        "documentation": documentation(app, root),
    }


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def markdown(report: Section) -> str:
    """The report as Markdown."""
    lines = ["# Service report", "", "## Implementation summary", ""]
    lines += ["| Route | Summary | Permission | Rate limit |", "|---|---|---|---|"]
    lines += [
        f"| `{row['route']}` | {row['summary']} | {row['permission']} | {row['rate_limit']} |"
        for row in report["implementation"]["routes"]
    ]
    lines += ["", f"Tables: {', '.join(report['implementation']['tables'])}."]

    audit = report["security"]
    auth = audit["authentication"]
    lines += ["", "## Security audit", ""]
    lines += [
        f"- Authentication: {auth['covered']} of {auth['routes']} API routes need a token; "
        f"public: {', '.join(f'`{name}`' for name in auth['public']) or 'none'}.",
        "- Authorization: "
        + "; ".join(
            f"`{name}` needs {', '.join(needs) or 'a signed-in user'}"
            for name, needs in audit["authorization"].items()
        )
        + ".",
    ]
    for rule, findings in audit["rules"].items():
        verdict = "every route" if not findings else "broken by " + "; ".join(findings)
        lines.append(f"- Each route {rule}: {verdict}.")
    lines += [
        f"- Security headers on every response: {', '.join(audit['security_headers'])}.",
        f"- Allowed hosts: {', '.join(audit['allowed_hosts'])}; "
        f"CORS origins: {', '.join(audit['cors_origins']) or 'none'}.",
    ]

    tested = report["testing"]
    lines += ["", "## Testing status", ""]
    if tested["ran"]:
        lines.append(f"- Test run: exit code {tested['exit_code']}.")
        for key, label in (("tests", "All tests"), ("contract_tests", "Contract tests")):
            if key in tested:
                counts = tested[key]
                lines.append(
                    f"- {label}: {counts['passed']} passed, {counts['failed']} failed, "
                    f"{counts['skipped']} skipped."
                )
    coverage = tested["coverage"]
    if coverage is None:
        lines.append("- Coverage: no data; run the tests (`report --run-tests`).")
    else:
        lines.append(
            f"- Coverage: {coverage['percent']}% of lines (floor {coverage['floor']}%), "
            f"measured {coverage['measured_at']}."
        )

    documented = report["documentation"]
    lines += ["", "## Documentation", ""]
    lines += [
        f"- `docs/openapi.json` is current: {_yes(documented['openapi_current'])}.",
        f"- `docs/errors.md` is current: {_yes(documented['errors_current'])}.",
        f"- `docs/asyncapi.yaml` is current: {_yes(documented['asyncapi_current'])}.",
        "- Error codes without an entry: "
        + (", ".join(documented["undocumented_codes"]) or "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"
