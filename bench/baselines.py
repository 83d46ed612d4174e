"""The two baselines the harness measures the baked service against, served by uvicorn.

Run inside a baked service's environment, with that service's package importable:

    python -m bench.baselines bare PORT
    python -m bench.baselines stackless PORT

- `bare`: a FastAPI app with one JSON route, `GET /`.
- `stackless`: the service's own routers, database, cache and handlers without the
  cross-cutting stack: no middleware (so no access log), no rate limits, and authentication
  replaced by a loader of the caller named by `BENCH_ACCESS_TOKEN`, decoded once at start,
  which runs the same one statement as authentication (user and live session).

Both run under `serve`'s own uvicorn options. The replacements are made before the routers
are imported, not through `app.dependency_overrides`: with any override present, FastAPI
rebuilds every dependency of every request, which would slow the baseline itself.
"""

# No `from __future__ import annotations`: FastAPI reads `known_caller`'s annotation, which
# names a module imported at run time.
import importlib
import os
import sys
from typing import Annotated, Any


def bare_app() -> Any:
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
    db = importlib.import_module(f"{package}.core.db")
    settings = importlib.import_module(f"{package}.settings").get_settings()
    claims = tokens.TokenCodec(settings).verify(
        os.environ["BENCH_ACCESS_TOKEN"], tokens.TokenType.ACCESS
    )

    async def known_caller(session: db.SessionDep) -> Any:  # type: ignore[name-defined]
        return await service.authenticate(session, claims)

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


def main(argv: list[str]) -> None:
    """Serve the baseline `argv[0]` on port `argv[1]` with `serve`'s uvicorn options."""
    kind, port = argv
    package = os.environ["BENCH_PACKAGE"]
    server = importlib.import_module(f"{package}.server")
    settings = importlib.import_module(f"{package}.settings").get_settings()
    app = bare_app() if kind == "bare" else stackless_app(package)
    options = server.server_options(settings)
    options.pop("reload_dirs")
    importlib.import_module("uvicorn").run(app, host="127.0.0.1", port=int(port), **options)


if __name__ == "__main__":
    main(sys.argv[1:])
