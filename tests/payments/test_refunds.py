"""charge.refunded: the purchase's credits leave through the ledger, once; what the user had
spent already is flagged for staff instead of failing silently."""

from __future__ import annotations

import pytest

from accounts.credits import credits_debit, credits_grant
from accounts.models import CreditEntry
from payments.models import Purchase
from tests import factories
from tests.payments.stripe_events import charge, deliver, event, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(client, owner) -> Purchase:
    purchase = factories.PurchaseFactory(user=owner, package__credits=100, package__price=2500)
    deliver(client, event("checkout.session.completed", session(purchase)))
    purchase.refresh_from_db()
    assert purchase.status == "paid"
    return purchase


def refund(client, purchase: Purchase, amount: int | None = None) -> int:
    body = event("charge.refunded", charge(purchase, amount_refunded=amount or purchase.amount))
    return deliver(client, body).status_code


def test_it_takes_the_credits_back_with_a_refund_entry(client, owner, paid):
    assert refund(client, paid) == 200
    paid.refresh_from_db()
    owner.refresh_from_db()
    assert (paid.status, paid.needs_staff, paid.refund_shortfall) == ("refunded", False, 0)
    assert owner.credits == 0
    entry = CreditEntry.objects.get(kind="refund")
    assert (entry.amount, entry.cause) == (-100, paid)


def test_a_refund_delivered_twice_takes_the_credits_once(client, owner, paid):
    credits_grant(user=owner, amount=50, reason="Goodwill")  # so a second take would show
    body = event("charge.refunded", charge(paid, amount_refunded=paid.amount))
    assert [deliver(client, body).status_code for _ in range(2)] == [200, 200]
    assert refund(client, paid) == 200  # another event id for the same refund
    owner.refresh_from_db()
    assert owner.credits == 50
    assert CreditEntry.objects.filter(kind="refund").count() == 1


def test_a_refund_below_zero_takes_what_is_left_and_flags_the_rest(client, owner, paid):
    photoshoot = factories.PhotoshootFactory(owner=owner)
    credits_debit(user=owner, amount=80, reason="A photoshoot", cause=photoshoot)
    assert refund(client, paid) == 200
    paid.refresh_from_db()
    owner.refresh_from_db()
    assert owner.credits == 0
    assert (paid.status, paid.needs_staff, paid.refund_shortfall) == ("refunded", True, 80)
    assert CreditEntry.objects.get(kind="refund").amount == -20


def test_a_partial_refund_changes_no_credits_and_is_flagged(client, owner, paid):
    assert refund(client, paid, amount=1000) == 200
    paid.refresh_from_db()
    owner.refresh_from_db()
    assert (paid.status, paid.needs_staff, owner.credits) == ("paid", True, 100)
    assert not CreditEntry.objects.filter(kind="refund").exists()


def test_a_refund_of_an_unknown_charge_changes_nothing(client, owner, paid):
    stranger = factories.PurchaseFactory.build(checkout_session_id="cs_test_not_ours")
    assert refund(client, stranger) == 200
    owner.refresh_from_db()
    assert owner.credits == 100


def test_a_purchase_found_by_its_metadata_before_its_payment_intent_is_known(client, owner):
    purchase = factories.PurchaseFactory(user=owner)
    body = charge(purchase)
    deliver(client, event("charge.succeeded", body))
    purchase.refresh_from_db()
    assert purchase.receipt_url.endswith(str(purchase.code))
