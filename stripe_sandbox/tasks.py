"""The Stripe sandbox's webhook delivery, on the project's Celery like the Astria sandbox's."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def stripe_sandbox_webhook_send(event_id: str) -> None:
    """Deliver one event, once (a duplicate is a second task)."""
    services.webhook_send(event_id=event_id)
