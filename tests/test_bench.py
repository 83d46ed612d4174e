"""The benchmark harness works: a quick run bakes, serves and loads every target cleanly."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from bench.run import ROUTES, SEEDED_NAME, forget_created_items
from tests.conftest import TEMPLATE, require_tool, run


def test_a_quick_run_measures_every_route_of_every_target_without_errors(tmp_path: Path) -> None:
    require_tool(shutil.which("wrk") is not None, "wrk (apt-get install wrk)")
    require_tool(shutil.which("psql") is not None, "psql (apt-get install postgresql-client)")

    output = run([sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path)], TEMPLATE)
    leftovers = run(["redis-cli", "-h", "127.0.0.1", "--scan", "--pattern", "bench:*"], TEMPLATE)

    [results] = tmp_path.glob("*.json")
    report = json.loads(results.read_text(encoding="utf-8"))
    assert set(report["services"]) == {"sqlite", "postgresql-redis"}
    for figures in report["services"].values():
        assert figures["start_to_first_200_seconds"] > 0
        assert figures["idle_rss_mib"] > 0
    # bare, then for each of the 2 sets: service and stackless x 6 routes, 2 statements x 2
    assert len(report["loads"]) == 1 + 2 * (2 * 6 + 2 * 2)
    for name, runs in report["loads"].items():
        assert runs[0]["requests"] > 0, name
        assert runs[0]["errors"] == runs[0]["non_2xx"] == 0, name
    for option_set, pressure in report["pressure"].items():
        assert set(pressure) == {
            "login flood",
            "health/live during it",
            "mixed reads, first",
            "mixed reads, then",
        }, option_set
        for name, load in pressure.items():
            assert load["requests"] > 0, name
            assert load["errors"] == load["non_2xx"] == 0, name
    assert "| sqlite | `users/me` |" in output
    for route in ("users/me", "items?limit=20"):
        row = rf"^\| postgresql-redis \| `{re.escape(route)}` \| 0\.\d+ \| 0\.\d+ \| 0\.\d+ \|$"
        assert re.search(row, output, re.M), route
    assert leftovers.split() == [], "the harness left keys in Redis"


def test_what_post_items_created_is_deleted_after_it_and_only_then(tmp_path: Path) -> None:
    database = tmp_path / "service.db"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE items (name TEXT)")
        connection.executemany(
            "INSERT INTO items VALUES (?)", [(f"{SEEDED_NAME} 0",), ("item 1f2e3d4c-RUN-7",)]
        )
        connection.commit()
    [post_items] = [route for route in ROUTES if route.name == "POST items"]

    def names() -> list[str]:
        with closing(sqlite3.connect(database)) as connection:
            return [name for (name,) in connection.execute("SELECT name FROM items ORDER BY 1")]

    for route in ROUTES:
        if route is not post_items:
            forget_created_items(f"sqlite+aiosqlite:///{database}", after=route)
    kept = names()
    forget_created_items(f"sqlite+aiosqlite:///{database}", after=post_items)

    assert (kept, names()) == (["item 1f2e3d4c-RUN-7", f"{SEEDED_NAME} 0"], [f"{SEEDED_NAME} 0"])
