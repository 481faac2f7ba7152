"""What users can buy (credit packages) and what they bought (purchases), and the Stripe
events already handled."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models

# Currencies Stripe counts in whole units (no cents); the rest have two decimals.
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}


def money(amount: int, currency: str) -> str:
    """900 eur as "€9.00"; a currency without a symbol here as "9.00 CHF"."""
    currency = currency.lower()
    number = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"


class CreditPackageQuerySet(models.QuerySet["CreditPackage"]):
    def on_sale(self) -> CreditPackageQuerySet:
        return self.filter(is_active=True).order_by("order", "price")


class CreditPackage(models.Model):
    """A number of credits for a price, edited by staff in admin."""

    name = models.CharField(max_length=100)
    credits = models.PositiveIntegerField()
    price = models.PositiveIntegerField(help_text="In minor units: 900 is 9.00.")
    currency = models.CharField(max_length=3, default="eur", help_text="ISO 4217, lower case.")
    is_active = models.BooleanField(default=True, help_text="Shown on the pricing page.")
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")

    objects: ClassVar[CreditPackageQuerySet] = CreditPackageQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["order", "price"]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="package_credits_gt_0"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="package_price_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits)"

    @property
    def price_display(self) -> str:
        return money(self.price, self.currency)


class Purchase(models.Model):
    """One Checkout Session: what was bought, for how much, and where the payment stands.
    Credits and price are copied from the package, which staff may change later."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for payment"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases"
    )
    package = models.ForeignKey(CreditPackage, on_delete=models.PROTECT, related_name="purchases")
    credits = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(help_text="In minor units.")
    currency = models.CharField(max_length=3)
    # Empty until Stripe has answered the session's creation; unique once set.
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # Stripe's receipt page for the charge (from a signed event: https only is shown).
    receipt_url = models.CharField(max_length=500, blank=True)
    # Set when a refund could not take all the credits back (the user had spent them): how
    # many the ledger could not take, for staff to decide.
    refund_shortfall = models.PositiveIntegerField(default=0)
    needs_staff = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.credits} credits for {self.user}"

    @property
    def amount_display(self) -> str:
        return money(self.amount, self.currency)

    @property
    def receipt_link(self) -> str:
        return self.receipt_url if self.receipt_url.startswith("https://") else ""


class StripeEvent(models.Model):
    """A Stripe event handled, by its id: Stripe delivers at least once, so a second delivery
    of an id finds its row and changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
