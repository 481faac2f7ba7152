"""The hosted pay page: Pay, Decline, Cancel and a delayed payment, and the webhooks each
sends, verified as the portal verifies them (stripe.Webhook.construct_event)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import stripe
from django.test import Client

from tests.stripe_sandbox.conftest import checkout_params


def pay_path(session) -> str:
    return urlsplit(session.url).path


def press(session, action: str):
    return Client().post(pay_path(session), {"action": action})


def test_the_page_shows_what_is_bought_and_its_price(stripe_sandbox):
    session = stripe.checkout.Session.create(**checkout_params())
    response = Client().get(pay_path(session))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Pay 9.00 EUR" in page and "1 × 40 credits" in page
    assert "style=" not in page and "<script" not in page  # the CSP forbids inline ones


def test_pay_completes_the_session_redirects_and_sends_a_signed_webhook(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())

    response = press(session, "pay")

    assert response.status_code == 302
    assert response["Location"] == (f"http://127.0.0.1/payments/success/?session_id={session.id}")
    paid = stripe.checkout.Session.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent.startswith("pi_") and paid.url is None
    [hook] = webhooks.received
    event = hook.event()
    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_")
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.metadata["purchase"] == "p-123"
    assert stripe_sandbox.deliveries() == [
        {"event": event.id, "type": "checkout.session.completed", "status": 200}
    ]


def test_the_webhook_fails_verification_with_another_secret_or_a_changed_body(
    stripe_sandbox, webhooks
):
    press(stripe.checkout.Session.create(**checkout_params()), "pay")
    [hook] = webhooks.received
    with pytest.raises(stripe.SignatureVerificationError):
        hook.event(secret="whsec_someone_else")
    forged = hook.payload.replace(b'"paid"', b'"unpaid"')
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(forged, hook.signature, "whsec_test_sandbox_secret")


def test_paying_twice_completes_once_and_sends_one_webhook(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())
    press(session, "pay")
    again = press(session, "pay")
    assert again.status_code == 200 and "already paid" in again.content.decode()
    assert webhooks.types() == ["checkout.session.completed"]


def test_decline_says_so_stays_open_and_sends_nothing(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())

    response = press(session, "decline")

    assert response.status_code == 402
    assert "Your card was declined" in response.content.decode()
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    assert webhooks.received == []
    assert press(session, "pay").status_code == 302  # another card works


def test_cancel_goes_back_to_cancel_url_and_sends_nothing(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())

    response = press(session, "cancel")

    assert response.status_code == 302
    assert response["Location"] == "http://127.0.0.1/pricing/?cancelled=1"
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    assert webhooks.received == []


def test_a_delayed_payment_completes_unpaid_then_fails(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())
    press(session, "pay_later")
    assert stripe.checkout.Session.retrieve(session.id).payment_status == "unpaid"

    settled = Client().post(
        f"/sandbox/stripe/_sandbox/checkout/sessions/{session.id}/settle",
        {"succeeded": "false"},
        headers={"Authorization": "Bearer sk_test_sandbox"},
    )

    assert settled.status_code == 200
    assert webhooks.types() == [
        "checkout.session.completed",
        "checkout.session.async_payment_failed",
    ]
    assert webhooks.received[1].event().data.object.payment_status == "unpaid"
    again = Client().post(
        f"/sandbox/stripe/_sandbox/checkout/sessions/{session.id}/settle",
        {"succeeded": "true"},
        headers={"Authorization": "Bearer sk_test_sandbox"},
    )
    assert again.status_code == 400  # a payment settles once
    assert len(webhooks.received) == 2


def test_a_delayed_payment_that_succeeds_is_paid(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())
    press(session, "pay_later")
    Client().post(
        f"/sandbox/stripe/_sandbox/checkout/sessions/{session.id}/settle",
        {"succeeded": "true"},
        headers={"Authorization": "Bearer sk_test_sandbox"},
    )
    assert webhooks.types()[-1] == "checkout.session.async_payment_succeeded"
    assert stripe.checkout.Session.retrieve(session.id).payment_status == "paid"


def test_an_expired_session_cannot_be_paid(stripe_sandbox, webhooks):
    session = stripe.checkout.Session.create(**checkout_params())
    stripe.checkout.Session.expire(session.id)
    response = press(session, "pay")
    assert response.status_code == 200 and "expired" in response.content.decode()
    assert webhooks.types() == ["checkout.session.expired"]


def test_an_unknown_session_has_no_page(stripe_sandbox):
    response = Client().get("/sandbox/stripe/c/pay/cs_test_nonexistent")
    assert response.status_code == 404
    assert "This checkout does not exist" in response.content.decode()
