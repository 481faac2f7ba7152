"""The credit ledger: balances follow entries; never below zero, never charged or refunded twice."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Sum

from accounts.credits import (
    InsufficientCredits,
    credits_debit,
    credits_grant,
    credits_refund,
    credits_take_back,
)
from accounts.models import CreditEntry, User

pytestmark = pytest.mark.django_db


def balance_of(user: User) -> int:
    user.refresh_from_db()
    ledger = CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0
    assert user.credits == ledger  # the balance is always the sum of its ledger
    return user.credits


def test_a_new_account_starts_with_the_welcome_credits(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_FREE_CREDITS = 15
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {
                "email": "new@example.com",
                "password1": "pale-green-door-7",
                "password2": "pale-green-door-7",
            },
        )
    user = User.objects.get(email="new@example.com")
    assert balance_of(user) == 15
    assert CreditEntry.objects.get(user=user).reason == "Welcome credits"
    assert re.search(r"confirm-email", mail.outbox[0].body)


def test_the_header_shows_the_balance(client, owner):
    credits_grant(user=owner, amount=7, reason="Test")
    client.force_login(owner)
    assert b"7 credits" in client.get("/dashboard/").content


def test_a_debit_links_its_cause_and_refuses_to_go_below_zero(owner, other_user):
    credits_grant(user=owner, amount=10, reason="Gift")
    cause = other_user  # any row can be a cause; tunes will be
    entry = credits_debit(user=owner, amount=8, reason="Corporate headshots", cause=cause)
    assert entry.cause == cause and entry.amount == -8
    with pytest.raises(InsufficientCredits) as info:
        credits_debit(user=owner, amount=3, reason="Van Gogh", cause=owner)
    assert str(info.value) == "This needs 3 credits and you have 2."
    assert balance_of(owner) == 2
    assert CreditEntry.objects.filter(user=owner).count() == 2


def test_a_cause_is_refunded_at_most_once(owner, other_user):
    credits_grant(user=owner, amount=10, reason="Gift")
    credits_debit(user=owner, amount=10, reason="Pack", cause=other_user)
    assert credits_refund(user=owner, amount=10, reason="Failed", cause=other_user) is True
    assert credits_refund(user=owner, amount=10, reason="Failed", cause=other_user) is False
    assert balance_of(owner) == 10


def test_a_cause_is_granted_at_most_once(owner, other_user):
    credits_grant(user=owner, amount=100, reason="Bought", cause=other_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        credits_grant(user=owner, amount=100, reason="Bought", cause=other_user)
    owner.refresh_from_db()
    assert owner.credits == 100


def test_grants_without_a_cause_repeat(owner):
    credits_grant(user=owner, amount=5, reason="Goodwill")
    credits_grant(user=owner, amount=5, reason="Goodwill")
    owner.refresh_from_db()
    assert owner.credits == 10


def test_a_take_back_stops_at_zero_and_happens_once(owner, other_user):
    credits_grant(user=owner, amount=30, reason="Bought", cause=other_user)
    assert credits_take_back(user=owner, amount=50, reason="Refunded", cause=other_user) == 30
    assert credits_take_back(user=owner, amount=50, reason="Refunded", cause=other_user) is None
    owner.refresh_from_db()
    assert owner.credits == 0


def test_staff_can_take_credits_back_but_not_below_zero(owner, staff):
    credits_grant(user=owner, amount=5, reason="Gift", created_by=staff)
    credits_grant(user=owner, amount=-3, reason="Mistake", created_by=staff)
    with pytest.raises(InsufficientCredits):
        credits_grant(user=owner, amount=-3, reason="Too much", created_by=staff)
    assert balance_of(owner) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_overdraw(owner, other_user):
    """Twenty threads try to spend 3 of 10 credits at once: exactly three succeed."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    credits_grant(user=owner, amount=10, reason="Gift")
    causes = [User.objects.create_user(f"c{n}@example.com") for n in range(20)]

    def spend(cause: User) -> bool:
        try:
            credits_debit(user=owner, amount=3, reason="Pack", cause=cause)
            return True
        except InsufficientCredits:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(spend, causes))
    assert results.count(True) == 3
    assert balance_of(owner) == 1
