"""Celery tasks of the uploads app."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def selfie_uploads_sweep() -> int:
    """Remove uploads that were started but never finished (scheduled hourly by beat)."""
    return services.selfie_uploads_sweep()
