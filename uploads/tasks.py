"""Celery tasks of the uploads app."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task

from . import services, storage


@shared_task
def selfie_uploads_sweep() -> int:
    """Remove uploads that were started but never finished (scheduled hourly by beat)."""
    return services.selfie_uploads_sweep()


@shared_task(
    autoretry_for=(OSError, BotoCoreError, ClientError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def storage_objects_delete(names: list[str]) -> None:
    """Delete objects from storage once the rows that named them are gone."""
    storage.objects_delete(names)
