"""How far a photoshoot has got, as its page and its live status show it: the steps (photos
checked → training your model → making scenes → ready) with the one under way, a fraction for
the bar, and sentences the server writes, so the page reads the same with JavaScript or without.

The training estimate is a relative time ("ready in about 14 minutes"), from the model's ETA
that Astria gives: the server knows how long is left but not the reader's time zone, and a
clock time in UTC beside one the browser rewrote in local time showed two different times for
one moment. Making the scenes has no ETA of its own, so it is said as plainly as it is known.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timeuntil

from accounts.models import CreditEntry

from .models import Photoshoot, Prompt, TrainedModel

FINAL = {Photoshoot.Status.READY, Photoshoot.Status.FAILED}
# Closer than this, a count of minutes says more than it knows.
SOON = timedelta(minutes=1)
SCENES_ESTIMATE = "usually a few minutes more"

STEPS = (
    ("checked", "Photos checked"),
    ("training", "Training your model"),
    ("scenes", "Making scenes"),
    ("ready", "Ready"),
)
# Where each step's part of the bar starts when the model trains during the photoshoot:
# training takes most of the wait. On a model trained before, the scenes are the whole bar.
CHECKED_SHARE = 0.05
TRAINING_SHARE = 0.7


def photoshoot_progress(photoshoot: Photoshoot, now: datetime | None = None) -> dict[str, Any]:
    """Its state for the page; while it waits for its model, the model's finer one."""
    now = now or timezone.now()
    model = photoshoot.model
    waiting = photoshoot.status == Photoshoot.Status.TRAINING
    label = model.get_status_display() if waiting else photoshoot.get_status_display()
    scenes = photoshoot.prompts.aggregate(
        done=Count("pk", filter=Q(status=Prompt.Status.DONE)),
        failed=Count("pk", filter=Q(status=Prompt.Status.FAILED)),
        total=Count("pk"),
    )
    eta = model.eta if waiting else None
    photos = _photo_counts(photoshoot)
    step = _step(photoshoot)
    detail = _detail(photoshoot.status, eta, photos, now)
    return {
        "status": photoshoot.status,
        "label": label,
        # Ended, and no scene asked for since ("more like this") still on its way.
        "final": photoshoot.status in FINAL
        and scenes["done"] + scenes["failed"] == scenes["total"],
        "eta": eta.isoformat() if eta else None,
        "scenes": scenes,
        "progress": photos,
        "step": step,
        "steps": _steps(step, photoshoot.status, scenes),
        "fraction": _fraction(photoshoot, photos, now),
        "detail": detail,
        "estimate": detail if waiting else _scenes_estimate(photoshoot.status),
        "failure_reason": photoshoot.failure_reason,
    }


def _photo_counts(photoshoot: Photoshoot) -> dict[str, int]:
    """Photos in the gallery, and how many it will hold: a scene's images arrive one by one,
    so counting finished scenes showed "0 of 3 scenes done" beside photos already there."""
    taken = photoshoot.photos.count()
    # A failed scene makes no more photos: what it made is all it brings.
    of_failed = photoshoot.photos.filter(prompt__status=Prompt.Status.FAILED).count()
    coming = photoshoot.prompts.exclude(status=Prompt.Status.FAILED).aggregate(
        # Astria's own count once it answered, the pack's until then.
        n=Coalesce(Sum(Coalesce("result_count", "num_images")), 0),
    )["n"]
    return {"taken": taken, "expected": of_failed + coming}


def _step(photoshoot: Photoshoot) -> str:
    """The step under way; for a failed photoshoot, the one it stopped at."""
    if photoshoot.status == Photoshoot.Status.FAILED:
        sent = photoshoot.prompts.filter(submitted_at__isnull=False).exists()
        trained = photoshoot.model.status == TrainedModel.Status.READY
        return "scenes" if sent or trained else "training"
    if photoshoot.status == Photoshoot.Status.TRAINING:
        return "training"
    return "scenes" if photoshoot.status == Photoshoot.Status.GENERATING else "ready"


def _steps(step: str, status: str, scenes: dict[str, int]) -> list[dict[str, Any]]:
    """Each step with its state: done, current (failed, where it stopped) or to come."""
    at = [key for key, _ in STEPS].index(step)
    rows = []
    for n, (key, label) in enumerate(STEPS):
        if key == "scenes":
            label = f"{label}: {scenes['done']} of {scenes['total']}"
        if n < at or (n == at and key == "ready"):
            state = "done"
        elif n == at:
            state = "failed" if status == Photoshoot.Status.FAILED else "current"
        else:
            state = "todo"
        rows.append({"key": key, "label": label, "state": state, "current": n == at})
    return rows


def _fraction(photoshoot: Photoshoot, photos: dict[str, int], now: datetime) -> float | None:
    """How much of the wait is behind it, for the bar (None once it failed). Training's part
    moves with the time to the model's ETA, and stops short of its end until Astria says it
    is done; the scenes' part moves with the photos taken."""
    if photoshoot.status == Photoshoot.Status.FAILED:
        return None
    if photoshoot.status == Photoshoot.Status.READY:
        return 1.0
    model = photoshoot.model
    trains_here = model.trained_at is None or model.trained_at >= photoshoot.created_at
    scenes_from = TRAINING_SHARE if trains_here else CHECKED_SHARE
    if photoshoot.status == Photoshoot.Status.TRAINING:
        trained = _training_part(model, now)
        return round(CHECKED_SHARE + (TRAINING_SHARE - CHECKED_SHARE) * trained, 2)
    taken = photos["taken"] / photos["expected"] if photos["expected"] else 0
    return round(scenes_from + (1 - scenes_from) * min(taken, 1), 2)


def _training_part(model: TrainedModel, now: datetime) -> float:
    if model.eta is None or model.submitted_at is None or model.eta <= model.submitted_at:
        return 0.0
    part = (now - model.submitted_at) / (model.eta - model.submitted_at)
    return min(max(part, 0.0), 0.95)


def _detail(status: str, eta: datetime | None, photos: dict[str, int], now: datetime) -> str:
    if status == Photoshoot.Status.TRAINING and eta is not None:
        if eta - now < SOON:
            return "ready any minute now"
        return f"ready in about {timeuntil(eta, now, depth=2)}"
    if status == Photoshoot.Status.GENERATING:
        return f"{photos['taken']} of {photos['expected']} photos taken"
    return ""


def _scenes_estimate(status: str) -> str:
    return SCENES_ESTIMATE if status == Photoshoot.Status.GENERATING else ""


def refunded_credits(photoshoot: Photoshoot) -> int:
    """The credits the ledger gave back for the photoshoot: its own refund and its scenes'."""
    photoshoot_type = ContentType.objects.get_for_model(Photoshoot)
    prompt_type = ContentType.objects.get_for_model(Prompt)
    refunds = CreditEntry.objects.filter(user_id=photoshoot.owner_id, kind=CreditEntry.Kind.REFUND)
    return refunds.filter(
        Q(cause_type=photoshoot_type, cause_id=photoshoot.pk)
        | Q(cause_type=prompt_type, cause_id__in=photoshoot.prompts.values("pk"))
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
