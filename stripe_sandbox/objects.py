"""Stripe's JSON objects, as the sandbox's rows look through Stripe's API (API version of the
pinned SDK). Only fields the portal may read are filled; the rest of Stripe's keys are there
with Stripe's empty values, so that the SDK's objects have them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .models import SandboxCheckoutSession, SandboxRefund

SESSION_LIFETIME = timedelta(hours=24)


def timestamp(at: datetime) -> int:
    return int(at.timestamp())


def pay_url(session: SandboxCheckoutSession) -> str:
    return f"{session.base_url}/c/pay/{session.id}"


def receipt_url(session: SandboxCheckoutSession) -> str:
    return f"{session.base_url}/receipts/{session.charge}"


def session_json(session: SandboxCheckoutSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "object": "checkout.session",
        "allow_promotion_codes": session.allow_promotion_codes,
        "amount_subtotal": session.amount_total,
        "amount_total": session.amount_total,
        "cancel_url": session.cancel_url or None,
        "client_reference_id": session.client_reference_id or None,
        "created": timestamp(session.created_at),
        "currency": session.currency,
        "customer": None,
        "customer_details": (
            {"email": session.customer_email or None} if session.status == "complete" else None
        ),
        "customer_email": session.customer_email or None,
        "expires_at": timestamp(session.created_at + SESSION_LIFETIME),
        "livemode": False,
        "metadata": session.metadata,
        "mode": session.mode,
        "payment_intent": session.payment_intent or None,
        "payment_method_types": ["card"],
        "payment_status": session.payment_status,
        "status": session.status,
        "success_url": session.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "url": pay_url(session) if session.status == "open" else None,
    }


def charge_json(session: SandboxCheckoutSession) -> dict[str, Any]:
    return {
        "id": session.charge,
        "object": "charge",
        "amount": session.amount_total,
        "amount_captured": session.amount_total,
        "amount_refunded": session.amount_refunded,
        "created": timestamp(session.created_at),
        "currency": session.currency,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": session.payment_intent,
        "receipt_url": receipt_url(session),
        "refunded": session.amount_refunded >= session.amount_total,
        "status": "succeeded",
    }


def payment_intent_json(session: SandboxCheckoutSession, *, expand: set[str]) -> dict[str, Any]:
    paid = session.payment_status == "paid"
    return {
        "id": session.payment_intent,
        "object": "payment_intent",
        "amount": session.amount_total,
        "amount_received": session.amount_total if paid else 0,
        "created": timestamp(session.created_at),
        "currency": session.currency,
        "latest_charge": (
            (charge_json(session) if "latest_charge" in expand else session.charge)
            if session.charge
            else None
        ),
        "livemode": False,
        "metadata": {},
        "status": "succeeded" if paid else "processing",
    }


def refund_json(refund: SandboxRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "charge": refund.session.charge,
        "created": timestamp(refund.created_at),
        "currency": refund.session.currency,
        "metadata": refund.metadata,
        "payment_intent": refund.session.payment_intent,
        "reason": refund.reason or None,
        "status": "succeeded",
    }


def list_json(items: list[dict[str, Any]], *, has_more: bool, url: str) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more, "url": url}
