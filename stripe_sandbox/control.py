"""The Stripe sandbox's knobs, kept in one database row and set over HTTP
(`PUT /sandbox/stripe/_sandbox/config`, with the sandbox key), so that the web process, the
worker and the tests share them. Example:

    {"webhooks": {"drop": 1, "duplicate": 0, "delay": 2}}

Stripe retries a webhook that was not answered with a 2xx for days; the sandbox sends each
once (or twice, duplicated), so that a portal's reconciler is what recovers a dropped one.
"""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from .models import SandboxStripeControl


class WebhookFaults(BaseModel):
    """`drop` and `duplicate` are chances per event; `delay` adds seconds to every delivery."""

    model_config = ConfigDict(extra="forbid")

    drop: float = Field(default=0, ge=0, le=1)
    duplicate: float = Field(default=0, ge=0, le=1)
    delay: float = Field(default=0, ge=0, le=600)

    def delivery_delays(self) -> list[float]:
        """The countdowns at which to send one event: none (dropped), one, or two."""
        if random.random() < self.drop:  # noqa: S311 - a test knob, not cryptography
            return []
        copies = 2 if random.random() < self.duplicate else 1  # noqa: S311
        return [self.delay] * copies


class StripeSandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhooks: WebhookFaults = Field(default_factory=WebhookFaults)


def config_get() -> StripeSandboxConfig:
    row = SandboxStripeControl.objects.filter(pk=1).first()
    return StripeSandboxConfig.model_validate(row.config if row else {})


def config_set(config: StripeSandboxConfig) -> None:
    SandboxStripeControl.objects.update_or_create(pk=1, defaults={"config": config.model_dump()})
