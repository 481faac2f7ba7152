"""The Celery application, configured from Django settings (every `CELERY_*` setting)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photoshoot.settings")

app = Celery("photoshoot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
