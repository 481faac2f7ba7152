"""The Stripe sandbox's API, called with Stripe's official SDK over HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from tests.stripe_sandbox.conftest import SANDBOX_KEY, checkout_params


def test_it_creates_a_checkout_session_as_stripe_answers(stripe_sandbox):
    session = stripe.checkout.Session.create(**checkout_params())

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (900, "eur")
    assert session.metadata.to_dict() == {"purchase": "p-123", "package": "starter"}
    assert session.client_reference_id == "user-code-1"
    assert session.allow_promotion_codes is True
    assert session.payment_intent is None
    assert session.url == f"{stripe_sandbox.url}/c/pay/{session.id}"


def test_it_sums_the_line_items(stripe_sandbox):
    items = checkout_params()["line_items"] * 2
    items[1] = {**items[1], "quantity": 3}
    session = stripe.checkout.Session.create(**checkout_params(line_items=items))
    assert session.amount_total == 900 * 4


def test_the_same_idempotency_key_gives_the_same_session(stripe_sandbox):
    first = stripe.checkout.Session.create(**checkout_params(), idempotency_key="purchase-1")
    again = stripe.checkout.Session.create(**checkout_params(), idempotency_key="purchase-1")
    other = stripe.checkout.Session.create(**checkout_params(), idempotency_key="purchase-2")
    assert again.id == first.id
    assert other.id != first.id


def test_an_idempotency_key_reused_with_other_params_is_refused(stripe_sandbox):
    stripe.checkout.Session.create(**checkout_params(), idempotency_key="purchase-1")
    with pytest.raises(stripe.IdempotencyError):
        stripe.checkout.Session.create(
            **checkout_params(client_reference_id="someone-else"), idempotency_key="purchase-1"
        )


def test_it_retrieves_a_session_and_answers_404_for_an_unknown_one(stripe_sandbox):
    made = stripe.checkout.Session.create(**checkout_params())
    assert stripe.checkout.Session.retrieve(made.id).metadata["purchase"] == "p-123"
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.checkout.Session.retrieve("cs_test_nonexistent")
    assert error.value.http_status == 404
    assert error.value.code == "resource_missing"


def test_it_lists_sessions_newest_first_in_pages(stripe_sandbox):
    made = [stripe.checkout.Session.create(**checkout_params()).id for _ in range(3)]

    first = stripe.checkout.Session.list(limit=2)
    assert [s.id for s in first.data] == made[::-1][:2]
    assert first.has_more is True
    rest = stripe.checkout.Session.list(limit=2, starting_after=first.data[-1].id)
    assert [s.id for s in rest.data] == [made[0]]
    assert rest.has_more is False
    assert [s.id for s in stripe.checkout.Session.list().auto_paging_iter()] == made[::-1]


def test_it_lists_sessions_created_since(stripe_sandbox):
    stripe.checkout.Session.create(**checkout_params())
    since = int(time.time()) + 1
    assert stripe.checkout.Session.list(created={"gte": since}).data == []
    assert len(stripe.checkout.Session.list(created={"gte": since - 60}).data) == 1


def test_a_wrong_key_is_an_authentication_error(stripe_sandbox):
    with pytest.raises(stripe.AuthenticationError):
        stripe.checkout.Session.create(**checkout_params(), api_key="sk_live_guess")


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"mode": "subscription"}, "mode"),
        ({"success_url": "javascript:alert(1)"}, "success_url"),
        ({"colour": "red"}, "colour"),
        ({"line_items": []}, "line_items"),
    ],
)
def test_bad_params_get_stripes_error_naming_the_param(stripe_sandbox, overrides, param):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.checkout.Session.create(**checkout_params(**overrides))
    assert error.value.http_status == 400
    assert error.value.param == param


def test_a_session_without_its_required_params_is_refused(stripe_sandbox):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe.checkout.Session.create(mode="payment", success_url="http://127.0.0.1/ok")
    assert error.value.param == "line_items"


def test_a_malformed_form_is_a_plain_400_not_a_500(stripe_sandbox):
    response = requests.post(
        f"{stripe_sandbox.url}/v1/checkout/sessions",
        data="line_items[0]=a&line_items[0][price_data]=b",
        headers={
            "Authorization": f"Bearer {SANDBOX_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_eight_concurrent_creates_with_one_key_make_one_session(stripe_sandbox):
    def create(_: int) -> str:
        return stripe.checkout.Session.create(**checkout_params(), idempotency_key="race").id

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(create, range(8)))
    assert len(ids) == 1
    assert len(stripe.checkout.Session.list().data) == 1
