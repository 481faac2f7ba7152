"""A record of the Astria calls made for each tune and prompt, for staff looking at a stuck job.

The client announces every call (`astria_called`); the lifecycle services say which tune or
prompt they are working for with `calls_about`, and only calls made inside it are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DatabaseError, transaction
from django.dispatch import receiver

from astria.client import astria_called

from .models import AstriaCall

logger = logging.getLogger(__name__)

_about: ContextVar[tuple[int, int | None] | None] = ContextVar("astria_calls_about", default=None)


@contextmanager
def calls_about(*, tune_id: int, prompt_id: int | None = None) -> Iterator[None]:
    """Record the Astria calls made in this block against the tune (and prompt)."""
    token = _about.set((tune_id, prompt_id))
    try:
        yield
    finally:
        _about.reset(token)


@receiver(astria_called, dispatch_uid="tunes.astria_call_record")
def astria_call_record(
    *, method: str, path: str, status: int | None, elapsed_ms: int, error: str, **kwargs: Any
) -> None:
    about = _about.get()
    if about is None:
        return
    tune_id, prompt_id = about
    try:
        with transaction.atomic():  # a savepoint: a failed record spoils no outer transaction
            AstriaCall.objects.create(
                tune_id=tune_id,
                prompt_id=prompt_id,
                method=method,
                path=path[:200],
                status=status,
                error=error[:300],
                elapsed_ms=elapsed_ms,
            )
    except DatabaseError:
        logger.warning("could not record astria %s %s for tune %s", method, path, tune_id)
