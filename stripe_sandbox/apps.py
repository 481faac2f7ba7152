from __future__ import annotations

from django.apps import AppConfig


class StripeSandboxConfig(AppConfig):
    name = "stripe_sandbox"
    label = "stripe_sandbox"
    verbose_name = "Stripe sandbox"
    default_auto_field = "django.db.models.BigAutoField"
