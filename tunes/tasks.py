"""Celery tasks of the generation engine: ids in, a service call, retries only when the error
is transient (CONTRACT.md §2: back off, a first wait of at least 30 s in production)."""

from __future__ import annotations

from typing import Literal, TypedDict

from celery import Task, shared_task
from celery.exceptions import Retry
from django.conf import settings

from astria.errors import AstriaError

from . import generation, ingest, photoshoots, sweep, training, zips


class RetryOptions(TypedDict):
    # Typed so that `shared_task(**RETRY)` is checked as a bound task: `self` is a Task.
    bind: Literal[True]
    max_retries: int
    acks_late: bool


RETRY: RetryOptions = {
    "bind": True,
    "max_retries": 8,
    "acks_late": True,
}


def out_of_retries(task: Task) -> bool:
    """Whether the task has used up its retries (a max_retries of None has no limit)."""
    return task.max_retries is not None and task.request.retries >= task.max_retries


def backoff(task: Task, exc: AstriaError | ingest.IngestError) -> Retry:
    """Schedule a retry with exponential backoff and jitter; a 504 waits longer before
    looking again. The task returns what this returns: raising Retry instead would also escape
    from eager runs (tests), which Celery only re-runs for a returned Retry."""
    import random

    if out_of_retries(task):
        raise exc  # the sweep and the deadlines take it from here
    base = settings.ASTRIA_RETRY_SECONDS * (2**task.request.retries)
    # Under the broker's visibility timeout, or the broker would hand the waiting retry to a
    # second worker as well.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    base = min(base, visibility / 3)
    if getattr(exc, "may_have_been_processed", False):
        base = max(base, 2 * settings.ASTRIA_RETRY_SECONDS)
    countdown = base + random.uniform(0, base / 2)  # noqa: S311
    return task.retry(exc=exc, countdown=countdown, throw=False)


@shared_task(**RETRY)
def model_submit(self: Task, model_id: int) -> Retry | None:
    try:
        training.model_submit(model_id=model_id)
    except AstriaError as exc:
        return backoff(self, exc)
    return None


@shared_task(**RETRY)
def model_sync(self: Task, model_id: int) -> Retry | None:
    try:
        training.model_sync(model_id=model_id)
    except AstriaError as exc:
        return backoff(self, exc)
    return None


@shared_task(**RETRY)
def photoshoot_generate(self: Task, photoshoot_id: int) -> Retry | None:
    try:
        photoshoots.photoshoot_generate(photoshoot_id=photoshoot_id)
    except AstriaError as exc:
        return backoff(self, exc)
    return None


@shared_task(**RETRY)
def prompt_submit(self: Task, prompt_id: int) -> Retry | None:
    try:
        generation.prompt_submit(prompt_id=prompt_id)
    except AstriaError as exc:
        return backoff(self, exc)
    return None


@shared_task(**RETRY)
def prompt_sync(self: Task, prompt_id: int) -> Retry | None:
    try:
        generation.prompt_sync(prompt_id=prompt_id)
    except AstriaError as exc:
        return backoff(self, exc)
    return None


@shared_task(**RETRY)
def photo_ingest(
    self: Task, prompt_id: int, index: int, url: str, astria_id: int | None = None
) -> Retry | None:
    """Copy one result; when it cannot be copied for good, the scene fails (and is refunded).
    A copy for an earlier attempt at the scene (`astria_id` no longer its own) does nothing."""
    try:
        if not ingest.photo_ingest(prompt_id=prompt_id, index=index, url=url, astria_id=astria_id):
            return None
    except ingest.IngestError as exc:
        if exc.transient and not out_of_retries(self):
            return backoff(self, exc)
        photoshoots.prompt_fail(prompt_id=prompt_id, reason=f"A photo could not be copied: {exc}")
        return None
    generation.prompt_complete_if_done(prompt_id=prompt_id)
    return None


@shared_task
def tunes_poll_overdue() -> int:
    """Beat: poll models and prompts whose callback is overdue; fail those past deadline; and
    say so to the watchdog once done."""
    from operations.watchdog import heartbeat_record

    queued = sweep.overdue_poll()
    heartbeat_record()
    return queued


@shared_task
def claims_lapsed_resume() -> int:
    """Beat, every few seconds: send again what a dead worker was sending."""
    return sweep.claims_lapsed_resume()


@shared_task
def astria_calls_prune() -> int:
    """Beat: forget the record of old Astria calls."""
    from .astria_log import astria_calls_prune

    return astria_calls_prune()


@shared_task
def zip_build(photoshoot_id: int) -> None:
    """Zip a large gallery once, so that its download is a plain file."""
    zips.zip_build(photoshoot_id=photoshoot_id)
