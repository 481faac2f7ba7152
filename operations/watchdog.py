"""The watchdog: noticing that the periodic work has stopped.

Beat's sweep is what asks Astria about lost callbacks, resends lost tasks and enforces every
deadline; if beat (or every worker) is gone, nothing else would say so. The sweep records a
heartbeat each time it finishes; readiness and the admin index report it late once it is older
than BEAT_LATE_PERIODS sweep periods. Readiness only reports it: web processes serve fine
without beat, so the load balancer must not take them out; `/healthz/beat/` answers 503 for a
monitor that should page someone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .models import Heartbeat

SWEEP = "sweep"


def heartbeat_record(name: str = SWEEP) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


@dataclass(frozen=True)
class BeatStatus:
    last: datetime | None
    late: bool

    def sentence(self) -> str:
        if self.last is None:
            return "no sweep has run yet: is beat running?"
        seconds = int((timezone.now() - self.last).total_seconds())
        if self.late:
            return f"no sweep for {seconds} s: beat, or every worker, is down"
        return f"last sweep {seconds} s ago"


def beat_status() -> BeatStatus:
    """Whether the sweep has run within BEAT_LATE_PERIODS of its period."""
    last = Heartbeat.objects.filter(name=SWEEP).values_list("at", flat=True).first()
    allowed = timedelta(seconds=settings.POLL_SWEEP_SECONDS * settings.BEAT_LATE_PERIODS)
    return BeatStatus(last=last, late=last is None or timezone.now() - last > allowed)


@never_cache
def beat(request: HttpRequest) -> HttpResponse:
    """For an external monitor: 200 while the sweep runs on time, 503 once it is late."""
    status = beat_status()
    return HttpResponse(
        status.sentence(), status=503 if status.late else 200, content_type="text/plain"
    )
