"""The cost of the outbox: publishing an event in a request, and the relay's throughput.

Run it with a baked service's own interpreter, from the service's folder, which it measures
in-process on a SQLite file of its own (no server, no network):

    cd my-service && uv run python /path/to/backend-template/bench/messaging.py

- `POST /api/v1/items` with the `item.created` event published, against the same route with
  `publish` made a no-op, in alternated rounds; the ratio is what the event costs a request.
- The relay handing 2,000 job rows on, in batches of `OUTBOX_BATCH_SIZE`: to this process's
  handlers (every service), and to the broker the service was baked with, if any, at
  BROKER_URL under a prefix of its own that it deletes afterwards.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import statistics
import sys
import tempfile
import time
import tomllib
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any

ROUNDS = 5
REQUESTS_PER_ROUND = 300
RELAYED = 2_000


def package() -> str:
    """The import package of the service in the current folder."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))
    return str(project["project"]["name"]).replace("-", "_")


def service_module(name: str, path: str) -> Any:
    """A module of the service: `items.service` -> `my_service.items.service`."""
    return importlib.import_module(f"{name}.{path}")


async def request_cost(app: Any, name: str) -> None:
    """`POST /api/v1/items` with the event published and with `publish` made a no-op."""
    httpx = importlib.import_module("httpx")
    items_service = service_module(name, "items.service")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = {"email": "bench@example.com", "password": "correct-horse-battery"}
        await client.post("/api/v1/auth/register", json={**body, "full_name": "Bench"})
        login = {"username": body["email"], "password": body["password"]}
        token = (await client.post("/api/v1/auth/login", data=login)).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        real_publish = items_service.publish
        timings: dict[str, list[float]] = {"with event": [], "without": []}
        counter = 0
        for _ in range(ROUNDS):
            for label, spent in timings.items():
                items_service.publish = real_publish if label == "with event" else no_op
                started = time.perf_counter()
                for _ in range(REQUESTS_PER_ROUND):
                    counter += 1
                    item = {"name": f"Item {counter}", "price_cents": 1}
                    response = await client.post("/api/v1/items", json=item)
                    if response.status_code != HTTPStatus.CREATED:
                        raise RuntimeError(response.text)
                spent.append((time.perf_counter() - started) / REQUESTS_PER_ROUND)
        items_service.publish = real_publish
    with_event = statistics.median(timings["with event"])
    without = statistics.median(timings["without"])
    print(f"POST /api/v1/items, median of {ROUNDS} alternated rounds of {REQUESTS_PER_ROUND}:")
    print(f"  with the event {with_event * 1e6:.0f} us, without {without * 1e6:.0f} us,")
    print(f"  ratio {without / with_event:.3f} (throughput with the event / without)")


def no_op(*_: object) -> None:
    """`publish` when the event is left out."""


async def relay_throughput(app: Any, settings: Any, name: str) -> None:
    """How fast a relay hands 2,000 rows on, to this process's handlers and to the broker."""
    database = app.state.database
    outbox = service_module(name, "messaging.outbox")
    handlers = service_module(name, "messaging.handlers")

    class Nothing(service_module(name, "messaging.messages").Job):  # type: ignore[misc]
        TYPE = "bench.nothing"

    async def nothing(_: object, __: object) -> None:
        return None

    dispatcher = handlers.Dispatcher(
        database,
        settings,
        service_module(name, "core.email").LogEmail(),
        [],
        [handlers.JobHandler(Nothing, nothing)],
    )
    transports: list[tuple[str, Any, Any]] = [("in-process handlers", dispatcher.handle, None)]
    if importlib.util.find_spec(f"{name}.messaging.broker"):
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        broker_settings = settings.model_copy(update={"broker_prefix": prefix})
        broker = service_module(name, "messaging.broker").Broker(broker_settings)
        await broker.connect(dispatcher)
        transports.append(("the broker, confirmed", broker.deliver, broker))
    for label, deliver, owner in transports:
        async with database.sessionmaker() as session, session.begin():
            for _ in range(RELAYED):
                outbox.enqueue(session, Nothing())
        relay = service_module(name, "messaging.relay").Relay(database, settings, deliver)
        started = time.perf_counter()
        while await relay.run_once():
            pass
        elapsed = time.perf_counter() - started
        print(f"relay to {label}: {RELAYED / elapsed:,.0f} messages/s ({elapsed:.2f} s)")
        if owner is not None:
            await cleanup(owner, settings)


async def main() -> None:
    """Migrate a SQLite file of the run's own, then measure."""
    # The service's dependencies, which this interpreter (the service's) has.
    command = importlib.import_module("alembic.command")
    config = importlib.import_module("alembic.config").Config("alembic.ini")
    name = package()
    sys.path[:0] = ["src", "."]
    base_settings = importlib.import_module("tests.conftest").base_settings
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        settings = base_settings().model_copy(update={"database_url": url})
        config.attributes["database_url"] = url
        await asyncio.to_thread(command.upgrade, config, "head")
        app = service_module(name, "application").create_app(settings)
        await request_cost(app, name)
        await relay_throughput(app, settings, name)
        await app.state.database.dispose()


async def cleanup(broker: Any, settings: Any) -> None:
    """Delete what the run declared on the broker."""
    prefix = broker.prefix
    url = settings.broker_url.get_secret_value()
    await broker.close()
    if url.startswith("nats"):
        connection = await importlib.import_module("nats").connect(url)
        await connection.jetstream().delete_stream(prefix)
        await connection.close()
        return
    async with await importlib.import_module("aio_pika").connect(url) as connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{prefix}.job:bench.nothing")
        await channel.queue_delete(f"{prefix}.dead")
        for exchange in (prefix, f"{prefix}.dead"):
            await channel.exchange_delete(exchange)


if __name__ == "__main__":
    asyncio.run(main())
