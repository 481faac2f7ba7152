"""A record of the Astria calls made for each model and prompt, for staff looking at a stuck job.

The client announces every call (`astria_called`); the engine says which model or prompt it is
working for with `calls_about`, and only calls made inside it are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.dispatch import receiver
from django.utils import timezone

from astria.client import astria_called

from .models import AstriaCall

logger = logging.getLogger(__name__)

_about: ContextVar[tuple[int | None, int | None] | None] = ContextVar(
    "astria_calls_about", default=None
)


@contextmanager
def calls_about(*, model_id: int | None = None, prompt_id: int | None = None) -> Iterator[None]:
    """Record the Astria calls made in this block against the model or the prompt."""
    token = _about.set((model_id, prompt_id))
    try:
        yield
    finally:
        _about.reset(token)


def astria_calls_prune() -> int:
    """Forget calls older than ASTRIA_CALLS_KEEP_DAYS (a model polled for hours makes many);
    returns how many went."""
    since = timezone.now() - timedelta(days=settings.ASTRIA_CALLS_KEEP_DAYS)
    deleted, _ = AstriaCall.objects.filter(at__lt=since).delete()
    return deleted


@receiver(astria_called, dispatch_uid="tunes.astria_call_record")
def astria_call_record(
    *, method: str, path: str, status: int | None, elapsed_ms: int, error: str, **kwargs: Any
) -> None:
    about = _about.get()
    if about is None:
        return
    model_id, prompt_id = about
    try:
        with transaction.atomic():  # a savepoint: a failed record spoils no outer transaction
            AstriaCall.objects.create(
                model_id=model_id,
                prompt_id=prompt_id,
                method=method,
                path=path[:200],
                status=status,
                error=error[:300],
                elapsed_ms=elapsed_ms,
            )
    except DatabaseError:
        logger.warning("could not record astria %s %s", method, path)
