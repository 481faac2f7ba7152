"""POST /payments/stripe/webhook/: Stripe's signed events, each handled once."""

from __future__ import annotations

import time

import pytest

from accounts.models import CreditEntry
from payments.models import Purchase, StripeEvent
from tests import factories
from tests.payments.stripe_events import charge, deliver, event, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase(owner) -> Purchase:
    return factories.PurchaseFactory(user=owner, package__credits=100, package__price=2500)


def state(purchase: Purchase) -> tuple[object, ...]:
    purchase.refresh_from_db()
    purchase.user.refresh_from_db()
    return (
        purchase.status,
        purchase.user.credits,
        CreditEntry.objects.count(),
        StripeEvent.objects.count(),
    )


def test_it_grants_the_credits_of_a_paid_session(client, purchase):
    response = deliver(client, event("checkout.session.completed", session(purchase)))
    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == "paid"
    assert purchase.paid_at is not None
    assert purchase.payment_intent_id == f"pi_for_{purchase.checkout_session_id}"
    purchase.user.refresh_from_db()
    assert purchase.user.credits == 100
    entry = CreditEntry.objects.get()
    assert (entry.kind, entry.amount, entry.cause) == ("grant", 100, purchase)


def test_it_grants_once_when_replayed_5_times(client, purchase):
    body = event("checkout.session.completed", session(purchase))
    answers = [deliver(client, body).status_code for _ in range(5)]
    assert answers == [200] * 5
    assert state(purchase) == ("paid", 100, 1, 1)


def test_it_grants_once_for_two_events_of_one_session(client, purchase):
    deliver(client, event("checkout.session.completed", session(purchase)))
    deliver(client, event("checkout.session.async_payment_succeeded", session(purchase)))
    assert state(purchase) == ("paid", 100, 1, 2)


def test_it_waits_for_an_unpaid_delayed_payment(client, purchase):
    body = event("checkout.session.completed", session(purchase, payment_status="unpaid"))
    assert deliver(client, body).status_code == 200
    assert state(purchase) == ("pending", 0, 0, 1)
    later = event("checkout.session.async_payment_succeeded", session(purchase))
    assert deliver(client, later).status_code == 200
    assert state(purchase) == ("paid", 100, 1, 2)


def test_it_marks_a_failed_delayed_payment_and_grants_nothing(client, purchase):
    deliver(client, event("checkout.session.completed", session(purchase, payment_status="unpaid")))
    failed = event(
        "checkout.session.async_payment_failed", session(purchase, payment_status="unpaid")
    )
    assert deliver(client, failed).status_code == 200
    assert state(purchase) == ("failed", 0, 0, 2)


def test_it_marks_an_expired_session_cancelled(client, purchase):
    expired = event("checkout.session.expired", session(purchase, payment_status="unpaid"))
    assert deliver(client, expired).status_code == 200
    assert state(purchase) == ("cancelled", 0, 0, 1)


def test_it_answers_200_to_an_unknown_type_and_changes_nothing(client, purchase):
    body = event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(client, body).status_code == 200
    assert state(purchase) == ("pending", 0, 0, 0)


def test_it_answers_200_to_a_session_that_is_not_ours(client, purchase):
    other = factories.PurchaseFactory.build(checkout_session_id="cs_test_elsewhere")
    body = event("checkout.session.completed", session(other))
    assert deliver(client, body).status_code == 200
    assert state(purchase) == ("pending", 0, 0, 1)


@pytest.mark.parametrize(
    "signing",
    [
        {"secret": "whsec_someone_else"},
        {"at": int(time.time()) - 301},  # older than Stripe's 5 minutes: a replayed capture
        {"header": "t=1,v1=deadbeef"},
        {"header": "nonsense"},
    ],
    ids=["forged", "stale", "wrong", "garbled"],
)
def test_it_refuses_a_bad_signature_and_writes_nothing(client, purchase, signing):
    response = deliver(client, event("checkout.session.completed", session(purchase)), **signing)
    assert response.status_code == 400
    assert state(purchase) == ("pending", 0, 0, 0)


def test_it_refuses_a_delivery_without_a_signature(client, purchase):
    body = event("checkout.session.completed", session(purchase))
    response = client.post("/payments/stripe/webhook/", body, content_type="application/json")
    assert response.status_code == 400
    assert state(purchase) == ("pending", 0, 0, 0)


def test_it_refuses_a_signed_body_that_is_not_json(client, purchase):
    from tests.payments.stripe_events import signature

    response = client.post(
        "/payments/stripe/webhook/",
        "not json",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature("not json"),
    )
    assert response.status_code == 400
    assert state(purchase) == ("pending", 0, 0, 0)


def test_it_answers_only_post(client):
    assert client.get("/payments/stripe/webhook/").status_code == 405


def test_it_answers_503_while_payments_are_off(client, purchase, settings):
    settings.PAYMENTS_ENABLED = False
    response = deliver(client, event("checkout.session.completed", session(purchase)))
    assert response.status_code == 503  # Stripe retries: nothing is lost once the keys are set
    assert state(purchase) == ("pending", 0, 0, 0)


def test_it_keeps_the_receipt_link(client, purchase):
    deliver(client, event("checkout.session.completed", session(purchase)))
    deliver(client, event("charge.succeeded", charge(purchase)))
    purchase.refresh_from_db()
    assert purchase.receipt_url == f"https://pay.stripe.com/receipts/{purchase.code}"


def test_a_session_whose_id_never_came_back_is_found_by_its_reference(client, owner):
    lost = factories.PurchaseFactory(user=owner, checkout_session_id=None)
    body = session(lost)
    body["id"] = "cs_test_answer_lost"
    deliver(client, event("checkout.session.completed", body))
    lost.refresh_from_db()
    assert (lost.status, lost.checkout_session_id) == ("paid", "cs_test_answer_lost")
    owner.refresh_from_db()
    assert owner.credits == lost.credits
