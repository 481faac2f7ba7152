"""The credit ledger: every change of a balance is an entry with a reason and a cause.

Grants, debits and refunds each update the balance with a conditional UPDATE and write their
entry in one transaction. A debit never takes a balance below zero; a cause is debited once
and refunded at most once (unique constraint, not check-then-insert).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import F

from .models import CreditEntry, User


class InsufficientCredits(Exception):
    """The balance does not cover a debit; nothing was changed."""

    def __init__(self, *, balance: int, needed: int) -> None:
        super().__init__(f"This needs {needed} credits and you have {balance}.")
        self.balance = balance
        self.needed = needed


def _cause_fields(cause: models.Model | None) -> dict[str, object]:
    if cause is None:
        return {}
    return {"cause_type": ContentType.objects.get_for_model(cause), "cause_id": cause.pk}


def _balance_change(user: User, amount: int) -> None:
    """Add `amount` (negative: take) with one conditional UPDATE that never goes below zero."""
    changed = User.objects.filter(pk=user.pk, credits__gte=max(0, -amount)).update(
        credits=F("credits") + amount
    )
    if not changed:
        raise InsufficientCredits(balance=User.objects.get(pk=user.pk).credits, needed=-amount)


def _entry(*, user: User, kind: str, amount: int, reason: str, **fields: object) -> CreditEntry:
    return CreditEntry.objects.create(user=user, kind=kind, amount=amount, reason=reason, **fields)


@transaction.atomic
def credits_grant(
    *,
    user: User,
    amount: int,
    reason: str,
    cause: models.Model | None = None,
    created_by: User | None = None,
) -> CreditEntry:
    """Add credits (a sign-up gift, a purchase, staff's goodwill). A negative amount takes
    credits back, but never below zero (InsufficientCredits, nothing changed)."""
    _balance_change(user, amount)
    return _entry(
        user=user,
        kind=CreditEntry.Kind.GRANT,
        amount=amount,
        reason=reason,
        created_by=created_by,
        **_cause_fields(cause),
    )


@transaction.atomic
def credits_debit(*, user: User, amount: int, reason: str, cause: models.Model) -> CreditEntry:
    """Take `amount` for `cause` (once), or raise InsufficientCredits and change nothing.

    Call it inside the transaction that creates the cause, so that both happen or neither.
    """
    _balance_change(user, -amount)
    return _entry(
        user=user,
        kind=CreditEntry.Kind.DEBIT,
        amount=-amount,
        reason=reason,
        **_cause_fields(cause),
    )


def credits_refunded(*, cause: models.Model) -> bool:
    """Whether `cause` has had its refund (a cause is refunded at most once)."""
    return CreditEntry.objects.filter(kind=CreditEntry.Kind.REFUND, **_cause_fields(cause)).exists()


def credits_refund(*, user: User, amount: int, reason: str, cause: models.Model) -> bool:
    """Give back `amount` for `cause`; say whether it was given (False: refunded already)."""
    if amount <= 0:
        return False
    try:
        with transaction.atomic():
            _entry(
                user=user,
                kind=CreditEntry.Kind.REFUND,
                amount=amount,
                reason=reason,
                **_cause_fields(cause),
            )
            _balance_change(user, amount)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def credits_take_back(*, user: User, amount: int, reason: str, cause: models.Model) -> int | None:
    """Take back up to `amount` credits granted for `cause` (a refunded purchase), once per
    cause: as many as the balance holds, never below zero. Return how many were taken, or None
    when the cause had its take-back already. The entry is a refund: money went back."""
    balance = User.objects.select_for_update().values_list("credits", flat=True).get(pk=user.pk)
    taken = min(balance, amount)
    try:
        with transaction.atomic():
            _entry(
                user=user,
                kind=CreditEntry.Kind.REFUND,
                amount=-taken,
                reason=reason,
                **_cause_fields(cause),
            )
    except IntegrityError:
        return None
    _balance_change(user, -taken)
    return taken
