"""What the users feature announces and the work it hands to the background."""

import uuid

import structlog

from {{ cookiecutter.package_name }}.core.email import compose
from {{ cookiecutter.package_name }}.messaging.handlers import Context
from {{ cookiecutter.package_name }}.messaging.messages import Event, Job
from {{ cookiecutter.package_name }}.messaging.outbox import enqueue

logger = structlog.get_logger(__name__)


class UserRegistered(Event):
    """An account was created, by registration or by `create-admin`."""

    TYPE = "user.registered"

    user_id: uuid.UUID
    email: str
    full_name: str


class SendWelcomeEmail(Job):
    """Welcome a new user by email."""

    TYPE = "email.welcome"

    user_id: uuid.UUID
    email: str
    full_name: str


async def welcome_new_user(event: UserRegistered, context: Context) -> None:
    """On registration, queue the welcome email (in the inbox's transaction: exactly once)."""
    enqueue(context.session, SendWelcomeEmail(**event.model_dump()))


async def send_welcome_email(job: SendWelcomeEmail, context: Context) -> None:
    """Send the welcome email."""
    greeting = f"Hello {job.full_name}," if job.full_name else "Hello,"
    body = f"{greeting}\n\nyour account is ready: you can log in as {job.email}.\n"
    message = compose(context.settings, to=job.email, subject="Welcome", body=body)
    await context.email.send(message)
    logger.info("welcome_email_sent", user_id=str(job.user_id))
