"""Stripe's webhook deliveries as Stripe makes them: an event's JSON, signed with the header
"t=<ts>,v1=<hex hmac_sha256(secret, f'{ts}.{payload}')>" (Stripe's scheme, written out here
rather than taken from the SDK, so the view's SDK check is tested against Stripe's rule)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.client import Client as TestClient

from payments.models import Purchase

WEBHOOK = "/payments/stripe/webhook/"


def event(type: str, obj: dict[str, Any], *, id: str | None = None) -> dict[str, Any]:
    return {
        "id": id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": type,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


def session(purchase: Purchase, *, payment_status: str = "paid") -> dict[str, Any]:
    return {
        "id": purchase.checkout_session_id,
        "object": "checkout.session",
        "client_reference_id": str(purchase.code),
        "metadata": {"purchase": str(purchase.code)},
        "payment_status": payment_status,
        "status": "complete",
        "payment_intent": f"pi_for_{purchase.checkout_session_id}",
        "amount_total": purchase.amount,
        "currency": purchase.currency,
    }


def charge(purchase: Purchase, *, amount_refunded: int = 0) -> dict[str, Any]:
    return {
        "id": f"ch_for_{purchase.checkout_session_id}",
        "object": "charge",
        "amount": purchase.amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= purchase.amount,
        "payment_intent": f"pi_for_{purchase.checkout_session_id}",
        "metadata": {"purchase": str(purchase.code)},
        "receipt_url": f"https://pay.stripe.com/receipts/{purchase.code}",
    }


def signature(payload: str, *, secret: str | None = None, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    secret = settings.STRIPE_WEBHOOK_SECRET if secret is None else secret
    mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def deliver(client: TestClient | None, body: dict[str, Any], **signing: Any) -> Any:
    """POST the event as Stripe does, signed (unless `header` is given); the response."""
    payload = json.dumps(body)
    header = signing.pop("header", None) or signature(payload, **signing)
    return (client or Client()).post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
