"""Celery tasks of the accounts app: thin wrappers around services."""

from __future__ import annotations

import smtplib
from typing import Any

from celery import shared_task

from . import services


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def email_send(**fields: Any) -> None:
    """Deliver one e-mail; a mail server that is down or refusing is tried again later."""
    services.email_deliver(email=services.OutgoingEmail(**fields))


@shared_task
def sessions_clear() -> None:
    """Delete expired sessions (scheduled nightly by beat)."""
    services.sessions_clear()
