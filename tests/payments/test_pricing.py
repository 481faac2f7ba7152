"""/credits/buy/: the packages on sale, and the POST that opens Stripe Checkout.

Stripe's API is stood in for with `responses` at the HTTP edge (the SDK builds and sends real
requests); the end-to-end test through the offline Stripe stand-in comes with it."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
import stripe

from payments.models import CreditPackage, Purchase
from tests import factories

pytestmark = pytest.mark.django_db


def sessions_url() -> str:
    return f"{stripe.api_base}/v1/checkout/sessions"


@pytest.fixture
def package() -> CreditPackage:
    CreditPackage.objects.all().delete()  # the migration's first packages
    return factories.CreditPackageFactory(name="Plus", credits=100, price=2500, currency="eur")


def test_it_lists_the_active_packages_with_their_prices(client, owner, package):
    factories.CreditPackageFactory(name="Old offer", is_active=False)
    client.force_login(owner)
    page = client.get("/credits/buy/").content.decode()
    assert "Plus" in page and "€25.00" in page and "Buy 100 credits" in page
    assert "Old offer" not in page


def test_the_first_deploy_has_packages_on_sale(client, owner):
    client.force_login(owner)
    assert list(CreditPackage.objects.on_sale().values_list("name", flat=True)) == [
        "Starter",
        "Plus",
        "Studio",
    ]
    assert "€9.00" in client.get("/credits/buy/").content.decode()


def test_it_says_when_payments_are_off(client, owner, package, settings):
    settings.PAYMENTS_ENABLED = False
    client.force_login(owner)
    page = client.get("/credits/buy/").content.decode()
    assert "Buying credits is switched off" in page
    assert "Buy 100 credits" not in page
    response = client.post("/credits/buy/", {"package": package.pk})
    assert response.status_code == 302
    assert not Purchase.objects.exists()


def test_the_credit_history_and_the_short_of_credits_note_link_here(client, owner):
    client.force_login(owner)
    assert 'href="/credits/buy/"' in client.get("/credits/").content.decode()
    with open("templates/tunes/_credits_short.html") as note:
        assert "{% url 'payments:pricing' %}" in note.read()


@responses.activate
def test_buying_opens_a_checkout_session_for_the_purchase(client, owner, package):
    responses.post(
        sessions_url(),
        json={
            "id": "cs_test_new",
            "object": "checkout.session",
            "url": "https://checkout.example/pay/cs_test_new",
        },
    )
    client.force_login(owner)
    response = client.post("/credits/buy/", {"package": package.pk})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.example/pay/cs_test_new"
    purchase = Purchase.objects.get()
    assert (purchase.user, purchase.credits, purchase.amount, purchase.status) == (
        owner,
        100,
        2500,
        "pending",
    )
    assert purchase.checkout_session_id == "cs_test_new"
    sent = responses.calls[0].request
    assert sent.headers["Idempotency-Key"] == f"purchase-{purchase.code}"
    assert sent.headers["Authorization"] == "Bearer sk_test_portal"
    form = parse_qs(sent.body)
    assert form["client_reference_id"] == [str(purchase.code)]
    assert form["metadata[purchase]"] == [str(purchase.code)]
    assert form["allow_promotion_codes"] == ["true"]
    assert form["line_items[0][price_data][unit_amount]"] == ["2500"]
    assert form["success_url"] == [
        f"http://127.0.0.1:8000/credits/buy/{purchase.code}/done/?session_id={{CHECKOUT_SESSION_ID}}"
    ]
    assert form["cancel_url"] == [f"http://127.0.0.1:8000/credits/buy/{purchase.code}/cancelled/"]


@responses.activate
def test_stripe_down_says_so_and_charges_nothing(client, owner, package):
    responses.post(sessions_url(), status=500, json={"error": {"message": "down"}})
    client.force_login(owner)
    response = client.post("/credits/buy/", {"package": package.pk}, follow=True)
    assert "We could not reach our payment provider" in response.content.decode()
    assert Purchase.objects.get().status == "failed"


@pytest.mark.parametrize("chosen", ["", "abc", "999999", "-1"])
def test_a_package_not_on_sale_is_404(client, owner, package, chosen):
    client.force_login(owner)
    assert client.post("/credits/buy/", {"package": chosen}).status_code == 404
    assert not Purchase.objects.exists()


def test_an_inactive_package_cannot_be_bought(client, owner):
    hidden = factories.CreditPackageFactory(is_active=False)
    client.force_login(owner)
    assert client.post("/credits/buy/", {"package": hidden.pk}).status_code == 404
