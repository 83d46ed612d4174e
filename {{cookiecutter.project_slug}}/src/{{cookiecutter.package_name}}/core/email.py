"""Sending email: to the log (`EMAIL_BACKEND=log`, the default, for development), or
through an SMTP server.

`EMAIL_BACKEND=smtp` sends through `SMTP_HOST`:`SMTP_PORT` with aiosmtplib, with STARTTLS,
implicit TLS or neither (`SMTP_SECURITY`), and logs in when `SMTP_USERNAME` is set.
"""

from email.message import EmailMessage
from typing import Protocol

import structlog

from {{ cookiecutter.package_name }}.settings import Settings

logger = structlog.get_logger(__name__)


class EmailSender(Protocol):
    """Something that sends an email, or raises."""

    async def send(self, message: EmailMessage) -> None:
        """Send `message`; raise if it could not be handed to the mail system."""


class LogEmail:
    """Writes each email to the log instead of sending it: recipients and subject at INFO,
    the body at DEBUG."""

    async def send(self, message: EmailMessage) -> None:
        """Log `message`."""
        logger.info("email_logged", to=message["To"], subject=message["Subject"])
        body = message.get_body(("plain",))
        logger.debug("email_body", body=body.get_content() if body else "")


class SmtpEmail:
    """Sends through an SMTP server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        """Send `message`; aiosmtplib's errors say why it could not."""
        # Imported here: a process that never sends by SMTP does not hold it in memory.
        import aiosmtplib  # noqa: PLC0415

        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_security == "starttls",
            use_tls=settings.smtp_security == "tls",
            timeout=settings.smtp_timeout_seconds,
        )
        logger.info("email_sent", to=message["To"], subject=message["Subject"])


def email_sender(settings: Settings) -> EmailSender:
    """The sender `EMAIL_BACKEND` names."""
    return SmtpEmail(settings) if settings.email_backend == "smtp" else LogEmail()


def compose(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text email from `EMAIL_FROM`."""
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message
