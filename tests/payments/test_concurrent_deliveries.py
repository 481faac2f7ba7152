"""Stripe's deliveries arriving at the same moment, on the real PostgreSQL with a connection
per thread: 8 copies of one event, or 8 events of one paid session, grant the credits once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import CreditEntry
from payments import fulfilment
from payments.models import Purchase, StripeEvent
from tests import factories
from tests.payments.stripe_events import deliver, event, session

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread (and database connection), all released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=30)
            return call()
        except BaseException as exc:  # reported to the test, which asserts on it
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def granted(purchase: Purchase) -> tuple[str, int, int]:
    purchase.refresh_from_db()
    purchase.user.refresh_from_db()
    ledger = CreditEntry.objects.filter(user=purchase.user).aggregate(t=Sum("amount"))["t"]
    assert purchase.user.credits == (ledger or 0)
    return purchase.status, purchase.user.credits, CreditEntry.objects.count()


@pytest.fixture
def purchase() -> Purchase:
    return factories.PurchaseFactory(package__credits=100)


def test_8_concurrent_deliveries_of_one_event_grant_once(purchase):
    body = event("checkout.session.completed", session(purchase))
    answers = at_once([lambda: deliver(None, body).status_code for _ in range(8)])
    assert answers == [200] * 8
    assert granted(purchase) == ("paid", 100, 1)
    assert StripeEvent.objects.count() == 1


def test_8_concurrent_events_of_one_session_grant_once(purchase):
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
    bodies = [event(kinds[i % 2], session(purchase)) for i in range(8)]
    answers = at_once([lambda b=b: deliver(None, b).status_code for b in bodies])
    assert answers == [200] * 8
    assert granted(purchase) == ("paid", 100, 1)
    assert StripeEvent.objects.count() == 8


def test_the_success_page_racing_the_webhook_grants_once(purchase):
    body = event("checkout.session.completed", session(purchase))
    calls: list[Callable[[], Any]] = [lambda: deliver(None, body).status_code] * 4
    calls += [lambda: fulfilment.purchase_fulfil(session_id=purchase.checkout_session_id)] * 4
    results = at_once(calls)
    assert not [r for r in results if isinstance(r, BaseException)]
    assert granted(purchase) == ("paid", 100, 1)
