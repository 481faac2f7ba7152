"""The sandbox's timers and callbacks, on the project's Celery like everything else."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def sandbox_tune_start(tune_id: int) -> None:
    """A worker takes the tune: training starts and its timer runs."""
    services.tune_start(tune_id=tune_id)


@shared_task
def sandbox_tune_train(tune_id: int) -> None:
    """Training is over: the tune is trained (unless a fault says it never will be)."""
    services.tune_train(tune_id=tune_id)


@shared_task
def sandbox_prompt_generate(prompt_id: int) -> None:
    """Generation is over: the prompt gets its images, or its user_error."""
    services.prompt_generate(prompt_id=prompt_id)


@shared_task
def sandbox_callback_send(kind: str, object_id: int) -> None:
    """Deliver one callback, once, as Astria does."""
    services.callback_send(kind=kind, object_id=object_id)
