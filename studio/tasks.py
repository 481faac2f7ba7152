"""Celery tasks of pack previews: submit with retries on transient errors, then poll until
done (no callbacks: see services)."""

from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import Retry
from django.conf import settings

from astria.errors import AstriaError
from tunes.tasks import RETRY, backoff, out_of_retries

from . import services


def _poll_again(task: Task) -> Retry | None:
    """Ask again in PREVIEW_POLL_SECONDS; the services' deadlines end a wait that never ends.
    Run eagerly (tests without a worker) a poll is not repeated: it would only spin."""
    if task.request.is_eager:
        return None
    return task.retry(countdown=settings.PREVIEW_POLL_SECONDS, max_retries=None, throw=False)


@shared_task
def previews_deadlines() -> int:
    """Beat: end preview work that a lost task left waiting past its deadline."""
    return services.previews_deadlines_enforce()


@shared_task(**RETRY)
def subject_submit(self: Task, subject_id: int) -> Retry | None:
    try:
        services.subject_submit(subject_id=subject_id)
    except AstriaError as exc:
        if out_of_retries(self):
            services.subject_fail(subject_id, f"Astria could not be reached: {exc.message}")
            return None
        return backoff(self, exc)
    subject_sync.delay(subject_id)
    return None


@shared_task(bind=True, acks_late=True)
def subject_sync(self: Task, subject_id: int) -> Retry | None:
    if services.subject_sync(subject_id=subject_id):
        return _poll_again(self)
    return None


@shared_task(**RETRY)
def shot_submit(self: Task, shot_id: int) -> Retry | None:
    try:
        sent = services.shot_submit(shot_id=shot_id)
    except AstriaError as exc:
        if out_of_retries(self):
            services.shot_fail(shot_id, f"Astria could not be reached: {exc.message}")
            return None
        return backoff(self, exc)
    if sent:
        shot_sync.delay(shot_id)
    return None


@shared_task(bind=True, acks_late=True)
def shot_sync(self: Task, shot_id: int) -> Retry | None:
    if services.shot_sync(shot_id=shot_id):
        return _poll_again(self)
    return None
