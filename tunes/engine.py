"""The generation engine's shared rules: what training a model and generating a prompt have in
common with Astria, written once (training.py and generation.py are its two state machines).

- One attempt at a time posts an object: it claims the row with a lease that a heartbeat renews
  while it works (operations/leases.py) and lets go when it ends; a copy of the task finds it
  claimed; a killed worker's claim lapses within CLAIM_LEASE_SECONDS and the sweep sends the
  object again at once. Right before the paid post the attempt checks that the lease is still
  its own.
- Nothing is paid twice: an object that may be at Astria already (any attempt after the first,
  or a 504, a broken connection or an unreadable 201 on this one) is looked up before it is
  posted again (CONTRACT §2, §4). Astria's own idempotency is an account switch that is off
  unless its owner turns it on: the portal never relies on it.
- Astria's errors: permanent ones end the object (its `refused`/`lost` hook); transient ones
  propagate, and the Celery task backs off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import models
from django.db.models import F
from django.utils import timezone

from astria.errors import AstriaError
from operations import leases
from operations.leases import Lease

logger = logging.getLogger(__name__)
Found = TypeVar("Found")

# Astria's clock and ours may differ a little: a lookup looks this far before our first send.
LOOKUP_SKEW = timedelta(minutes=10)


@contextmanager
def submit_claim(queryset: models.QuerySet[Any], pk: int, **moved: Any) -> Iterator[Lease | None]:
    """Claim the unsent object `pk` of `queryset` for one attempt (counting it, and applying
    `moved`, e.g. a status); yields this attempt's lease (None: another attempt holds it),
    renewed while the block runs and released afterwards."""
    lease = leases.claim(
        queryset.filter(astria_id=None),
        pk,
        "submit_claimed_at",
        submit_attempts=F("submit_attempts") + 1,
        **moved,
    )
    with leases.held(lease):
        try:
            yield lease
        except ClaimLost:
            logger.warning("%s %s: claim lapsed mid-attempt, left to the next", queryset.model, pk)


class ClaimLost(Exception):
    """This attempt's lease lapsed (its process was frozen or cut off): another attempt may be
    sending the object, so this one must not."""


def submit_with_lookup(
    *,
    first_attempt: bool,
    find: Callable[[], Found | None],
    create: Callable[[], Found],
    refused: Callable[[AstriaError], object],
    lease: Lease,
) -> Found | None:
    """The object at Astria: found by `find` (unless this is the very first attempt), else
    posted by `create` while `lease` is still this attempt's (ClaimLost otherwise); after an
    answer that leaves it unknown whether Astria saved the post, looked up again before anything
    else. None: Astria refused it for good (`refused` ran). Transient errors propagate: the next
    attempt looks first."""
    found = None if first_attempt else find()
    if found is not None:
        return found
    if not lease.held():
        raise ClaimLost
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
