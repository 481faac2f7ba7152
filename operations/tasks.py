"""Celery tasks of running the service."""

from __future__ import annotations

from celery import shared_task

from . import orphans


# Hourly, and a large bucket takes a while to list: longer limits than the default five
# minutes. A sweep cut short changes nothing wrong; the next one starts over.
@shared_task(soft_time_limit=1800, time_limit=1860)
def storage_orphans_sweep() -> int:
    """Remove objects in storage that no row names, once past the grace period (beat, hourly);
    returns how many were removed."""
    return orphans.storage_orphans_sweep().deleted
