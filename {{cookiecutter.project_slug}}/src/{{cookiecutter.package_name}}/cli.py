"""The command line: `serve`, `relay`, `outbox`, `create-admin`, `openapi`, `asyncapi`,
`errors` and `report`."""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from {{ cookiecutter.package_name }}.core.db import missing_database_file
from {{ cookiecutter.package_name }}.core.errors import catalogue_markdown
from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.core.metrics import MULTIPROCESS_DIRECTORY
from {{ cookiecutter.package_name }}.server import server_options
from {{ cookiecutter.package_name }}.settings import get_settings


def serve(args: argparse.Namespace) -> None:
    """Run the API under uvicorn, hardened against slow and oversized requests."""
    settings = get_settings()
    # A missing SQLite file is a wrong path or a skipped migration, and nothing would create
    # it: stop here rather than answer 503 until someone looks.
    missing = missing_database_file(settings)
    if missing is not None:
        sys.exit(
            f"error: DATABASE_URL names {missing}, which does not exist; "
            "create it with `alembic upgrade head`"
        )
    # Configured here too, so the reloader and worker supervisor log in the same format.
    configure_logging(settings)
    with metrics_shared_by(args.workers):
        uvicorn.run(
            "{{ cookiecutter.package_name }}.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            reload=args.reload,
            **server_options(settings),
        )


@contextmanager
def metrics_shared_by(workers: int) -> Iterator[None]:
    """Several workers write their metrics to one folder, which any of them reads for a
    scrape (`core.metrics`): a fresh one, removed at exit, unless PROMETHEUS_MULTIPROC_DIR
    names one already."""
    if workers < 2 or MULTIPROCESS_DIRECTORY in os.environ:  # noqa: PLR2004
        yield
        return
    with tempfile.TemporaryDirectory(prefix="metrics-") as folder:
        os.environ[MULTIPROCESS_DIRECTORY] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIRECTORY]


def create_admin(args: argparse.Namespace) -> None:
    """Create an administrator; the password comes from ADMIN_PASSWORD or a prompt."""
    from {{ cookiecutter.package_name }}.users.admin import (  # noqa: PLC0415 - only this command needs it
        AdminCreationError,
        run_create_admin,
    )

    settings = get_settings()
    configure_logging(settings)
    try:
        user_id = run_create_admin(settings, email=args.email, full_name=args.full_name)
    except AdminCreationError as error:
        sys.exit(f"error: {error}")
    print(f"Created administrator {args.email} ({user_id}).")  # noqa: T201


def errors(_: argparse.Namespace) -> None:
    """Print the error catalogue as Markdown, as `docs/errors.md` holds it."""
    sys.stdout.write(catalogue_markdown())


def asyncapi(_: argparse.Namespace) -> None:
    """Print the AsyncAPI document of the service's messages (YAML)."""
    from {{ cookiecutter.package_name }}.messaging.asyncapi import document_yaml  # noqa: PLC0415 - keep CLI start fast

    sys.stdout.write(document_yaml())


def openapi(_: argparse.Namespace) -> None:
    """Print the OpenAPI document as JSON."""
    from {{ cookiecutter.package_name }}.application import create_app  # noqa: PLC0415 - keep CLI start fast

    json.dump(create_app().openapi(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def relay(_: argparse.Namespace) -> None:
    """Hand outbox messages on until SIGTERM: a relay process of its own."""
    from {{ cookiecutter.package_name }}.messaging.commands import run_relay  # noqa: PLC0415 - keep CLI start fast

    settings = get_settings()
    configure_logging(settings)
    asyncio.run(run_relay(settings))
{%- if cookiecutter.messaging != "local" %}


def worker(_: argparse.Namespace) -> None:
    """Consume events and jobs from the broker until SIGTERM."""
    from {{ cookiecutter.package_name }}.messaging.commands import run_worker  # noqa: PLC0415 - keep CLI start fast

    settings = get_settings()
    configure_logging(settings)
    asyncio.run(run_worker(settings))
{%- endif %}


def outbox(args: argparse.Namespace) -> None:
    """List the dead outbox messages, or put them back to be sent again."""
    from {{ cookiecutter.package_name }}.messaging import commands  # noqa: PLC0415 - keep CLI start fast

    settings = get_settings()
    configure_logging(settings)
    if args.action == "dead":
        lines = asyncio.run(commands.dead_messages(settings))
        sys.stdout.write("".join(f"{line}\n" for line in lines) or "No dead messages.\n")
        return
    if not args.all and not args.ids:
        sys.exit("error: name the messages to requeue, or pass --all")
    count = asyncio.run(commands.requeue_dead(settings, None if args.all else args.ids))
    print(f"Requeued {count} message{'s' if count != 1 else ''}.")  # noqa: T201


def report(args: argparse.Namespace) -> None:
    """Print the service report (Markdown, or JSON with `--json`) for the project here."""
    from {{ cookiecutter.package_name }} import report as service_report  # noqa: PLC0415 - keep CLI start fast
    from {{ cookiecutter.package_name }}.application import create_app  # noqa: PLC0415

    settings = get_settings()
    built = service_report.build(
        create_app(settings), settings, args.project, run_tests=args.run_tests
    )
    if args.json:
        json.dump(built, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(service_report.markdown(built))


def build_parser() -> argparse.ArgumentParser:
    """The CLI's commands and options."""
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = argparse.ArgumentDefaultsHelpFormatter

    serve_parser = commands.add_parser("serve", help="run the HTTP API", formatter_class=defaults)
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve_parser.add_argument("--workers", type=int, default=1, help="worker processes")
    serve_parser.add_argument("--reload", action="store_true", help="restart on code changes")
    serve_parser.set_defaults(handler=serve)

    relay_parser = commands.add_parser("relay", help="hand outbox messages on until SIGTERM")
    relay_parser.set_defaults(handler=relay)

{%- if cookiecutter.messaging != "local" %}
    worker_parser = commands.add_parser("worker", help="consume events and jobs until SIGTERM")
    worker_parser.set_defaults(handler=worker)
{%- endif %}

    outbox_parser = commands.add_parser("outbox", help="inspect or requeue dead messages")
    actions = outbox_parser.add_subparsers(dest="action", required=True)
    actions.add_parser("dead", help="list the messages that failed their last attempt")
    requeue_parser = actions.add_parser("requeue", help="send dead messages again")
    requeue_parser.add_argument("ids", nargs="*", type=uuid.UUID, help="message ids")
    requeue_parser.add_argument("--all", action="store_true", help="every dead message")
    outbox_parser.set_defaults(handler=outbox)

    admin_parser = commands.add_parser(
        "create-admin",
        help="create an administrator (password from ADMIN_PASSWORD or a prompt)",
        formatter_class=defaults,
    )
    admin_parser.add_argument("--email", required=True, help="the administrator's login")
    admin_parser.add_argument("--full-name", default="Administrator", help="display name")
    admin_parser.set_defaults(handler=create_admin)

    openapi_parser = commands.add_parser("openapi", help="print the OpenAPI document")
    openapi_parser.set_defaults(handler=openapi)
    asyncapi_parser = commands.add_parser("asyncapi", help="print the AsyncAPI document")
    asyncapi_parser.set_defaults(handler=asyncapi)
    errors_parser = commands.add_parser("errors", help="print the error catalogue (Markdown)")
    errors_parser.set_defaults(handler=errors)

    report_parser = commands.add_parser(
        "report",
        help="report routes, security, tests and documents",
        formatter_class=defaults,
    )
    report_parser.add_argument("--json", action="store_true", help="print JSON, not Markdown")
    report_parser.add_argument(
        "--run-tests", action="store_true", help="run the tests first, with coverage"
    )
    report_parser.add_argument(
        "--project", type=Path, default=Path(), help="the project folder (docs/, .coverage)"
    )
    report_parser.set_defaults(handler=report)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `{{ cookiecutter.project_slug }}` command."""
    args = build_parser().parse_args(argv)
    args.handler(args)
