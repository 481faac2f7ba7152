"""The Stripe sandbox's state: Checkout Sessions, refunds and events as this emulator keeps them.

In the database, like the Astria sandbox's, so that the web process (the API and the pay page),
the Celery worker (webhook delivery) and the tests see the same sandbox. Ids are Stripe-shaped
(`cs_test_…`, `pi_…`, `ch_…`, `re_…`, `evt_…`) and random.
"""

from __future__ import annotations

import secrets

from django.db import models


def stripe_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def session_id() -> str:
    return stripe_id("cs_test")


def event_id() -> str:
    return stripe_id("evt")


def refund_id() -> str:
    return stripe_id("re")


class SandboxCheckoutSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETE = "complete"
        EXPIRED = "expired"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid"
        PAID = "paid"

    id = models.CharField(primary_key=True, max_length=80, default=session_id)
    # Stripe keeps an idempotency key for 24 hours; the sandbox keeps it for good.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=20, default="payment")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    currency = models.CharField(max_length=3)
    amount_total = models.PositiveIntegerField()
    line_items = models.JSONField(default=list)
    metadata = models.JSONField(default=dict)
    client_reference_id = models.CharField(max_length=200, blank=True)
    customer_email = models.CharField(max_length=254, blank=True)
    allow_promotion_codes = models.BooleanField(default=False)
    success_url = models.URLField(max_length=5000)
    cancel_url = models.URLField(max_length=5000, blank=True)
    base_url = models.URLField(max_length=500, help_text="Where the sandbox was reached.")
    payment_intent = models.CharField(max_length=80, blank=True)
    charge = models.CharField(max_length=80, blank=True)
    amount_refunded = models.PositiveIntegerField(default=0)
    declines = models.PositiveSmallIntegerField(default=0)
    # A delayed payment (bank debit) settles once: "succeeded" or "failed".
    settled = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.id


class SandboxRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=80, default=refund_id)
    session = models.ForeignKey(
        SandboxCheckoutSession, on_delete=models.CASCADE, related_name="refunds"
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True)
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=40, blank=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.id


class SandboxEvent(models.Model):
    """An event as Stripe sends it; `payload` is the exact body of every delivery."""

    id = models.CharField(primary_key=True, max_length=80, default=event_id)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class SandboxDelivery(models.Model):
    """One webhook attempt: what the tests read (the URL is never stored: it may hold a secret)."""

    event = models.ForeignKey(SandboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.PositiveSmallIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.status}"


class SandboxStripeControl(models.Model):
    """One row: the webhook knobs (see control.StripeSandboxConfig), set over HTTP."""

    config = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Stripe sandbox configuration"
