"""The sweep (Celery beat, every POLL_SWEEP_SECONDS): Astria never retries a lost callback and a
broker may lose a queued task, so what is overdue is asked about or sent again, and what has
waited past its deadline fails (with refunds), for customers' photoshoots and previews alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from operations import leases

from . import engine, training
from .models import Photoshoot, Prompt, TrainedModel
from .photoshoots import EXPIRED, photoshoot_fail, photoshoot_finish_if_done, prompt_fail


def overdue_poll() -> int:
    """GET what is overdue, once per object per sweep, and fail what has waited past its
    deadline. Work whose task was lost is sent again, less often. Returns how many tasks were
    queued."""
    from .tasks import model_submit, model_sync, photoshoot_generate, prompt_submit, prompt_sync

    now = timezone.now()
    deadlines_enforce(now)
    training.models_expired_mark()
    wait = timedelta(seconds=settings.POLL_AFTER_SECONDS)
    # Sending again is rarer than asking: a copy of a task that was only late is harmless
    # (submits are claimed and look first) but adds load when Astria is down.
    resend = wait * 10
    work: list[tuple[QuerySet[Any], timedelta, Task]] = [
        (
            TrainedModel.objects.filter(status=TrainedModel.Status.TRAINING)
            .alias(due=training_due(wait))
            .filter(due__lt=now),
            wait,
            model_sync,
        ),
        (
            Prompt.objects.filter(status=Prompt.Status.SUBMITTED, submitted_at__lt=now - wait),
            wait,
            prompt_sync,
        ),
        (
            TrainedModel.objects.filter(
                status__in=[TrainedModel.Status.QUEUED, TrainedModel.Status.SUBMITTING],
                astria_id=None,
                queued_at__lt=now - resend,
            ),
            resend,
            model_submit,
        ),
        (Prompt.objects.filter(_waiting_since_before(now - resend)), resend, prompt_submit),
    ]
    queued = 0
    for queryset, every, task in work:
        # Claim each object by stamping it, so one sweep (or two at once) queues it once.
        stale = Q(last_polled_at=None) | Q(last_polled_at__lt=now - every)
        for pk in queryset.filter(stale).values_list("pk", flat=True):
            if queryset.model.objects.filter(stale, pk=pk).update(last_polled_at=now):
                task.delay(pk)
                queued += 1
    # A photoshoot whose model became ready while it was being started, or whose task to
    # generate was lost: generating is a conditional move, so a copy is harmless.
    for pk in Photoshoot.objects.filter(
        status=Photoshoot.Status.TRAINING,
        model__status=TrainedModel.Status.READY,
        created_at__lt=now - wait,
    ).values_list("pk", flat=True):
        photoshoot_generate.delay(pk)
        queued += 1
    return queued


def training_due(wait: timedelta) -> Coalesce:
    """When a model in training is due to be asked about: at its ETA, or `wait` after it was
    sent when Astria gave none (the sweep polls it after that; staff see it overdue)."""
    return Coalesce("eta", F("submitted_at") + wait)


def claims_lapsed_resume() -> int:
    """Beat, every WORK_RESUME_SECONDS: an object whose sending attempt died (its claim no
    longer renewed, see operations/leases.py) goes to a new attempt at once, which looks it up
    before posting again. The one sweep that clears the dead claim queues it. Returns how many
    were queued."""
    from .tasks import model_submit, prompt_submit

    dead = Q(astria_id=None, submit_claimed_at__lt=leases.lapsed_before())
    work: list[tuple[QuerySet[Any], Task]] = [
        (
            TrainedModel.objects.filter(
                dead, status__in=[TrainedModel.Status.QUEUED, TrainedModel.Status.SUBMITTING]
            ),
            model_submit,
        ),
        (Prompt.objects.filter(dead, status=Prompt.Status.WAITING), prompt_submit),
    ]
    queued = 0
    for queryset, task in work:
        for pk, stamp in queryset.values_list("pk", "submit_claimed_at"):
            if queryset.model.objects.filter(pk=pk, submit_claimed_at=stamp).update(
                submit_claimed_at=None
            ):
                task.delay(pk)
                queued += 1
    return queued


def overdue_oldest() -> tuple[str, Any, datetime] | None:
    """The job that has waited longest past when it should have moved on (for staff's admin
    index): what it is, the object, and when it was due. None when nothing is overdue."""
    now = timezone.now()
    wait = timedelta(seconds=settings.POLL_AFTER_SECONDS)
    unsent = [TrainedModel.Status.QUEUED, TrainedModel.Status.SUBMITTING]
    kinds: list[tuple[str, QuerySet[Any], Any]] = [
        (
            "a model in training",
            TrainedModel.objects.filter(status=TrainedModel.Status.TRAINING),
            training_due(wait),
        ),
        (
            "a model not sent to Astria",
            TrainedModel.objects.filter(status__in=unsent),
            F("queued_at") + wait,
        ),
        (
            "a scene at Astria",
            Prompt.objects.filter(status=Prompt.Status.SUBMITTED),
            F("submitted_at") + wait,
        ),
        (
            "a scene not sent to Astria",
            Prompt.objects.filter(_waiting_since_before(now)),
            F("waiting_since") + wait,
        ),
    ]
    candidates = []
    for kind, queryset, due in kinds:
        first = queryset.annotate(due=due).filter(due__lt=now).order_by("due").first()
        if first is not None:
            candidates.append((kind, first, first.due))
    return min(candidates, key=lambda candidate: candidate[2], default=None)


def _waiting_since_before(moment: datetime) -> Q:
    """Scenes not sent yet since before `moment`, of photoshoots that are generating."""
    return Q(
        status=Prompt.Status.WAITING,
        photoshoot__status__in=[Photoshoot.Status.GENERATING, Photoshoot.Status.READY],
        waiting_since__lt=moment,
    )


def deadlines_enforce(now: datetime) -> None:
    """Fail (with refunds) what has waited past its deadline, wherever it got stuck."""
    training_deadline = engine.deadline(settings.TRAINING_DEADLINE_SECONDS, now)
    for model_id in TrainedModel.objects.filter(
        Q(status=TrainedModel.Status.TRAINING, submitted_at__lt=training_deadline)
        | Q(
            status__in=[TrainedModel.Status.QUEUED, TrainedModel.Status.SUBMITTING],
            queued_at__lt=training_deadline,
        )
    ).values_list("pk", flat=True):
        training.model_fail(
            model_id=model_id,
            reason="Training took far longer than it should; we stopped waiting.",
        )
    # A photoshoot whose model is gone for good: failed, or expired while it was started on it.
    waiting = Photoshoot.objects.filter(status=Photoshoot.Status.TRAINING)
    for photoshoot_id in waiting.filter(model__status=TrainedModel.Status.FAILED).values_list(
        "pk", flat=True
    ):
        photoshoot_fail(photoshoot_id=photoshoot_id, reason="Its model could not be trained.")
    for photoshoot_id in waiting.filter(model__status=TrainedModel.Status.EXPIRED).values_list(
        "pk", flat=True
    ):
        photoshoot_fail(photoshoot_id=photoshoot_id, reason=EXPIRED)
    # One whose last scene ended while the worker that was to finish it died.
    open_scenes = Prompt.objects.filter(
        photoshoot=OuterRef("pk"), status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
    )
    for photoshoot_id in (
        Photoshoot.objects.filter(status=Photoshoot.Status.GENERATING)
        .filter(~Exists(open_scenes))
        .values_list("pk", flat=True)
    ):
        photoshoot_finish_if_done(photoshoot_id=photoshoot_id)
    prompt_deadline = engine.deadline(settings.PROMPT_DEADLINE_SECONDS, now)
    for prompt_id in Prompt.objects.filter(
        Q(status=Prompt.Status.SUBMITTED, submitted_at__lt=prompt_deadline)
        | _waiting_since_before(prompt_deadline)
    ).values_list("pk", flat=True):
        prompt_fail(prompt_id=prompt_id, reason="This scene took far longer than it should.")
