from __future__ import annotations

from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Selfie uploads"

    def ready(self) -> None:
        # iPhones save HEIC; pillow-heif teaches Pillow to open it.
        from pillow_heif import register_heif_opener

        register_heif_opener()
