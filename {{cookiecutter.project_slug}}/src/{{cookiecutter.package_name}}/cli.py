"""The command line: `serve`, `create-admin` and `openapi`."""

import argparse
import json
import sys
from collections.abc import Sequence

import uvicorn


def serve(args: argparse.Namespace) -> None:
    """Run the API under uvicorn with uvloop and httptools."""
    uvicorn.run(
        "{{ cookiecutter.package_name }}.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        loop="uvloop",
        http="httptools",
        proxy_headers=True,
        access_log=False,  # the service writes its own structured access log
        log_config=None,  # keep the service's logging configuration
    )


def openapi(_: argparse.Namespace) -> None:
    """Print the OpenAPI document as JSON."""
    from {{ cookiecutter.package_name }}.main import create_app  # noqa: PLC0415 - keep CLI start fast

    json.dump(create_app().openapi(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def create_admin(args: argparse.Namespace) -> None:
    """Create an administrator; the password comes from ADMIN_PASSWORD or a prompt."""
    from {{ cookiecutter.package_name }}.settings import get_settings  # noqa: PLC0415
    from {{ cookiecutter.package_name }}.users.admin import (  # noqa: PLC0415
        AdminCreationError,
        run_create_admin,
    )

    try:
        user_id = run_create_admin(get_settings(), email=args.email, full_name=args.full_name)
    except AdminCreationError as error:
        sys.exit(f"error: {error}")
    print(f"Created administrator {args.email} ({user_id}).")  # noqa: T201


def build_parser() -> argparse.ArgumentParser:
    """The CLI's commands and options."""
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the HTTP API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.add_argument("--reload", action="store_true", help="restart on code changes")
    serve_parser.set_defaults(handler=serve)

    admin_parser = commands.add_parser(
        "create-admin", help="create an administrator (password from ADMIN_PASSWORD or a prompt)"
    )
    admin_parser.add_argument("--email", required=True)
    admin_parser.add_argument("--full-name", default="Administrator")
    admin_parser.set_defaults(handler=create_admin)

    openapi_parser = commands.add_parser("openapi", help="print the OpenAPI document")
    openapi_parser.set_defaults(handler=openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `{{ cookiecutter.project_slug }}` command."""
    args = build_parser().parse_args(argv)
    args.handler(args)
