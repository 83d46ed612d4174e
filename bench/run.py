"""The benchmark harness: bake, install, serve and load the service and its baselines.

`uv run python -m bench` (README, "Benchmarks") bakes the default set and the
`postgresql-redis` set through the real hook (which installs each and runs its tests),
times each baked suite, installs each as its image does, migrates and seeds it, starts it
with its production serve command, and drives every route with wrk, alternating round by
round with the baselines (`bench/baselines.py`) so that the machine's drift cancels out.
Every figure is reported with its ratio to its baseline; results go to
`bench/results/<date>.json` and `.md`.
`--quick` runs one short round, as the template's suite does to check that the harness works.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1]
RESULTS = TEMPLATE / "bench" / "results"
POSTGRESQL_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
OPTION_SETS: dict[str, dict[str, str]] = {
    "sqlite": {},
    "postgresql-redis": {"database": "postgresql", "redis": "true"},
}
PACKAGE = "my_service"
ACCOUNT = {"email": "bench@example.com", "password": "correct-horse-battery", "full_name": "B"}
ITEM = {"name": "lamp", "price_cents": 1999, "quantity": 1}
SEEDED_ITEMS = 40
SEEDED_NAME = "seeded"  # the seeded items' names start with it; `POST items`' never do
DELETE_CREATED_ITEMS = f"DELETE FROM items WHERE name NOT LIKE '{SEEDED_NAME} %'"  # noqa: S608
# Out of reach, over a window of one second: a moving window holds the time of every request
# it let through, so over a minute it would hold the run's last minute, tens of thousands of
# times, where a real limit such as 120/minute holds 120 a caller.
UNLIMITED = "1000000000/second"
OK = 200
TIMEOUT_SECONDS = 10
START_TIMEOUT_SECONDS = 60
# Every rate-limit policy, raised out of the way: the runs measure the work, not the refusals.
RATE_LIMITS = ["DEFAULT", "LOGIN", "LOGIN_FAILURES", "REGISTER", "REFRESH", "PASSWORD_CHANGE"]


@dataclass(frozen=True)
class Route:
    """A request wrk sends, and the route of the stackless baseline it compares with."""

    name: str
    method: str
    path: str
    body: str = ""
    content_type: str = ""
    authenticated: bool = True


ROUTES = [
    Route("health/live", "GET", "/health/live", authenticated=False),
    Route("users/me", "GET", "/api/v1/users/me"),
    Route("items?limit=20", "GET", "/api/v1/items?limit=20"),
    Route("items/{id}", "GET", "/api/v1/items/{item}"),
    # `{n}` becomes a number unique to the request: an owner's item names are unique.
    Route(
        "POST items",
        "POST",
        "/api/v1/items",
        json.dumps({**ITEM, "name": "item {n}"}),
        "application/json",
    ),
    Route(
        "login",
        "POST",
        "/api/v1/auth/login",
        urllib.parse.urlencode({"username": ACCOUNT["email"], "password": ACCOUNT["password"]}),
        "application/x-www-form-urlencoded",
        authenticated=False,
    ),
]
BARE = Route("bare /", "GET", "/", authenticated=False)
# Two routes' statements alone, through the service's database layer and on the driver: the
# route each belongs to, and the paths of the statement baseline that run it.
STATEMENTS = {"users/me": "/", "items?limit=20": "/page/"}
STATEMENT_ROUTES = [
    Route(f"{route} {way}", "GET", f"{prefix}{path}", authenticated=False)
    for route, prefix in STATEMENTS.items()
    for way, path in (("through the service", "service"), ("on the driver", "driver"))
]


# A wrk script tail that numbers each request's body, so that created names never repeat.
NUMBERED_BODIES = """
local count = 0
local template = wrk.body
request = function()
  count = count + 1
  return wrk.format(nil, nil, nil, (string.gsub(template, "{n}", "RUN-" .. count)))
end
"""


# A wrk script tail that sends the authenticated reads in turn: a mixed, sustained load.
MIXED_READS = """
local paths = {"/health/live", "/api/v1/users/me", "/api/v1/items/ITEM", "/api/v1/items?limit=20"}
local turn = 0
request = function()
  turn = turn % #paths + 1
  return wrk.format(nil, paths[turn])
end
"""


@dataclass
class Load:
    """What one wrk run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx: int


@dataclass
class Report:
    """Everything one invocation measured."""

    started: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    loads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pressure: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def run(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run `command`; raise with its output when it fails."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def request(
    method: str, url: str, body: str = "", content_type: str = "", token: str = ""
) -> tuple[int, str]:
    """One request; its status and body."""
    headers = {"Content-Type": content_type} if content_type else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body.encode() or None
    outgoing = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """The resident memory of process `pid`, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Served:
    """A running server: where it listens, its process, and how long it took to answer."""

    base: str
    process: subprocess.Popen[bytes]
    start_seconds: float


@contextmanager
def serving(
    command: list[str], cwd: Path, env: Mapping[str, str], log: Path, probe: str = "/health/live"
) -> Iterator[Served]:
    """Start `command` with `{port}` filled in; yield once `probe` answers 200; stop it after."""
    port = free_port()
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=output,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            while True:
                try:
                    if request("GET", base + probe)[0] == OK:
                        break
                except OSError:
                    pass
                if (
                    process.poll() is not None
                    or time.perf_counter() - started > START_TIMEOUT_SECONDS
                ):
                    raise RuntimeError(f"{command} did not start:\n{log.read_text()}")
                time.sleep(0.01)
            yield Served(base, process, time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(timeout=30)


def wrk(
    base: str,
    route: Route,
    token: str,
    item: str,
    *,
    seconds: int,
    connections: int,
    script_tail: str = "",
) -> Load:
    """Drive `route` with wrk for `seconds`; what it measured. `script_tail` is Lua that
    wrk runs after the route's own settings."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    headers = {"Content-Type": route.content_type} if route.content_type else {}
    if route.authenticated:
        headers["Authorization"] = f"Bearer {token}"
    script.write_text(
        f"wrk.method = {json.dumps(route.method)}\n"
        f"wrk.body = {json.dumps(route.body)}\n"
        + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
        + (NUMBERED_BODIES.replace("RUN", uuid.uuid4().hex[:8]) if "{n}" in route.body else "")
        + script_tail
    )
    try:
        output = run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                # A slow answer is a latency to report, not a dropped request (wrk: 2 s).
                f"--timeout={TIMEOUT_SECONDS}s",
                "-s",
                str(script),
                base + route.path.replace("{item}", item),
            ],
            TEMPLATE,
        )
    finally:
        script.unlink()
    return parse_wrk(output)


def parse_wrk(output: str) -> Load:
    """The figures in wrk's `--latency` report."""

    def millis(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            return float("nan")
        return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match[2]]

    def count(pattern: str) -> int:
        return sum(int(n) for n in re.findall(pattern, output))

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    return Load(
        requests_per_second=float(rate[1]) if rate else 0.0,
        p50_ms=millis("50%"),
        p99_ms=millis("99%"),
        requests=int(total[1]) if total else 0,
        errors=count(r"(?:connect|read|write|timeout) (\d+)"),
        non_2xx=count(r"Non-2xx or 3xx responses: (\d+)"),
    )


def under_pressure(
    served: Served, token: str, item: str, *, seconds: int, connections: int, sustained: int
) -> tuple[dict[str, float], dict[str, Load]]:
    """Memory and liveness under pressure: `/health/live` (two connections) during a login
    flood, the memory after it, and the memory after `sustained` seconds of mixed reads and
    after nine times as long again. The figures, and the wrk runs they came from."""
    health, login = ROUTES[0], ROUTES[-1]
    with ThreadPoolExecutor(2) as pool:
        flood = pool.submit(
            wrk, served.base, login, token, item, seconds=seconds, connections=connections
        )
        during = pool.submit(wrk, served.base, health, token, item, seconds=seconds, connections=2)
        loads = {"login flood": flood.result(), "health/live during it": during.result()}
    figures = {"rss_after_login_flood_mib": rss_mib(served.process.pid)}
    mixed = MIXED_READS.replace("ITEM", item)
    for name, duration in (("first", sustained), ("then", 9 * sustained)):
        loads[f"mixed reads, {name}"] = wrk(
            served.base,
            Route("mixed", "GET", "/health/live"),
            token,
            item,
            seconds=duration,
            connections=connections,
            script_tail=mixed,
        )
        figures[f"rss_after_mixed_reads_{name}_mib"] = rss_mib(served.process.pid)
    figures["health_p99_during_login_flood_ms"] = loads["health/live during it"].p99_ms
    return figures, loads


def bake(option_set: str, work: Path) -> tuple[Path, float, str]:
    """Bake `option_set` through the real hook (install and tests); the project, the time
    from start to green, and the hook's summary line."""
    answers = [f"{key}={value}" for key, value in OPTION_SETS[option_set].items()]
    output_dir = work / option_set
    started = time.perf_counter()
    cookiecutter = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output_dir)]
    output = run([*cookiecutter, str(TEMPLATE), "init_git=false", *answers], TEMPLATE)
    seconds = time.perf_counter() - started
    summary = next((line for line in output.splitlines() if " passed" in line), output.strip())
    return output_dir / "my-service", seconds, summary


def production_install(project: Path) -> Path:
    """The service installed as its image installs it (`Dockerfile`): without the dev group,
    not editable, bytecode compiled, on the interpreter of the bake's environment. Served
    from there, memory is measured without the test tools (`rich` alone is 4.5 MiB). Its
    `bin` folder."""
    environment = project / ".venv-production"
    run(
        [
            "uv",
            "sync",
            "--quiet",
            "--no-dev",
            "--no-editable",
            "--frozen",
            "--compile-bytecode",
            "--python",
            str(project / ".venv" / "bin" / "python"),
        ],
        project,
        {**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment)},
    )
    return environment / "bin"


def suite_seconds(project: Path, env: Mapping[str, str]) -> float:
    """The wall time of the baked suite as a user runs it, `uv run pytest`."""
    started = time.perf_counter()
    run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    return time.perf_counter() - started


def service_environment(project: Path, database_url: str, prefix: str) -> dict[str, str]:
    """Production settings for the harness's runs, limits raised out of the way."""
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "LOG_JSON": "true",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": '["127.0.0.1"]',
        "REDIS_KEY_PREFIX": prefix,
        # Nothing published to the machine's broker under the service's real prefix; what
        # publishing costs a request is measured by bench/messaging.py.
        "OUTBOX_RELAY_IN_PROCESS": "false",
        "BENCH_PACKAGE": PACKAGE,
        **(
            {"REDIS_URL": REDIS_URL}
            if (project / "src" / PACKAGE / "core" / "redis.py").exists()
            else {}
        ),
        # The harness's own modules (bench.baselines); the service comes from its install.
        "PYTHONPATH": str(TEMPLATE),
    }
    env |= {f"RATE_LIMIT_{name}": UNLIMITED for name in RATE_LIMITS}
    return env


@contextmanager
def database_for(option_set: str, work: Path) -> Iterator[str]:
    """A fresh database for the service: a SQLite file, or a PostgreSQL database dropped after."""
    if OPTION_SETS[option_set].get("database") != "postgresql":
        yield f"sqlite+aiosqlite:///{work / f'{option_set}.db'}"
        return
    name = f"bench_{uuid.uuid4().hex[:12]}"
    psql = ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c"]
    run([*psql, f'CREATE DATABASE "{name}"'], TEMPLATE)
    try:
        yield f"{POSTGRESQL_SERVER}/{name}"
    finally:
        run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], TEMPLATE)


def forget_created_items(database_url: str, *, after: Route) -> None:
    """After `POST items`, delete the items it created, so that every run reads the seeded
    ones alone.

    Left in place, they would pile up run after run (the stack-off baseline shares the
    database), and each `items?limit=20` would count a larger collection than the one before:
    a later run, or the baseline measured after the service, would be slower for that alone.
    """
    if (after.method, after.path) != ("POST", "/api/v1/items"):
        return
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.split(":///", 1)[1])) as connection:
            connection.execute(DELETE_CREATED_ITEMS)
            connection.commit()
        return
    database = database_url.rsplit("/", 1)[1]
    psql = ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", database]
    # Vacuumed at once, so that no run reads past dead rows or meets autovacuum at work.
    run([*psql, "-c", DELETE_CREATED_ITEMS, "-c", "VACUUM (ANALYZE) items"], TEMPLATE)


def forget_redis_keys(project: Path, prefix: str) -> None:
    """Delete the keys a service left under `prefix`, with its own Redis client."""
    script = (
        "import redis, sys\n"
        "client = redis.Redis.from_url(sys.argv[1])\n"
        "for key in client.scan_iter(match=sys.argv[2] + '*'):\n"
        "    client.unlink(key)\n"
    )
    run([str(project / ".venv" / "bin" / "python"), "-c", script, REDIS_URL, prefix], TEMPLATE)


def seed(base: str) -> tuple[str, str]:
    """Register the account, log in, create items; an access token and one item's id."""
    request("POST", f"{base}/api/v1/auth/register", json.dumps(ACCOUNT), "application/json")
    login = ROUTES[-1]
    status, body = request("POST", base + login.path, login.body, login.content_type)
    if status != OK:
        raise RuntimeError(f"login failed: {status} {body}")
    token: str = json.loads(body)["access_token"]
    item = ""
    for n in range(SEEDED_ITEMS):
        item_body = json.dumps({**ITEM, "name": f"{SEEDED_NAME} {n}"})
        _, created = request("POST", f"{base}/api/v1/items", item_body, "application/json", token)
        if "id" not in json.loads(created):
            raise RuntimeError(f"creating an item failed: {created}")
        item = json.loads(created)["id"]
    return token, item


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 when every run finished with no error and no unexpected status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short round: a smoke test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where results go")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 1
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    report = Report(
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        settings={k: getattr(args, k) for k in ("quick", "rounds", "seconds", "connections")},
    )
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch, ExitStack() as stack:
        work = Path(scratch)
        # Each server the rounds load: the caller's token and item, its routes, its database.
        targets: dict[str, tuple[Served, str, str, list[Route], str]] = {}
        for option_set in OPTION_SETS:
            project, to_green, summary = bake(option_set, work)
            database_url = stack.enter_context(database_for(option_set, work))
            prefix = f"bench:{uuid.uuid4().hex[:8]}:"
            env = service_environment(project, database_url, prefix)
            if "REDIS_URL" in env:
                stack.callback(forget_redis_keys, project, prefix)
            installed = production_install(project)
            python = str(installed / "python")
            run([str(installed / "alembic"), "upgrade", "head"], project, env)
            service = stack.enter_context(
                serving(
                    [python, "-m", PACKAGE, "serve", "--port", "{port}"],
                    project,
                    env,
                    work / f"{option_set}.log",
                )
            )
            token, item = seed(service.base)
            env["BENCH_ACCESS_TOKEN"] = token
            baselines = {
                kind: stack.enter_context(
                    serving(
                        [python, "-m", "bench.baselines", kind, "{port}"],
                        project,
                        env,
                        work / f"{option_set}-{kind}.log",
                        probe=probe,
                    )
                )
                for kind, probe in (("stackless", "/health/live"), ("statement", "/service"))
            }
            report.services[option_set] = {
                "python": run([python, "--version"], project).split()[-1],
                "bake_to_green_seconds": round(to_green, 1),
                "hook_summary": summary,
                "suite_seconds": None
                if args.quick
                else round(suite_seconds(project, os.environ), 1),
                "start_to_first_200_seconds": round(service.start_seconds, 2),
                "idle_rss_mib": round(rss_mib(service.process.pid), 1),
            }
            targets[option_set] = (service, token, item, ROUTES, database_url)
            targets[f"{option_set} stackless"] = (
                baselines["stackless"],
                token,
                item,
                ROUTES,
                database_url,
            )
            targets[f"{option_set} statement"] = (
                baselines["statement"],
                "",
                "",
                STATEMENT_ROUTES,
                database_url,
            )
        sqlite_project = work / "sqlite" / "my-service"
        bare_env = service_environment(sqlite_project, "sqlite+aiosqlite:///unused.db", "bench:")
        bare = stack.enter_context(
            serving(
                [
                    str(sqlite_project / ".venv-production" / "bin" / "python"),
                    "-m",
                    "bench.baselines",
                    "bare",
                    "{port}",
                ],
                sqlite_project,
                bare_env,
                work / "bare.log",
                probe="/",
            )
        )
        for _ in range(args.rounds):
            report.loads.setdefault("bare", []).append(
                asdict(
                    wrk(bare.base, BARE, "", "", seconds=args.seconds, connections=args.connections)
                )
            )
            for name, (served, token, item, routes, database_url) in targets.items():
                for route in routes:
                    load = wrk(
                        served.base,
                        route,
                        token,
                        item,
                        seconds=args.seconds,
                        connections=args.connections,
                    )
                    report.loads.setdefault(f"{name} {route.name}", []).append(asdict(load))
                    forget_created_items(database_url, after=route)
        # After the rounds, so that memory is measured on a warm process.
        for option_set in OPTION_SETS:
            served, token, item, _, _ = targets[option_set]
            figures, pressure = under_pressure(
                served,
                token,
                item,
                seconds=args.seconds,
                connections=args.connections,
                sustained=1 if args.quick else 2 * args.seconds,
            )
            report.services[option_set] |= {k: round(v, 1) for k, v in figures.items()}
            report.pressure[option_set] = {name: asdict(load) for name, load in pressure.items()}
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / report.started[:10]
    stem.with_suffix(".json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    table = markdown(report)
    stem.with_suffix(".md").write_text(table)
    print(table)
    return 0 if clean(report) else 1


def median(runs: list[dict[str, Any]], key: str) -> float:
    """The median of `key` over the rounds."""
    return float(statistics.median(run[key] for run in runs))


def clean(report: Report) -> bool:
    """Whether every run finished with no error and only 2xx answers."""
    runs = [run for runs in report.loads.values() for run in runs]
    runs += [run for loads in report.pressure.values() for run in loads.values()]
    return all(run["errors"] == 0 and run["non_2xx"] == 0 for run in runs)


def markdown(report: Report) -> str:
    """The results as Markdown tables."""
    bare = median(report.loads["bare"], "requests_per_second")
    lines = [
        f"Run {report.started} on {report.machine['cpus']} CPUs, {report.machine['system']}; "
        f"wrk, one thread, "
        f"{report.settings['connections']} connections, {report.settings['seconds']} s x "
        f"{report.settings['rounds']} rounds alternated, medians. Bare FastAPI route: "
        f"{bare:,.0f} requests/s.",
        "",
        "| service | route | requests/s | x bare | x stack off | p50 ms | p99 ms | errors "
        "| non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in report.loads.items():
        if name == "bare" or " stackless " in name or " statement " in name:
            continue
        option_set, route = name.split(" ", 1)
        rate = median(runs, "requests_per_second")
        stackless = report.loads.get(f"{option_set} stackless {route}")
        off = f"{rate / median(stackless, 'requests_per_second'):.2f}" if stackless else ""
        lines.append(
            f"| {option_set} | `{route}` | {rate:,.0f} | {rate / bare:.3f} | {off} | "
            f"{median(runs, 'p50_ms'):.2f} | {median(runs, 'p99_ms'):.2f} | "
            f"{sum(run['errors'] for run in runs)} | {sum(run['non_2xx'] for run in runs)} |"
        )
    lines += [
        "",
        "| service | route | x bare | its statements through the service's database layer x bare "
        "| on the driver x bare |",
        "|---|---|---:|---:|---:|",
    ]
    for option_set in report.services:
        for route in STATEMENTS:
            ratios = [
                median(report.loads[f"{option_set} {name}"], "requests_per_second") / bare
                for name in (
                    route,
                    f"statement {route} through the service",
                    f"statement {route} on the driver",
                )
            ]
            lines.append(
                f"| {option_set} | `{route}` | " + " | ".join(f"{r:.3f}" for r in ratios) + " |"
            )
    lines += [
        "",
        "| service | Python | bake to green s | suite s | start to first 200 s | idle RSS MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for option_set, figures in report.services.items():
        lines.append(
            f"| {option_set} | {figures.get('python', '')} | {figures['bake_to_green_seconds']} | "
            f"{figures['suite_seconds']} | "
            f"{figures['start_to_first_200_seconds']} | {figures['idle_rss_mib']} |"
        )
    if report.pressure:
        lines += [
            "",
            "| service | logins/s in a flood | health/live p99 during it, ms | RSS after it MiB "
            "| mixed reads: requests, RSS MiB | then: requests, RSS MiB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
    for option_set, loads in report.pressure.items():
        figures = report.services[option_set]
        first, then = loads["mixed reads, first"], loads["mixed reads, then"]
        lines.append(
            f"| {option_set} | {loads['login flood']['requests_per_second']:,.0f} | "
            f"{figures['health_p99_during_login_flood_ms']} | "
            f"{figures['rss_after_login_flood_mib']} | "
            f"{first['requests']:,}, {figures['rss_after_mixed_reads_first_mib']} | "
            f"{first['requests'] + then['requests']:,}, "
            f"{figures['rss_after_mixed_reads_then_mib']} |"
        )
    return "\n".join(lines) + "\n"
