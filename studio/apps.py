from __future__ import annotations

from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The creatives' studio: sample subjects, pack previews, and the Creatives group."""

    name = "studio"
    verbose_name = "Studio"
