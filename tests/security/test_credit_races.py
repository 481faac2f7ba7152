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
from tunes import photoshoots
from tunes.models import Photoshoot, Prompt, TrainedModel

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
    form = {"selfie_set": str(selfie_set.code), "pack": pack.slug, "price": str(pack.price)}

    responses = at_once([start_form(client, form) for client in clients])
    no_errors(responses)
    assert all(r.status_code == 302 for r in responses), [r.status_code for r in responses]
    assert len(started(responses)) == 1
    assert Photoshoot.objects.filter(owner=owner).count() == 1
    assert TrainedModel.objects.filter(owner=owner).count() == 1
    assert CreditEntry.objects.filter(user=owner, kind="debit").count() == 1
    assert balance_of(owner) == pack.price // 2


def start_form(client: Client, form: dict[str, str]) -> Callable[[], Any]:
    """The start form as one page shows it: its own token, the price it showed."""
    return lambda: client.post("/photoshoots/start/", {**form, "start_token": str(uuid.uuid4())})


def started(responses: list[Any]) -> list[Any]:
    """The answers that went on to a photoshoot's page (the others back to the form)."""
    return [
        r
        for r in responses
        if r["Location"].startswith("/photoshoots/") and "new" not in r["Location"]
    ]


def test_parallel_first_starts_on_a_set_train_one_model(owner, pack, one_start_of_credit):  # noqa: F811
    """Pages opened before the set had a model all show the price with training: the first
    start trains the model; the others, priced lower on it now, start nothing and charge
    nothing, however much credit there is."""
    selfie_set = one_start_of_credit
    credits_grant(user=owner, amount=10 * pack.price, reason="Enough for many")
    form = {"selfie_set": str(selfie_set.code), "pack": pack.slug, "price": str(pack.price)}
    clients = [signed_in(owner) for _ in range(8)]

    responses = at_once([start_form(client, form) for client in clients])

    no_errors(responses)
    assert len(started(responses)) == 1
    [model] = TrainedModel.objects.filter(selfie_set=selfie_set)
    [photoshoot] = Photoshoot.objects.filter(owner=owner)
    assert (photoshoot.model, photoshoot.price, photoshoot.with_training) == (
        model,
        pack.price,
        True,
    )
    assert CreditEntry.objects.filter(user=owner, kind="debit").count() == 1
    assert balance_of(owner) == 11 * pack.price + pack.price // 2 - pack.price


def test_the_same_start_sent_in_parallel_starts_one(owner, pack, one_start_of_credit):  # noqa: F811
    selfie_set = one_start_of_credit
    credits_grant(user=owner, amount=10 * pack.price, reason="Enough for many")
    form = {
        "selfie_set": str(selfie_set.code),
        "pack": pack.slug,
        "price": str(pack.price),
        "start_token": str(uuid.uuid4()),
    }
    clients = [signed_in(owner) for _ in range(8)]
    responses = at_once([lambda c=c: c.post("/photoshoots/start/", form) for c in clients])
    no_errors(responses)
    photoshoot = Photoshoot.objects.get(owner=owner)  # one, whatever each request saw
    assert {r["Location"] for r in responses} == {f"/photoshoots/{photoshoot.code}/"}
    assert TrainedModel.objects.filter(owner=owner).count() == 1
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


def started_photoshoot(owner: User, *, price: int = 9, scenes: int = 3) -> Photoshoot:
    """A photoshoot paid for and under way at Astria: each scene submitted, none finished."""
    photoshoot = factories.PhotoshootFactory(owner=owner, price=price, status="generating")
    for order in range(scenes):
        factories.PromptFactory(
            photoshoot=photoshoot, order=order, num_images=2, status="submitted"
        )
    credits_debit(user=owner, amount=price, reason="Photoshoot", cause=photoshoot)
    return photoshoot


def refunds_for(photoshoot: Photoshoot) -> int:
    prompts = list(photoshoot.prompts.values_list("pk", flat=True))
    entries = CreditEntry.objects.filter(kind="refund", user=photoshoot.owner)
    of_photoshoot = entries.filter(cause_type__model="photoshoot", cause_id=photoshoot.pk)
    of_prompts = entries.filter(cause_type__model="prompt", cause_id__in=prompts)
    return sum(e.amount for e in [*of_photoshoot, *of_prompts])


def test_one_cause_refunded_from_many_threads_is_refunded_once(owner):
    credits_grant(user=owner, amount=9, reason="Gift")
    photoshoot = started_photoshoot(owner, price=9)
    assert balance_of(owner) == 0

    def refund() -> bool:
        return credits_refund(
            user=owner, amount=photoshoot.price, reason="Failed", cause=photoshoot
        )

    given = at_once([refund] * 10)
    no_errors(given)
    assert given.count(True) == 1 and given.count(False) == 9
    assert balance_of(owner) == 9


def test_a_failing_photoshoot_and_its_scenes_refund_the_price_once_between_them(owner):
    """The photoshoot fails (a deadline, staff's "mark failed") while its scenes fail one by
    one (Astria's answers): in every order, the refunds add up to the price, never more."""
    credits_grant(user=owner, amount=45, reason="Gift")
    shoots = [started_photoshoot(owner) for _ in range(5)]
    calls: list[Callable[[], Any]] = []
    for shoot in shoots:
        calls += [
            lambda s=shoot: photoshoots.photoshoot_fail(photoshoot_id=s.pk, reason="Stopped")
        ] * 2
        for prompt in shoot.prompts.all():
            calls += [
                lambda p=prompt: photoshoots.prompt_fail(prompt_id=p.pk, reason="Refused")
            ] * 2
    no_errors(at_once(calls))
    for shoot in shoots:
        shoot.refresh_from_db()
        assert shoot.status == "failed"
        assert not shoot.prompts.exclude(status=Prompt.Status.FAILED).exists()
        assert refunds_for(shoot) == shoot.price, f"{shoot.pk} refunded {refunds_for(shoot)}"
    assert balance_of(owner) == 45
