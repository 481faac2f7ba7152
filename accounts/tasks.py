"""Celery tasks of the accounts app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def email_send(email_id: int) -> bool:
    """Send one e-mail of the outbox; one that fails is tried again by `outbox_flush`."""
    return services.outbox_send(email_id=email_id)


@shared_task
def outbox_flush() -> int:
    """Beat: send again what a lost task or a failing mail server left in the outbox."""
    return services.outbox_flush()


@shared_task
def sessions_clear() -> None:
    """Delete expired sessions (scheduled nightly by beat)."""
    services.sessions_clear()
