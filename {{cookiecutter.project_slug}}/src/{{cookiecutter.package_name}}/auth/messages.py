"""Housekeeping of login sessions, run in the background."""

from {{ cookiecutter.package_name }}.auth.service import purge_expired_sessions
from {{ cookiecutter.package_name }}.messaging.handlers import Context
from {{ cookiecutter.package_name }}.messaging.messages import Job


class DeleteExpiredSessions(Job):
    """Delete the login sessions that have expired (periodic: `SESSION_CLEANUP_SECONDS`)."""

    TYPE = "auth.delete_expired_sessions"


async def delete_expired_sessions(_: DeleteExpiredSessions, context: Context) -> None:
    """Delete every expired session."""
    await purge_expired_sessions(context.session, context.now)
