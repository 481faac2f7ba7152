"""Where a purchase's payment stands, changed only from what Stripe said (a signed webhook or
a Checkout Session read from Stripe's API), never from a redirect.

`purchase_fulfil` is the one way a purchase grants credits. It locks the purchase's row, so
concurrent calls (a webhook delivered twice at once, the success page racing the webhook)
queue, and the ledger's unique grant per cause makes a second grant impossible anyway.
"""

from __future__ import annotations

import logging
import uuid
from enum import Enum

from django.db import transaction
from django.utils import timezone

from accounts.credits import credits_grant, credits_take_back

from .models import Purchase

logger = logging.getLogger(__name__)


class Outcome(Enum):
    DONE = "done"  # this call changed the purchase
    ALREADY = "already"  # an earlier call did: nothing changed
    UNKNOWN = "unknown"  # no purchase of ours has this session or payment


def _locked(**lookup: object) -> Purchase | None:
    return Purchase.objects.select_for_update().filter(**lookup).first()


@transaction.atomic
def purchase_fulfil(
    *, session_id: str, payment_intent_id: str = "", purchase_code: str = ""
) -> Outcome:
    """Mark the session's purchase paid and grant its credits, once. Call it only when Stripe
    said the session is paid. `purchase_code` (the session's client_reference_id) finds a
    purchase whose session id never came back from Stripe (a lost answer)."""
    purchase = _locked(checkout_session_id=session_id)
    if purchase is None and (code := _uuid(purchase_code)):
        purchase = _locked(code=code, checkout_session_id__isnull=True)
        if purchase is not None:
            purchase.checkout_session_id = session_id
    if purchase is None:
        logger.warning("A paid Checkout Session that is no purchase of ours: %s", session_id)
        return Outcome.UNKNOWN
    if purchase.status in (Purchase.Status.PAID, Purchase.Status.REFUNDED):
        return Outcome.ALREADY
    # Pending, or failed/cancelled here while Stripe went on to take the money: it is paid.
    credits_grant(
        user=purchase.user,
        amount=purchase.credits,
        reason=f"Bought: {purchase.package.name}",
        cause=purchase,
    )
    purchase.status = Purchase.Status.PAID
    purchase.paid_at = timezone.now()
    purchase.payment_intent_id = payment_intent_id or purchase.payment_intent_id
    purchase.save(
        update_fields=[
            "status",
            "paid_at",
            "payment_intent_id",
            "checkout_session_id",
            "updated_at",
        ]
    )
    return Outcome.DONE


def purchase_mark_failed(*, session_id: str) -> Outcome:
    """A delayed payment (a bank debit) failed: the purchase grants nothing."""
    return _leave_pending(session_id=session_id, status=Purchase.Status.FAILED)


def purchase_mark_cancelled(*, session_id: str) -> Outcome:
    """The user left Checkout, or the session expired, before paying."""
    return _leave_pending(session_id=session_id, status=Purchase.Status.CANCELLED)


def _leave_pending(*, session_id: str, status: Purchase.Status) -> Outcome:
    changed = Purchase.objects.filter(
        checkout_session_id=session_id, status=Purchase.Status.PENDING
    ).update(status=status, updated_at=timezone.now())
    if changed:
        return Outcome.DONE
    exists = Purchase.objects.filter(checkout_session_id=session_id).exists()
    return Outcome.ALREADY if exists else Outcome.UNKNOWN


def purchase_receipt_record(*, payment_intent_id: str, purchase_code: str, url: str) -> Outcome:
    """Keep the charge's receipt link, shown in the user's credit history."""
    purchase = _by_payment(payment_intent_id=payment_intent_id, purchase_code=purchase_code)
    if purchase is None:
        return Outcome.UNKNOWN
    Purchase.objects.filter(pk=purchase.pk).update(receipt_url=url, updated_at=timezone.now())
    return Outcome.DONE


@transaction.atomic
def purchase_refund_record(
    *, payment_intent_id: str, purchase_code: str, amount_refunded: int
) -> Outcome:
    """Stripe refunded the purchase's charge: take its credits back through the ledger, once.

    A full refund takes back as many of the credits as the balance holds; what the user had
    spent already is the purchase's `refund_shortfall`, flagged for staff (`needs_staff`). A
    partial refund changes no credits: how many to take is staff's call, so it is flagged too.
    """
    purchase = _by_payment(
        payment_intent_id=payment_intent_id, purchase_code=purchase_code, lock=True
    )
    if purchase is None:
        return Outcome.UNKNOWN
    if purchase.status == Purchase.Status.REFUNDED:
        return Outcome.ALREADY
    if purchase.status != Purchase.Status.PAID or amount_refunded < purchase.amount:
        purchase.needs_staff = True
        purchase.save(update_fields=["needs_staff", "updated_at"])
        return Outcome.DONE
    taken = credits_take_back(
        user=purchase.user,
        amount=purchase.credits,
        reason=f"Refunded: {purchase.package.name}",
        cause=purchase,
    )
    purchase.status = Purchase.Status.REFUNDED
    purchase.refunded_at = timezone.now()
    purchase.refund_shortfall = purchase.credits - (taken or 0) if taken is not None else 0
    purchase.needs_staff = purchase.refund_shortfall > 0
    purchase.save(
        update_fields=["status", "refunded_at", "refund_shortfall", "needs_staff", "updated_at"]
    )
    return Outcome.DONE


def _by_payment(
    *, payment_intent_id: str, purchase_code: str, lock: bool = False
) -> Purchase | None:
    """The purchase a charge paid for: by its PaymentIntent, else by the purchase code that
    Checkout copied into the PaymentIntent's metadata (a charge can arrive before the
    session's completion tells us the PaymentIntent)."""
    purchases = Purchase.objects.select_for_update() if lock else Purchase.objects.all()
    if payment_intent_id:
        found = purchases.filter(payment_intent_id=payment_intent_id).first()
        if found is not None:
            return found
    code = _uuid(purchase_code)
    return purchases.filter(code=code).first() if code else None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:  # empty, or not a UUID: no purchase of ours
        return None
