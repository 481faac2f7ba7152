"""Stripe Checkout: the session a purchase pays through, made with Stripe's SDK.

Every call carries the secret key and a timeout of its own (no global state but the SDK's
defaults); none is retried here. The session's creation has an idempotency key (the
purchase's code), so a retry after a lost answer finds the same session instead of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import User

from .models import CreditPackage, Purchase


class PaymentsOff(Exception):
    """Stripe's keys are missing: nothing can be bought."""


class CheckoutUnavailable(Exception):
    """Stripe did not make the session (down, refused): the purchase stays pending unpaid."""


@dataclass(frozen=True)
class SessionState:
    id: str
    paid: bool
    payment_intent_id: str


def _key() -> str:
    """The secret key, passed to each call. The SDK's module-level client is the one HTTP
    session; `stripe.api_base` (the offline stand-in's, outside production) is left to it."""
    if not settings.PAYMENTS_ENABLED:
        raise PaymentsOff
    if not isinstance(stripe.default_http_client, stripe.RequestsClient):
        stripe.default_http_client = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT)
    stripe.max_network_retries = 0
    return str(settings.STRIPE_SECRET_KEY)


def purchase_start(*, user: User, package: CreditPackage) -> tuple[Purchase, str]:
    """A pending purchase of `package` and the Checkout page's URL to send the user to."""
    key = _key()
    with transaction.atomic():
        purchase = Purchase.objects.create(
            user=user,
            package=package,
            credits=package.credits,
            amount=package.price,
            currency=package.currency,
        )
    base = settings.PUBLIC_BASE_URL
    try:
        session = stripe.checkout.Session.create(
            api_key=key,
            idempotency_key=f"purchase-{purchase.code}",
            mode="payment",
            client_reference_id=str(purchase.code),
            customer_email=user.email,
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": package.currency,
                        "unit_amount": package.price,
                        "product_data": {"name": f"{package.name}: {package.credits} credits"},
                    },
                }
            ],
            metadata={"purchase": str(purchase.code)},
            payment_intent_data={"metadata": {"purchase": str(purchase.code)}},
            allow_promotion_codes=True,
            success_url=base
            + reverse("payments:success", args=[purchase.code])
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=base + reverse("payments:cancel", args=[purchase.code]),
        )
    except stripe.StripeError as exc:
        # Failed, not deleted: had Stripe made the session after all, its payment still
        # finds this purchase by the session's client_reference_id (purchase_fulfil).
        Purchase.objects.filter(pk=purchase.pk).update(status=Purchase.Status.FAILED)
        raise CheckoutUnavailable(str(exc.user_message or "Stripe did not answer.")) from exc
    purchase.checkout_session_id = session.id
    purchase.save(update_fields=["checkout_session_id", "updated_at"])
    return purchase, str(session.url)


def session_state(*, session_id: str) -> SessionState:
    """The session as Stripe has it now (the success page asks: never the redirect's word)."""
    try:
        session = stripe.checkout.Session.retrieve(session_id, api_key=_key())
    except stripe.StripeError as exc:
        raise CheckoutUnavailable(str(exc.user_message or "Stripe did not answer.")) from exc
    intent = session.payment_intent
    return SessionState(
        id=session.id,
        paid=session.payment_status in ("paid", "no_payment_required"),
        payment_intent_id=intent if isinstance(intent, str) else getattr(intent, "id", "") or "",
    )
