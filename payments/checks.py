"""Said at start (every manage.py command, the server's start): payments are off because
Stripe's keys are missing. A warning, not an error: the portal works without selling credits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

PAYMENTS_OFF = (
    "Payments are off: STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not both set, "
    "so nobody can buy credits."
)


@register()
def stripe_keys(**kwargs: Any) -> list[Warning]:
    if settings.PAYMENTS_ENABLED:
        return []
    return [
        Warning(
            PAYMENTS_OFF,
            hint="Set both: the API secret key, and the webhook endpoint's signing secret.",
            id="payments.W001",
        )
    ]
