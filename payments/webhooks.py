"""Stripe's webhook events: verified, parsed into typed facts at the edge, recorded once by id,
and handed to the fulfilment services.

Stripe delivers each event at least once and retries whatever is not answered 2xx for three
days, so: a known event id answers 200 and changes nothing; an event and its effects commit
together (a failure rolls both back and Stripe's retry does the work); types we do not handle
answer 200 so Stripe stops sending them. Nothing here calls Stripe: the answer is quick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from . import fulfilment
from .fulfilment import Outcome
from .models import StripeEvent


class BadSignature(Exception):
    """The payload is not Stripe's: a forged or stale signature, or not an event at all."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    object: dict[str, Any]

    def field(self, name: str) -> str:
        value = self.object.get(name)
        return value if isinstance(value, str) else ""


def event_verify(*, payload: bytes, signature: str) -> Event:
    """The event in `payload`, if Stripe signed it with STRIPE_WEBHOOK_SECRET recently enough;
    else BadSignature. The SDK's own check (HMAC-SHA256 over "<t>.<payload>", time tolerance)."""
    try:
        event = stripe.Webhook.construct_event(
            payload.decode("utf-8"),
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )
        data = event.to_dict()
        obj = data["data"]["object"]
        if not isinstance(data.get("id"), str) or not isinstance(obj, dict):
            raise BadSignature("not an event")
        return Event(id=data["id"], type=str(data.get("type", "")), object=obj)
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError) as exc:
        raise BadSignature(str(exc)) from exc


def _session_completed(event: Event) -> Outcome:
    # "paid" (cards), or "unpaid" for a delayed method: its async_payment_* event follows.
    # "no_payment_required" (a 100 % promotion code) is paid too.
    if event.object.get("payment_status") in ("paid", "no_payment_required"):
        return _session_paid(event)
    return Outcome.ALREADY


def _session_paid(event: Event) -> Outcome:
    return fulfilment.purchase_fulfil(
        session_id=event.field("id"),
        payment_intent_id=event.field("payment_intent"),
        purchase_code=event.field("client_reference_id"),
    )


def _session_failed(event: Event) -> Outcome:
    return fulfilment.purchase_mark_failed(session_id=event.field("id"))


def _session_expired(event: Event) -> Outcome:
    return fulfilment.purchase_mark_cancelled(session_id=event.field("id"))


def _purchase_code(event: Event) -> str:
    metadata = event.object.get("metadata")
    value = metadata.get("purchase") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else ""


def _charge_succeeded(event: Event) -> Outcome:
    return fulfilment.purchase_receipt_record(
        payment_intent_id=event.field("payment_intent"),
        purchase_code=_purchase_code(event),
        url=event.field("receipt_url"),
    )


def _charge_refunded(event: Event) -> Outcome:
    refunded = event.object.get("amount_refunded")
    return fulfilment.purchase_refund_record(
        payment_intent_id=event.field("payment_intent"),
        purchase_code=_purchase_code(event),
        amount_refunded=refunded if isinstance(refunded, int) else 0,
    )


HANDLERS: dict[str, Callable[[Event], Outcome]] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "charge.succeeded": _charge_succeeded,
    "charge.refunded": _charge_refunded,
}


def event_handle(event: Event) -> Outcome:
    """Record the event's id and do what it says, in one transaction; ALREADY when the id was
    handled before (or is being handled by a concurrent delivery, which the insert waits for)."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Outcome.UNKNOWN
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event.id, type=event.type)
            return handler(event)
    except IntegrityError:
        if StripeEvent.objects.filter(event_id=event.id).exists():
            return Outcome.ALREADY
        raise
