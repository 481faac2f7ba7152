from __future__ import annotations

from django.apps import AppConfig


class TunesConfig(AppConfig):
    name = "tunes"
    verbose_name = "Photoshoots"
