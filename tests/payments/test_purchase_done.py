"""Back from Checkout: /credits/buy/<code>/done/ believes Stripe's API, never the redirect, and
grants once whether it or the webhook comes first."""

from __future__ import annotations

import pytest
import responses
import stripe

from accounts.models import CreditEntry
from payments import fulfilment
from payments.models import Purchase
from tests import factories
from tests.payments.stripe_events import deliver, event, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase(owner) -> Purchase:
    return factories.PurchaseFactory(user=owner, package__credits=100)


def stripe_says(purchase: Purchase, payment_status: str) -> None:
    responses.get(
        f"{stripe.api_base}/v1/checkout/sessions/{purchase.checkout_session_id}",
        json={**session(purchase, payment_status=payment_status)},
    )


def done(client, purchase: Purchase) -> str:
    url = f"/credits/buy/{purchase.code}/done/?session_id={purchase.checkout_session_id}"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@responses.activate
def test_a_paid_session_grants_and_shows_the_balance(client, owner, purchase):
    stripe_says(purchase, "paid")
    client.force_login(owner)
    page = done(client, purchase)
    assert "100 credits added" in page and "You now have <strong>100 credits" in page
    assert CreditEntry.objects.get().cause == purchase


@responses.activate
def test_the_redirect_alone_grants_nothing(client, owner, purchase):
    stripe_says(purchase, "unpaid")
    client.force_login(owner)
    assert "adding your credits" in done(client, purchase)
    owner.refresh_from_db()
    assert owner.credits == 0


@responses.activate
def test_stripe_unreachable_waits_for_the_webhook(client, owner, purchase):
    responses.get(
        f"{stripe.api_base}/v1/checkout/sessions/{purchase.checkout_session_id}", status=503
    )
    client.force_login(owner)
    assert "adding your credits" in done(client, purchase)
    deliver(client, event("checkout.session.completed", session(purchase)))
    assert "100 credits added" in done(client, purchase)


@responses.activate
def test_redirect_then_webhook_grants_once(client, owner, purchase):
    stripe_says(purchase, "paid")
    client.force_login(owner)
    done(client, purchase)
    assert (
        deliver(client, event("checkout.session.completed", session(purchase))).status_code == 200
    )
    owner.refresh_from_db()
    assert owner.credits == 100
    assert CreditEntry.objects.count() == 1


@responses.activate
def test_webhook_then_redirect_grants_once(client, owner, purchase):
    stripe_says(purchase, "paid")
    deliver(client, event("checkout.session.completed", session(purchase)))
    client.force_login(owner)
    assert "100 credits added" in done(client, purchase)
    assert len(responses.calls) == 0  # paid already: no need to ask Stripe
    assert CreditEntry.objects.count() == 1


def test_fulfil_called_twice_grants_once(purchase):
    first = fulfilment.purchase_fulfil(session_id=purchase.checkout_session_id)
    second = fulfilment.purchase_fulfil(session_id=purchase.checkout_session_id)
    assert (first, second) == (fulfilment.Outcome.DONE, fulfilment.Outcome.ALREADY)
    assert CreditEntry.objects.count() == 1


def test_another_users_purchase_is_404(client, other_user, purchase):
    client.force_login(other_user)
    assert client.get(f"/credits/buy/{purchase.code}/done/").status_code == 404
    assert client.get(f"/credits/buy/{purchase.code}/cancelled/").status_code == 404
    purchase.refresh_from_db()
    assert purchase.status == "pending"


def test_cancelling_says_nothing_was_charged(client, owner, purchase):
    client.force_login(owner)
    response = client.get(f"/credits/buy/{purchase.code}/cancelled/", follow=True)
    assert "nothing was charged" in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == "cancelled"


def test_a_cancelled_purchase_paid_after_all_still_grants(client, owner, purchase):
    client.force_login(owner)
    client.get(f"/credits/buy/{purchase.code}/cancelled/")
    deliver(client, event("checkout.session.completed", session(purchase)))
    owner.refresh_from_db()
    assert owner.credits == 100


def test_the_credit_history_shows_the_price_and_the_receipt(client, owner, purchase):
    from tests.payments.stripe_events import charge

    deliver(client, event("checkout.session.completed", session(purchase)))
    deliver(client, event("charge.succeeded", charge(purchase)))
    client.force_login(owner)
    page = client.get("/credits/").content.decode()
    assert purchase.amount_display in page
    assert f'href="https://pay.stripe.com/receipts/{purchase.code}"' in page


def test_the_status_turns_into_the_new_balance_when_the_webhook_comes(client, owner, purchase):
    client.force_login(owner)
    waiting = client.get(f"/credits/buy/{purchase.code}/status/").json()
    assert (waiting["status"], waiting["final"]) == ("pending", False)
    assert "adding your credits" in waiting["html"]
    deliver(client, event("checkout.session.completed", session(purchase)))
    paid = client.get(f"/credits/buy/{purchase.code}/status/").json()
    assert (paid["status"], paid["final"]) == ("paid", True)
    assert (
        "100 credits added" in paid["html"] and "You now have <strong>100 credits" in paid["html"]
    )


def test_the_success_page_polls_only_while_pending(client, owner, purchase):
    client.force_login(owner)
    page = client.get(f"/credits/buy/{purchase.code}/done/").content.decode()
    assert f'data-status-url="/credits/buy/{purchase.code}/status/"' in page
    assert 'data-final="0"' in page and "js/purchase.js" in page
