"""How far a photoshoot has got, as its page and its live status show it: one sentence that the
server writes, so the page reads the same with JavaScript or without.

The training estimate is a relative time ("ready in about 14 minutes"): the server knows how
long is left but not the reader's time zone, and a clock time in UTC beside one the browser
rewrote in local time showed two different times for one moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
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
    return {
        "status": photoshoot.status,
        "label": label,
        # Ended, and no scene asked for since ("more like this") still on its way.
        "final": photoshoot.status in FINAL
        and scenes["done"] + scenes["failed"] == scenes["total"],
        "eta": eta.isoformat() if eta else None,
        "scenes": scenes,
        "detail": _detail(photoshoot.status, eta, scenes, now or timezone.now()),
        "failure_reason": photoshoot.failure_reason,
    }


def _detail(status: str, eta: datetime | None, scenes: dict[str, int], now: datetime) -> str:
    if status == Photoshoot.Status.TRAINING and eta is not None:
        if eta - now < SOON:
            return "ready any minute now"
        return f"ready in about {timeuntil(eta, now, depth=2)}"
    if status == Photoshoot.Status.GENERATING:
        return f"{scenes['done']} of {scenes['total']} scenes done"
    return ""
