"""Create the first administrator from the command line."""

import asyncio
import getpass
import os

from pydantic import ValidationError

from {{ cookiecutter.package_name }}.auth import service as auth_service
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.errors import Conflict
from {{ cookiecutter.package_name }}.core.logging import security_log
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.users.schemas import UserRegister

PASSWORD_VARIABLE = "ADMIN_PASSWORD"  # noqa: S105 - a variable name, not a password


class AdminCreationError(Exception):
    """Why the administrator could not be created; shown to the operator as is."""


def read_password() -> str:
    """The password from `ADMIN_PASSWORD`, or typed twice at a prompt; never an argument."""
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment:
        return from_environment
    try:
        password = getpass.getpass("Password: ")
        repeated = getpass.getpass("Repeat password: ")
    except EOFError as error:
        raise AdminCreationError(
            f"No password given: set {PASSWORD_VARIABLE} or run this in a terminal."
        ) from error
    except KeyboardInterrupt as error:
        raise AdminCreationError("Cancelled.") from error
    if password != repeated:
        raise AdminCreationError("The passwords do not match.")
    return password


async def create_admin(settings: Settings, *, email: str, full_name: str, password: str) -> str:
    """Create an active administrator; return its id."""
    try:
        data = UserRegister(email=email, password=password, full_name=full_name)
    except ValidationError as error:
        problems = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in error.errors())
        raise AdminCreationError(problems) from error
    database = Database(settings)
    try:
        async with database.sessionmaker() as session:
            user = await auth_service.register(session, PasswordHasher(settings), data)
            user.role = Role.ADMIN
            await session.commit()
    except Conflict as error:
        raise AdminCreationError(
            f"{email} is already registered; an administrator can promote it with "
            'PATCH /api/v1/users/{id} and {"role": "admin"}.'
        ) from error
    finally:
        await database.dispose()
    security_log.info("administrator_created", user_id=str(user.id), by="create-admin")
    return str(user.id)


def run_create_admin(settings: Settings, *, email: str, full_name: str) -> str:
    """Prompt for the password and create the administrator."""
    password = read_password()
    return asyncio.run(create_admin(settings, email=email, full_name=full_name, password=password))
