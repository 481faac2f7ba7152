"""Webhook knobs (drop, duplicate, delay), refunds and where webhooks may go."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import stripe
from django.test import Client

from stripe_sandbox.control import WebhookFaults
from tests.stripe_sandbox.conftest import SANDBOX_KEY, checkout_params
from tests.stripe_sandbox.test_pay_page import press


def paid_session():
    session = stripe.checkout.Session.create(**checkout_params())
    press(session, "pay")
    return stripe.checkout.Session.retrieve(session.id)


def test_dropped_webhooks_never_arrive_but_the_session_is_paid(stripe_sandbox, webhooks):
    stripe_sandbox.configure(webhooks={"drop": 1})
    session = paid_session()
    assert session.payment_status == "paid"  # only a poll (the reconciler) finds out
    assert webhooks.received == []
    assert stripe_sandbox.deliveries() == []


def test_duplicated_webhooks_arrive_twice_with_one_event_id(stripe_sandbox, webhooks):
    stripe_sandbox.configure(webhooks={"duplicate": 1})
    paid_session()
    first, second = (hook.event() for hook in webhooks.received)
    assert first.id == second.id
    assert first.type == second.type == "checkout.session.completed"


def test_the_delay_knob_delays_every_copy():
    assert WebhookFaults(delay=5).delivery_delays() == [5]
    assert WebhookFaults(delay=5, duplicate=1).delivery_delays() == [5, 5]
    assert WebhookFaults(drop=1, delay=5).delivery_delays() == []


def test_a_bad_config_is_refused_plainly(stripe_sandbox):
    response = Client().put(
        "/sandbox/stripe/_sandbox/config",
        data='{"webhooks": {"drop": 2}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
    )
    assert response.status_code == 400
    assert "Invalid sandbox config" in response.json()["error"]["message"]


def test_the_knobs_need_the_sandbox_key(stripe_sandbox):
    response = Client().put(
        "/sandbox/stripe/_sandbox/config", data="{}", content_type="application/json"
    )
    assert response.status_code == 401


def test_a_refund_answers_a_refund_and_sends_charge_refunded(stripe_sandbox, webhooks):
    session = paid_session()

    refund = stripe.Refund.create(payment_intent=session.payment_intent, idempotency_key="r-1")

    assert refund.id.startswith("re_")
    assert (refund.amount, refund.status) == (900, "succeeded")
    assert refund.payment_intent == session.payment_intent
    charge = webhooks.received[-1].event()
    assert charge.type == "charge.refunded"
    assert charge.data.object.amount_refunded == 900 and charge.data.object.refunded is True
    assert charge.data.object.payment_intent == session.payment_intent
    again = stripe.Refund.create(payment_intent=session.payment_intent, idempotency_key="r-1")
    assert again.id == refund.id
    assert webhooks.types().count("charge.refunded") == 1


def test_a_partial_refund_then_too_much(stripe_sandbox, webhooks):
    session = paid_session()
    stripe.Refund.create(payment_intent=session.payment_intent, amount=300)
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Refund.create(payment_intent=session.payment_intent, amount=601)
    assert error.value.param == "amount"
    stripe.Refund.create(payment_intent=session.payment_intent)
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Refund.create(payment_intent=session.payment_intent)
    assert error.value.code == "charge_already_refunded"


def test_an_unpaid_or_unknown_payment_cannot_be_refunded(stripe_sandbox):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.Refund.create(payment_intent="pi_nonexistent")
    assert error.value.http_status == 404


def test_the_receipt_link_of_a_payment_shows_what_was_paid(stripe_sandbox):
    session = paid_session()
    intent = stripe.PaymentIntent.retrieve(session.payment_intent, expand=["latest_charge"])
    receipt = intent.latest_charge.receipt_url
    assert receipt.startswith(stripe_sandbox.url + "/receipts/ch_")
    page = Client().get(urlsplit(receipt).path)
    assert page.status_code == 200 and "Paid 9.00 EUR" in page.content.decode()


@pytest.mark.parametrize(
    "url", ["http://192.0.2.10/payments/stripe/webhook/", "https://evil.example/hook"]
)
def test_webhooks_go_nowhere_but_loopback_or_the_portal(stripe_sandbox, webhooks, settings, url):
    settings.STRIPE_SANDBOX_WEBHOOK_URL = url
    paid_session()
    assert webhooks.received == []
    assert [d["status"] for d in stripe_sandbox.deliveries()] == [None]
