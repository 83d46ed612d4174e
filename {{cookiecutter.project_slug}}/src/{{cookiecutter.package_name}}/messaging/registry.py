"""Every consumer, job handler and periodic job of the service, in one place (as `api.py`
lists the routers). A new one is added here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from {{ cookiecutter.package_name }}.auth.messages import (
    DeleteExpiredSessions,
    delete_expired_sessions,
)
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.email import email_sender
from {{ cookiecutter.package_name }}.items.messages import ItemCreated, log_item_created
{%- if cookiecutter.messaging != "local" %}
from {{ cookiecutter.package_name }}.messaging.broker import Broker
{%- endif %}
from {{ cookiecutter.package_name }}.messaging.handlers import (
    Consumer,
    Dispatcher,
    JobHandler,
)
from {{ cookiecutter.package_name }}.messaging.housekeeping import (
    PurgeHandledMessages,
    purge_handled_messages,
)
from {{ cookiecutter.package_name }}.messaging.messages import Event
from {{ cookiecutter.package_name }}.messaging.relay import Deliver, Periodic, Relay
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.users.messages import (
    SendWelcomeEmail,
    UserRegistered,
    send_welcome_email,
    welcome_new_user,
)

# Every event the service publishes, consumed here or not (the AsyncAPI document lists them).
EVENTS: list[type[Event]] = [UserRegistered, ItemCreated]
# A consumer's name keys its inbox rows: renaming one makes it handle old messages again.
CONSUMERS = [
    Consumer("welcome-email", UserRegistered, welcome_new_user),
    Consumer("item-audit-log", ItemCreated, log_item_created),
]
JOB_HANDLERS = [
    JobHandler(SendWelcomeEmail, send_welcome_email),
    JobHandler(DeleteExpiredSessions, delete_expired_sessions),
    JobHandler(PurgeHandledMessages, purge_handled_messages),
]


def periodic_jobs(settings: Settings) -> list[Periodic]:
    """The jobs that run on a schedule, every relay agreeing on one run per period."""
    return [
        Periodic(DeleteExpiredSessions(), settings.session_cleanup_seconds),
        Periodic(PurgeHandledMessages(), 86_400),
    ]


def service_dispatcher(database: Database, settings: Settings) -> Dispatcher:
    """Every consumer and job handler of the service, sending email as EMAIL_BACKEND says."""
    return Dispatcher(database, settings, email_sender(settings), CONSUMERS, JOB_HANDLERS)


def build_relay(database: Database, settings: Settings, deliver: Deliver) -> Relay:
    """A relay that hands each message on with `deliver` and schedules the periodic jobs."""
    return Relay(database, settings, deliver, periodic_jobs(settings))


@asynccontextmanager
async def hand_off(settings: Settings, dispatcher: Dispatcher) -> AsyncIterator[Deliver]:
{%- if cookiecutter.messaging == "local" %}
    """How a relay hands messages on: straight to this process's consumers and job handlers
    (the worker and the relay are one process)."""
    del settings
    yield dispatcher.handle
{%- else %}
    """How a relay hands messages on: to the broker, which the worker consumes from."""
    broker = Broker(settings)
    try:
        # The queues too, so that what is published before the worker first ran is kept.
        yield lambda envelope: broker.deliver(envelope, dispatcher)
    finally:
        await broker.close()
{%- endif %}
