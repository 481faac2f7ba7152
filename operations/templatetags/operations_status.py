"""The state of the periodic work, for the admin index (operations/watchdog.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from operations.watchdog import beat_status

register = template.Library()


@register.inclusion_tag("admin/operations_status.html", takes_context=True)
def operations_status(context: dict[str, Any]) -> dict[str, Any]:
    """Beat's last sweep for every staff member; the oldest overdue job for those who may
    see that kind of job."""
    from tunes.sweep import overdue_oldest

    user = context["request"].user
    overdue = None
    oldest = overdue_oldest()
    if oldest is not None:
        kind, obj, due = oldest
        meta = obj._meta
        if user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            overdue = {
                "kind": kind,
                "name": str(obj),
                "minutes": int((timezone.now() - due).total_seconds() // 60),
                "url": reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]),
            }
    return {"beat": beat_status(), "overdue": overdue}
