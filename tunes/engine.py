"""The generation engine's shared rules: what training a model and generating a prompt have in
common with Astria, written once (training.py and generation.py are its two state machines).

- One attempt at a time posts an object: it claims the row by stamping it and lets go when it
  ends; a copy of the task finds it claimed; the claim of a killed worker lapses after the task
  time limit, when that attempt can no longer be running.
- Nothing is paid twice: an object that may be at Astria already (any attempt after the first,
  or a 504, a broken connection or an unreadable 201 on this one) is looked up before it is
  posted again (CONTRACT §2, §4). Astria's own idempotency is an account switch that is off
  unless its owner turns it on: the portal never relies on it.
- Astria's errors: permanent ones end the object (its `refused`/`lost` hook); transient ones
  propagate, and the Celery task backs off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from astria.errors import AstriaError

Found = TypeVar("Found")

# Astria's clock and ours may differ a little: a lookup looks this far before our first send.
LOOKUP_SKEW = timedelta(minutes=10)


def claims_lapsed_before() -> datetime:
    # An attempt runs at most the task time limit: an older claim is a dead worker's.
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


@contextmanager
def submit_claim(queryset: models.QuerySet[Any], pk: int, **moved: Any) -> Iterator[bool]:
    """Claim the unsent object `pk` of `queryset` for one attempt (counting it, and applying
    `moved`, e.g. a status); yields whether this attempt has it, and lets go afterwards."""
    now = timezone.now()
    claimed = queryset.filter(
        Q(submit_claimed_at=None) | Q(submit_claimed_at__lt=claims_lapsed_before()),
        pk=pk,
        astria_id=None,
    ).update(submit_attempts=F("submit_attempts") + 1, submit_claimed_at=now, **moved)
    try:
        yield bool(claimed)
    finally:
        if claimed:
            queryset.model.objects.filter(pk=pk, submit_claimed_at=now).update(
                submit_claimed_at=None
            )


def submit_with_lookup(
    *,
    first_attempt: bool,
    find: Callable[[], Found | None],
    create: Callable[[], Found],
    refused: Callable[[AstriaError], object],
) -> Found | None:
    """The object at Astria: found by `find` (unless this is the very first attempt), else
    posted by `create`; after an answer that leaves it unknown whether Astria saved the post,
    looked up again before anything else. None: Astria refused it for good (`refused` ran).
    Transient errors propagate: the next attempt looks first."""
    found = None if first_attempt else find()
    if found is not None:
        return found
    try:
        return create()
    except AstriaError as exc:
        if exc.permanent:
            refused(exc)
            return None
        if exc.may_have_been_processed:
            found = find()
            if found is not None:
                return found
        raise


def astria_get(get: Callable[[], Found], *, lost: Callable[[AstriaError], object]) -> Found | None:
    """Our own GET of an object: None when Astria answers that it is gone for good (`lost`
    ran); transient errors propagate."""
    try:
        return get()
    except AstriaError as exc:
        if exc.permanent:
            lost(exc)
            return None
        raise


def lookup_since(first_sent: datetime | None) -> datetime:
    """How far back a lookup walks Astria's lists (newest first): to just before our first
    send, never the whole account."""
    return (first_sent or timezone.now()) - LOOKUP_SKEW


def deadline(seconds: int, now: datetime | None = None) -> datetime:
    """The moment before which a wait of `seconds` has run out (the one deadline rule)."""
    return (now or timezone.now()) - timedelta(seconds=seconds)
