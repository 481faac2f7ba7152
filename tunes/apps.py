from __future__ import annotations

from django.apps import AppConfig


class TunesConfig(AppConfig):
    name = "tunes"
    verbose_name = "Photoshoots"

    def ready(self) -> None:
        from . import astria_log  # noqa: F401 - connects the recorder of Astria calls
