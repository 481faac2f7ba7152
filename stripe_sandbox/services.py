"""What the Stripe sandbox does: create Checkout Sessions as Stripe would, take the pay page's
answer, refund, and deliver signed webhooks.

Every state change is a conditional update from the expected state, so a double click or a
task delivered twice does its work once. Events are written with the change and delivered by
Celery after commit, with the configured faults.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from . import outbound
from .control import config_get
from .errors import StripeError, missing
from .models import SandboxCheckoutSession, SandboxDelivery, SandboxEvent, SandboxRefund
from .objects import charge_json, session_json
from .params import RefundCreate, SessionCreate

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = (5, 10)
API_VERSION = "2026-10-28.endive"  # the pinned SDK's (stripe.api_version)
Status = SandboxCheckoutSession.Status
PaymentStatus = SandboxCheckoutSession.PaymentStatus


def request_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _idempotent_replay(model: Any, key: str | None, digest: str) -> Any:
    """The object made earlier with this Idempotency-Key, or None; the key with other
    parameters is Stripe's idempotency_error."""
    if not key:
        return None
    found = model.objects.filter(idempotency_key=key).first()
    if found and found.request_hash != digest:
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            "first used with. Try using a key other than '" + key + "' if you meant to execute "
            "a different request.",
            type="idempotency_error",
        )
    return found


def session_create(
    *, data: SessionCreate, digest: str, idempotency_key: str | None, base_url: str
) -> SandboxCheckoutSession:
    """A new open Checkout Session, or the one this Idempotency-Key already made."""
    if found := _idempotent_replay(SandboxCheckoutSession, idempotency_key, digest):
        return found
    try:
        with transaction.atomic():
            return SandboxCheckoutSession.objects.create(
                idempotency_key=idempotency_key or None,
                request_hash=digest,
                mode=data.mode,
                currency=data.currency,
                amount_total=data.amount_total,
                line_items=[item.model_dump() for item in data.line_items],
                metadata=data.metadata,
                client_reference_id=data.client_reference_id,
                customer_email=data.customer_email,
                allow_promotion_codes=data.allow_promotion_codes,
                success_url=data.success_url,
                cancel_url=data.cancel_url,
                base_url=base_url,
            )
    except IntegrityError:  # the same key, sent concurrently: the first one won
        return _idempotent_replay(SandboxCheckoutSession, idempotency_key, digest)


def session_get(session_id: str) -> SandboxCheckoutSession:
    session = SandboxCheckoutSession.objects.filter(pk=session_id).first()
    if session is None:
        raise missing("checkout.session", session_id)
    return session


def redirect_url(session: SandboxCheckoutSession) -> str:
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)


@transaction.atomic
def session_pay(*, session_id: str, delayed: bool = False) -> SandboxCheckoutSession | None:
    """The payer paid on the hosted page: the session is complete and paid (or, for a delayed
    method such as a bank debit, complete and still unpaid), and checkout.session.completed is
    sent. None if the session was no longer open."""
    done = SandboxCheckoutSession.objects.filter(pk=session_id, status=Status.OPEN).update(
        status=Status.COMPLETE,
        payment_status=PaymentStatus.UNPAID if delayed else PaymentStatus.PAID,
        payment_intent=f"pi_{secrets.token_hex(12)}",
        charge="" if delayed else f"ch_{secrets.token_hex(12)}",
    )
    if not done:
        return None
    session = SandboxCheckoutSession.objects.get(pk=session_id)
    event_emit(type="checkout.session.completed", obj=session_json(session))
    return session


def session_decline(*, session_id: str) -> None:
    """The card was declined: Stripe keeps the session open for another try and sends nothing."""
    SandboxCheckoutSession.objects.filter(pk=session_id, status=Status.OPEN).update(
        declines=F("declines") + 1
    )


@transaction.atomic
def session_settle(*, session_id: str, succeeded: bool) -> SandboxCheckoutSession:
    """A delayed payment settles: async_payment_succeeded (now paid) or async_payment_failed."""
    kind = "succeeded" if succeeded else "failed"
    updates: dict[str, Any] = {"settled": kind}
    if succeeded:
        updates |= {"payment_status": PaymentStatus.PAID, "charge": f"ch_{secrets.token_hex(12)}"}
    done = SandboxCheckoutSession.objects.filter(
        pk=session_id, status=Status.COMPLETE, payment_status=PaymentStatus.UNPAID, settled=""
    ).update(**updates)
    session = session_get(session_id)
    if not done:
        raise StripeError("Only a completed session with a delayed payment can settle, once.")
    event_emit(type=f"checkout.session.async_payment_{kind}", obj=session_json(session))
    return session


@transaction.atomic
def session_expire(*, session_id: str) -> SandboxCheckoutSession:
    """Expire an open session now (Stripe's POST /v1/checkout/sessions/<id>/expire)."""
    done = SandboxCheckoutSession.objects.filter(pk=session_id, status=Status.OPEN).update(
        status=Status.EXPIRED
    )
    session = session_get(session_id)
    if not done:
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This session '
            f'has a status of "{session.status}".'
        )
    event_emit(type="checkout.session.expired", obj=session_json(session))
    return session


@transaction.atomic
def refund_create(*, data: RefundCreate, digest: str, idempotency_key: str | None) -> SandboxRefund:
    """Refund (part of) a paid session's charge, and send charge.refunded."""
    if found := _idempotent_replay(SandboxRefund, idempotency_key, digest):
        return found
    lookup = {"payment_intent": data.payment_intent} if data.payment_intent else {}
    lookup |= {"charge": data.charge} if data.charge else {}
    session = SandboxCheckoutSession.objects.select_for_update().filter(**lookup).first()
    if session is None:
        kind, value = (
            ("payment_intent", data.payment_intent)
            if data.payment_intent
            else (
                "charge",
                data.charge,
            )
        )
        raise missing(kind, value, param=kind)
    if not session.charge:
        raise StripeError(
            "This PaymentIntent does not have a successful charge to refund.",
            param="payment_intent",
        )
    left = session.amount_total - session.amount_refunded
    if left <= 0:
        raise StripeError(
            f"Charge {session.charge} has already been refunded.", code="charge_already_refunded"
        )
    amount = data.amount or left
    if amount > left:
        raise StripeError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount",
        )
    refund = SandboxRefund.objects.create(
        session=session,
        idempotency_key=idempotency_key or None,
        request_hash=digest,
        amount=amount,
        reason=data.reason,
        metadata=data.metadata,
    )
    session.amount_refunded += amount
    session.save(update_fields=["amount_refunded"])
    event_emit(type="charge.refunded", obj=charge_json(session))
    return refund


# --- Webhooks ---------------------------------------------------------------------------------


def event_emit(*, type: str, obj: dict[str, Any]) -> SandboxEvent:
    """Write the event and queue its delivery (dropped, once or twice) after commit."""
    from .tasks import stripe_sandbox_webhook_send

    event = SandboxEvent(type=type)
    event.payload = {
        "id": event.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }
    event.save()
    for delay in config_get().webhooks.delivery_delays():
        transaction.on_commit(
            functools.partial(
                stripe_sandbox_webhook_send.apply_async, (event.id,), countdown=delay
            ),
            robust=True,
        )
    return event


def signature_header(payload: str, *, secret: str, at: int) -> str:
    """Stripe's `Stripe-Signature`: `t=<unix time>,v1=<HMAC-SHA256 of "t.payload">`."""
    mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def webhook_send(*, event_id: str) -> int | None:
    """POST one event to STRIPE_SANDBOX_WEBHOOK_URL, signed at sending time as Stripe signs
    each attempt; once, no retry, no redirect followed. The answer's status is recorded."""
    event = SandboxEvent.objects.filter(pk=event_id).first()
    if event is None:
        return None
    url = settings.STRIPE_SANDBOX_WEBHOOK_URL
    payload = json.dumps(event.payload, indent=2)
    status: int | None = None
    try:
        outbound.webhook_check(url)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(
                payload, secret=settings.STRIPE_SANDBOX_WEBHOOK_SECRET, at=int(time.time())
            ),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) sandbox",
        }
        status = requests.post(
            url,
            data=payload.encode(),
            headers=headers,
            timeout=WEBHOOK_TIMEOUT,
            allow_redirects=False,
        ).status_code
    except StripeError as refused:
        logger.warning("stripe sandbox: %s not sent: %s", event.type, refused.message)
    except requests.RequestException as exc:
        logger.info("stripe sandbox: %s not delivered (%s)", event.type, type(exc).__name__)
    SandboxDelivery.objects.create(event=event, status=status)
    return status
