from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic job ran to its end (the watchdog's evidence that beat, a
    worker and the broker are all working): one row per job, written by the job itself."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
