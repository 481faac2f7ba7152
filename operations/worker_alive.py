"""A worker's liveness for its supervisor: the worker's main process touches a file every
WORKER_ALIVE_SECONDS from Celery's own timer, and `manage.py worker_alive` says whether the file
is fresh. A worker that is hung or dead stops touching it; one waiting for its broker to come
back still touches it (it is alive, and restarting it would not bring the broker back).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from celery import bootsteps
from django.conf import settings

# Missed touches before the worker counts as dead (one late touch on a busy host is not death).
MISSES_ALLOWED = 3


def alive_file() -> Path:
    return Path(settings.WORKER_ALIVE_FILE)


def worker_age() -> float | None:
    """Seconds since the worker last touched its file; None when there is no file."""
    try:
        return time.time() - alive_file().stat().st_mtime
    except FileNotFoundError:
        return None


def worker_alive() -> bool:
    age = worker_age()
    return age is not None and age <= settings.WORKER_ALIVE_SECONDS * MISSES_ALLOWED


class AliveFile(bootsteps.StartStopStep):
    """The bootstep that keeps the file fresh while the worker runs, and removes it on stop."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.timer_entry: Any = None

    def start(self, worker: Any) -> None:
        alive_file().parent.mkdir(parents=True, exist_ok=True)
        alive_file().touch()
        self.timer_entry = worker.timer.call_repeatedly(
            settings.WORKER_ALIVE_SECONDS, alive_file().touch, priority=10
        )

    def stop(self, worker: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        alive_file().unlink(missing_ok=True)
