"""Leases: how one attempt at a job holds it, and how a dead attempt's hold ends in seconds.

A job's row carries a claim stamp (`submit_claimed_at`, `claimed_at`, …). An attempt takes the
job with a conditional update (no stamp, or one older than the lease) and, while it works, a
heartbeat thread renews the stamp every quarter of the lease. A worker that is killed stops
renewing, so its claim lapses after CLAIM_LEASE_SECONDS and the sweep hands the job on at once
(tunes/sweep.py `claims_lapsed_resume`); a live attempt, however slow, keeps its claim. An
attempt checks that it still holds the lease (`Lease.held`) right before anything that cannot be
undone, such as a paid post to Astria: a process frozen past its lease finds it gone and stops.

The same rule for every kind of job: training and generating submits, zip builds, e-mails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def lease_seconds() -> int:
    return settings.CLAIM_LEASE_SECONDS


def lapsed_before(now: datetime | None = None) -> datetime:
    """A claim stamped before this moment belongs to an attempt that is no longer renewing it."""
    return (now or timezone.now()) - timedelta(seconds=lease_seconds())


def free(field: str) -> Q:
    """Rows whose `field` claim nobody holds: never stamped, released, or lapsed."""
    return Q(**{field: None}) | Q(**{f"{field}__lt": lapsed_before()})


class Lease:
    """One attempt's hold on one row's claim field; renewed by a heartbeat while it works."""

    def __init__(self, model: type[models.Model], pk: Any, field: str, stamp: datetime) -> None:
        self.model, self.pk, self.field = model, pk, field
        self.stamp = stamp
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _mine(self) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(pk=self.pk, **{self.field: self.stamp})

    def held(self) -> bool:
        """Whether the row still carries this attempt's stamp (nobody took the job over)."""
        with self._lock:
            return self._mine().exists()

    def renew(self) -> bool:
        """Stamp the claim again; False when it is no longer this attempt's."""
        with self._lock:
            now = timezone.now()
            if not self._mine().update(**{self.field: now}):
                return False
            self.stamp = now
            return True

    def release(self, **changes: Any) -> bool:
        """Let go of the claim (and apply `changes` with it) if it is still this attempt's."""
        self._heartbeat_stop()
        with self._lock:
            return bool(self._mine().update(**{self.field: None}, **changes))

    def heartbeat_start(self) -> None:
        self._thread = threading.Thread(target=self._heartbeat, daemon=True, name="lease")
        self._thread.start()

    def _heartbeat(self) -> None:
        interval = max(lease_seconds() / 4, 0.05)
        try:
            while not self._stop.wait(interval):
                try:
                    if not self.renew():
                        return  # taken over, or released: nothing left to renew
                except DatabaseError:
                    # The attempt itself will meet the same outage; try again next beat.
                    logger.warning("lease of %s %s not renewed", self.model.__name__, self.pk)
        finally:
            connection.close()  # this thread's own connection

    def _heartbeat_stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


def claim(queryset: models.QuerySet[Any], pk: Any, field: str, **changes: Any) -> Lease | None:
    """Take the job `pk` among `queryset` if its `field` claim is free, applying `changes` in
    the same update; the lease, or None when another attempt holds it (or it is not there)."""
    stamp = timezone.now()
    taken = queryset.filter(free(field), pk=pk).update(**{field: stamp}, **changes)
    return Lease(queryset.model, pk, field, stamp) if taken else None


@contextmanager
def held(lease: Lease | None) -> Iterator[Lease | None]:
    """Keep `lease` renewed while the block runs, and release it afterwards, however it ends."""
    if lease is None:
        yield None
        return
    lease.heartbeat_start()
    try:
        yield lease
    finally:
        lease.release()


def queued_lapsed_before() -> datetime:
    """A job queued but not started yet has no heartbeat: its mark lapses after the task time
    limit, past which its task cannot be running any more."""
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
