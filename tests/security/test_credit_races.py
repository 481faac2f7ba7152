"""Credits under concurrent requests, on the real PostgreSQL with a connection per thread: a
balance never goes below zero, nothing is charged or refunded twice, and the ledger always sums
to the balance.

tests/accounts/test_credits.py races the debit service alone; here the races go through what
people use: photoshoot starts from the web page, staff's grant form in admin, and the refunds
that a failing photoshoot's scenes and the photoshoot itself give at the same moment.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import Sum
from django.test import Client

from accounts.credits import credits_debit, credits_grant, credits_refund
from accounts.models import CreditEntry, User
from tests import factories
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import pack, portal, ready_selfie_set  # noqa: F401 - fixtures
from tunes import services
from tunes.models import Prompt, Tune

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")


def at_once(calls: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run every call in its own thread (and database connection), all released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | BaseException:
        try:
            barrier.wait(timeout=30)
            return call()
        except BaseException as exc:  # reported to the test, which asserts on it
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def balance_of(user: User) -> int:
    """The balance, after checking that the ledger sums to it and that it is not negative."""
    user.refresh_from_db()
    ledger = CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0
    assert user.credits == ledger, f"balance {user.credits}, ledger {ledger}"
    assert user.credits >= 0
    return user.credits


def no_errors(results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors


# --- Photoshoot starts --------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def one_start_of_credit(portal, owner, pack, settings):  # noqa: F811
    """The owner can pay for one photoshoot of `pack`, and not a second."""
    settings.TUNE_START_RATE = "1000/m"  # the race, not the per-user limit, is under test
    credits_grant(user=owner, amount=pack.price + pack.price // 2, reason="Test credits")
    return ready_selfie_set(owner)


def test_parallel_starts_with_credit_for_one_start_one(owner, pack, one_start_of_credit):  # noqa: F811
    selfie_set = one_start_of_credit
    clients = [signed_in(owner) for _ in range(8)]
    form = {"selfie_set": str(selfie_set.code), "pack": pack.slug}

    def start(client: Client) -> Callable[[], Any]:
        return lambda: client.post("/tunes/start/", {**form, "start_token": str(uuid.uuid4())})

    responses = at_once([start(client) for client in clients])
    no_errors(responses)
    assert all(r.status_code == 302 for r in responses), [r.status_code for r in responses]
    started = [
        r for r in responses if r["Location"].startswith("/tunes/") and "new" not in r["Location"]
    ]
    assert len(started) == 1
    assert Tune.objects.filter(owner=owner).count() == 1
    assert CreditEntry.objects.filter(user=owner, kind="debit").count() == 1
    assert balance_of(owner) == pack.price // 2


def test_the_same_start_sent_in_parallel_starts_one(owner, pack, one_start_of_credit):  # noqa: F811
    selfie_set = one_start_of_credit
    credits_grant(user=owner, amount=10 * pack.price, reason="Enough for many")
    form = {"selfie_set": str(selfie_set.code), "pack": pack.slug, "start_token": str(uuid.uuid4())}
    clients = [signed_in(owner) for _ in range(8)]
    responses = at_once([lambda c=c: c.post("/tunes/start/", form) for c in clients])
    no_errors(responses)
    tune = Tune.objects.get(owner=owner)  # one, whatever each request saw
    assert {r["Location"] for r in responses} == {f"/tunes/{tune.code}/"}
    assert CreditEntry.objects.filter(user=owner, kind="debit").count() == 1
    assert balance_of(owner) == 10 * pack.price + pack.price // 2


# --- Staff's grants and takes -------------------------------------------------------------------


def credits_form(client: Client, user: User, amount: int) -> Callable[[], Any]:
    url = f"/admin/accounts/user/{user.pk}/credits/"
    return lambda: client.post(url, {"amount": str(amount), "reason": f"Race {amount:+d}"})


def test_parallel_takes_never_take_more_than_the_balance(owner, staff):
    credits_grant(user=owner, amount=10, reason="Gift")
    clients = [signed_in(staff) for _ in range(12)]
    responses = at_once([credits_form(client, owner, -3) for client in clients])
    no_errors(responses)
    taken = [r for r in responses if r.status_code == 302]
    refused = [r for r in responses if r.status_code == 200]
    assert len(taken) == 3 and len(refused) == 9
    assert all(b"take at most that many" in r.content for r in refused)
    assert balance_of(owner) == 1
    # Each take that happened is in the admin log, and only those.
    assert LogEntry.objects.filter(object_id=str(owner.pk)).count() == 3


def test_parallel_grants_and_takes_all_land_in_the_ledger(owner, staff, other_user):
    credits_grant(user=owner, amount=5, reason="Gift")
    calls = [credits_form(signed_in(staff), owner, +2) for _ in range(8)]
    calls += [credits_form(signed_in(staff), owner, -3) for _ in range(8)]
    # Someone else's grants at the same moment change nothing of the owner's.
    calls += [credits_form(signed_in(staff), other_user, +1) for _ in range(4)]
    responses = at_once(calls)
    no_errors(responses)
    assert all(r.status_code in (200, 302) for r in responses)
    grants = CreditEntry.objects.filter(user=owner, amount=2).count()
    takes = CreditEntry.objects.filter(user=owner, amount=-3).count()
    assert grants == 8  # a grant is never refused nor lost
    assert takes == sum(1 for r in responses[8:16] if r.status_code == 302)
    assert balance_of(owner) == 5 + 2 * grants - 3 * takes
    assert balance_of(other_user) == 4


# --- Refunds ------------------------------------------------------------------------------------


def started_tune(owner: User, *, price: int = 9, scenes: int = 3) -> Tune:
    """A tune paid for and under way at Astria: each scene submitted, none finished."""
    tune = factories.TuneFactory(owner=owner, price=price, status="generating")
    for order in range(scenes):
        factories.PromptFactory(tune=tune, order=order, num_images=2, status="submitted")
    credits_debit(user=owner, amount=price, reason="Photoshoot", cause=tune)
    return tune


def refunds_for(tune: Tune) -> int:
    prompts = list(tune.prompts.values_list("pk", flat=True))
    entries = CreditEntry.objects.filter(kind="refund", user=tune.owner)
    of_tune = entries.filter(cause_type__model="tune", cause_id=tune.pk)
    of_prompts = entries.filter(cause_type__model="prompt", cause_id__in=prompts)
    return sum(e.amount for e in [*of_tune, *of_prompts])


def test_one_cause_refunded_from_many_threads_is_refunded_once(owner):
    credits_grant(user=owner, amount=9, reason="Gift")
    tune = started_tune(owner, price=9)
    assert balance_of(owner) == 0

    def refund() -> bool:
        return credits_refund(user=owner, amount=tune.price, reason="Failed", cause=tune)

    given = at_once([refund] * 10)
    no_errors(given)
    assert given.count(True) == 1 and given.count(False) == 9
    assert balance_of(owner) == 9


def test_a_failing_photoshoot_and_its_scenes_refund_the_price_once_between_them(owner):
    """The tune fails (a deadline, staff's "mark failed") while its scenes fail one by one
    (Astria's answers): in every order, the refunds add up to the price, never more."""
    credits_grant(user=owner, amount=45, reason="Gift")
    tunes = [started_tune(owner) for _ in range(5)]
    calls: list[Callable[[], Any]] = []
    for tune in tunes:
        calls += [lambda t=tune: services.tune_fail(tune_id=t.pk, reason="Stopped")] * 2
        for prompt in tune.prompts.all():
            calls += [lambda p=prompt: services.prompt_fail(prompt_id=p.pk, reason="Refused")] * 2
    no_errors(at_once(calls))
    for tune in tunes:
        tune.refresh_from_db()
        assert tune.status == "failed"
        assert not tune.prompts.exclude(status=Prompt.Status.FAILED).exists()
        assert refunds_for(tune) == tune.price, f"tune {tune.pk} refunded {refunds_for(tune)}"
    assert balance_of(owner) == 45
