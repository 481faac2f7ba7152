from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    label = "astria_sandbox"
    verbose_name = "Astria sandbox"
    default_auto_field = "django.db.models.BigAutoField"
