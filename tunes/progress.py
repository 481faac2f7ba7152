"""How far a photoshoot has got, as its page and its live status show it: one sentence that the
server writes, so the page reads the same with JavaScript or without.

The training estimate is a relative time ("ready in about 14 minutes"): the server knows how
long is left but not the reader's time zone, and a clock time in UTC beside one the browser
rewrote in local time showed two different times for one moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timeuntil

from .models import Photoshoot, Prompt

FINAL = {Photoshoot.Status.READY, Photoshoot.Status.FAILED}
# Closer than this, a count of minutes says more than it knows.
SOON = timedelta(minutes=1)


def photoshoot_progress(photoshoot: Photoshoot, now: datetime | None = None) -> dict[str, Any]:
    """Its state for the page; while it waits for its model, the model's finer one."""
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
    return {
        "status": photoshoot.status,
        "label": label,
        # Ended, and no scene asked for since ("more like this") still on its way.
        "final": photoshoot.status in FINAL
        and scenes["done"] + scenes["failed"] == scenes["total"],
        "eta": eta.isoformat() if eta else None,
        "scenes": scenes,
        "progress": photos,
        "detail": _detail(photoshoot.status, eta, photos, now or timezone.now()),
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


def _detail(status: str, eta: datetime | None, photos: dict[str, int], now: datetime) -> str:
    if status == Photoshoot.Status.TRAINING and eta is not None:
        if eta - now < SOON:
            return "ready any minute now"
        return f"ready in about {timeuntil(eta, now, depth=2)}"
    if status == Photoshoot.Status.GENERATING:
        return f"{photos['taken']} of {photos['expected']} photos taken"
    return ""
