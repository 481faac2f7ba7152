"""The Celery application, configured from Django settings (every `CELERY_*` setting)."""

from __future__ import annotations

import os

from celery import Celery

from operations.worker_alive import AliveFile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoshoot.settings")

app = Celery("photoshoot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker's liveness file, for its supervisor (operations/worker_alive.py).
app.steps["worker"].add(AliveFile)
