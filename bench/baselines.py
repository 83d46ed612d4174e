"""The baselines the harness measures the baked service against, served by uvicorn.

Run inside a baked service's environment, with that service's package importable:

    python -m bench.baselines bare PORT
    python -m bench.baselines stackless PORT
    python -m bench.baselines statement PORT

- `bare`: a FastAPI app with one JSON route, `GET /`.
- `stackless`: the service's own routers, database, cache and handlers without the
  cross-cutting stack: no middleware (so no access log), no rate limits, and authentication
  replaced by a loader of the caller named by `BENCH_ACCESS_TOKEN`, decoded once at start,
  which runs the same one statement as authentication (user and live session).
- `statement`: the statements of two routes alone, with no service around them, for the
  caller named by `BENCH_ACCESS_TOKEN`. `GET /service` runs `users/me`'s one statement as
  authentication does, through the service's own database layer, and returns the user as
  `UserRead`; `GET /page/service` reads the caller's first page of 20 items as
  `items?limit=20` does (`items.service.list_items`) and returns it as the route does.
  `GET /driver` and `GET /page/driver` send the same SQL with the same parameters straight
  to the driver (asyncpg or aiosqlite) and return the rows. They show what the database
  layer costs each route, and what the driver alone would.

All run under `serve`'s own uvicorn options, with what they built at start frozen out of
garbage collection as the service's entry point does. The replacements are made before the
routers are imported, not through `app.dependency_overrides`: with any override present,
FastAPI rebuilds every dependency of every request, which would slow the baseline itself.
"""

# No `from __future__ import annotations`: FastAPI reads `known_caller`'s annotation, which
# names a module imported at run time.
import functools
import gc
import importlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any


def bare_app(_: str) -> Any:
    """One JSON route and nothing else."""
    fastapi = importlib.import_module("fastapi")
    app = fastapi.FastAPI()

    async def root() -> dict[str, str]:
        return {"status": "ok"}

    app.add_api_route("/", root, methods=["GET"])
    return app


def stackless_app(package: str) -> Any:
    """The service's routers without middleware, limits or token checks."""
    fastapi = importlib.import_module("fastapi")
    dependencies = importlib.import_module(f"{package}.auth.dependencies")
    limits = importlib.import_module(f"{package}.auth.limits")
    service = importlib.import_module(f"{package}.auth.service")
    tokens = importlib.import_module(f"{package}.auth.tokens")
    settings = importlib.import_module(f"{package}.settings").get_settings()
    claims = tokens.TokenCodec(settings).verify(
        os.environ["BENCH_ACCESS_TOKEN"], tokens.TokenType.ACCESS
    )

    async def known_caller(request: fastapi.Request) -> Any:  # type: ignore[name-defined]
        return await service.authenticate(request.app.state.database, claims)

    async def no_limit(self: Any) -> None:
        return None

    # The names the routers import: replaced before they are imported.
    setattr(dependencies, "current_principal", known_caller)  # noqa: B010
    setattr(  # noqa: B010
        dependencies,
        "CurrentPrincipal",
        Annotated[service.Principal, fastapi.Depends(known_caller)],
    )
    limits.RateLimit.__call__ = no_limit
    app = importlib.import_module(f"{package}.application").create_app(settings)
    app.user_middleware.clear()
    return app


def statement_app(package: str) -> Any:
    """Two routes' statements through the service's database layer, and on the driver."""
    fastapi = importlib.import_module("fastapi")
    sqlalchemy = importlib.import_module("sqlalchemy")
    service = importlib.import_module(f"{package}.auth.service")
    tokens = importlib.import_module(f"{package}.auth.tokens")
    items = importlib.import_module(f"{package}.items.service")
    item_schemas = importlib.import_module(f"{package}.items.schemas")
    pagination = importlib.import_module(f"{package}.core.pagination")
    user_read = importlib.import_module(f"{package}.users.schemas").UserRead
    settings = importlib.import_module(f"{package}.settings").get_settings()
    database = importlib.import_module(f"{package}.core.db").Database(settings)
    claims = tokens.TokenCodec(settings).verify(
        os.environ["BENCH_ACCESS_TOKEN"], tokens.TokenType.ACCESS
    )
    page_type = pagination.Page[item_schemas.ItemRead]
    first_page = item_schemas.ItemListParams(limit=20)
    drivers: dict[str, Callable[[], Awaitable[list[Any]]]] = {}  # filled at startup

    async def caller() -> Any:
        return (await service.authenticate(database, claims)).user

    async def page() -> Any:
        return await items.list_items(database, first_page, owner_id=claims.user_id)

    drivers_named = {"": caller, "page/": page}  # each route's path prefix, and what it runs

    async def sent_by(call: Callable[[], Awaitable[Any]]) -> tuple[str, Any]:
        """The SQL and parameters the driver receives when `call` runs."""
        sent: list[tuple[str, Any]] = []

        def note(*args: Any) -> None:
            sent.append((args[2], args[3]))

        engine = database.reader  # the engine reads run on
        sqlalchemy.event.listen(engine, "before_cursor_execute", note)
        await call()
        sqlalchemy.event.remove(engine, "before_cursor_execute", note)
        return sent[-1]

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        statements = {prefix: await sent_by(call) for prefix, call in drivers_named.items()}
        url = sqlalchemy.make_url(settings.database_url)
        if url.get_driver_name() == "asyncpg":
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool = await importlib.import_module("asyncpg").create_pool(
                dsn, max_size=settings.database_pool_size
            )
            for prefix, (sql, parameters) in statements.items():
                drivers[prefix] = functools.partial(pool.fetch, sql, *parameters)
            close = pool.close
        else:
            connection = await importlib.import_module("aiosqlite").connect(url.database)
            for prefix, (sql, parameters) in statements.items():
                drivers[prefix] = functools.partial(connection.execute_fetchall, sql, parameters)
            close = connection.close
        yield
        await close()
        await database.dispose()

    app = fastapi.FastAPI(lifespan=lifespan)

    async def service_route() -> Any:
        return user_read.model_validate(await caller())

    def driver_route(prefix: str) -> Callable[[], Awaitable[list[list[str]]]]:
        async def rows() -> list[list[str]]:
            return [[str(value) for value in row] for row in await drivers[prefix]()]

        return rows

    app.add_api_route("/service", service_route, methods=["GET"], response_model=user_read)
    app.add_api_route("/page/service", page, methods=["GET"], response_model=page_type)
    for prefix in drivers_named:
        app.add_api_route(f"/{prefix}driver", driver_route(prefix), methods=["GET"])
    return app


def main(argv: list[str]) -> None:
    """Serve the baseline `argv[0]` on port `argv[1]` with `serve`'s uvicorn options."""
    kind, port = argv
    package = os.environ["BENCH_PACKAGE"]
    server = importlib.import_module(f"{package}.server")
    settings = importlib.import_module(f"{package}.settings").get_settings()
    apps = {"bare": bare_app, "stackless": stackless_app, "statement": statement_app}
    app = apps[kind](package)
    # As the service's entry point does (`main.py`): what start-up built, out of the
    # collector's passes.
    gc.collect()
    gc.freeze()
    options = server.server_options(settings)
    options.pop("reload_dirs")
    importlib.import_module("uvicorn").run(app, host="127.0.0.1", port=int(port), **options)


if __name__ == "__main__":
    main(sys.argv[1:])
