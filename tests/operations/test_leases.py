"""Leases (operations/leases.py): one attempt holds a job, renews it while it works, and a dead
attempt's claim lapses after CLAIM_LEASE_SECONDS. The heartbeat is a thread with a connection
of its own, so these tests commit (transactional_db)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from operations import leases
from tests import factories
from tests.conftest import wait_until
from tunes import engine
from tunes.models import TrainedModel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_lease(settings):
    settings.CLAIM_LEASE_SECONDS = 1  # renewed every quarter second


def claimed_at(model_id: int):
    return TrainedModel.objects.values_list("submit_claimed_at", flat=True).get(pk=model_id)


def test_one_attempt_at_a_time_holds_a_job(short_lease):
    model = factories.TrainedModelFactory()
    unsent = TrainedModel.objects.all()
    first = leases.claim(unsent, model.pk, "submit_claimed_at")
    assert first is not None and first.held()
    assert leases.claim(unsent, model.pk, "submit_claimed_at") is None
    assert first.release()
    assert claimed_at(model.pk) is None
    assert leases.claim(unsent, model.pk, "submit_claimed_at") is not None


def test_a_live_attempt_keeps_its_claim_past_the_lease(short_lease):
    model = factories.TrainedModelFactory()
    lease = leases.claim(TrainedModel.objects.all(), model.pk, "submit_claimed_at")
    with leases.held(lease):
        first = claimed_at(model.pk)
        wait_until(lambda: claimed_at(model.pk) != first, timeout=5)
        time.sleep(1.5)  # longer than the lease: the heartbeat kept it
        assert claimed_at(model.pk) >= leases.lapsed_before()
        assert leases.claim(TrainedModel.objects.all(), model.pk, "submit_claimed_at") is None
    assert claimed_at(model.pk) is None  # let go once the block ends


def test_a_dead_attempts_claim_lapses_and_it_notices_it_lost_the_job(short_lease):
    model = factories.TrainedModelFactory()
    dead = leases.claim(TrainedModel.objects.all(), model.pk, "submit_claimed_at")
    assert dead is not None  # no heartbeat: as if its worker were killed
    time.sleep(1.2)
    taker = leases.claim(TrainedModel.objects.all(), model.pk, "submit_claimed_at")
    assert taker is not None
    # Had the first been frozen rather than dead, it finds the job gone before posting.
    assert not dead.held()
    assert not dead.renew()
    assert not dead.release()
    assert taker.held()


def test_an_attempt_whose_lease_was_taken_over_does_not_post():
    model = factories.TrainedModelFactory()
    lease = leases.claim(TrainedModel.objects.all(), model.pk, "submit_claimed_at")
    assert lease is not None
    TrainedModel.objects.filter(pk=model.pk).update(
        submit_claimed_at=lease.stamp + timedelta(seconds=1)  # another attempt's stamp
    )
    posts: list[int] = []
    with pytest.raises(engine.ClaimLost):
        engine.submit_with_lookup(
            first_attempt=True,
            find=lambda: None,
            create=lambda: posts.append(1),
            refused=lambda exc: None,
            lease=lease,
        )
    assert posts == []


def test_submit_claim_counts_the_attempt_and_ends_quietly_when_the_claim_is_lost():
    model = factories.TrainedModelFactory()
    unsent = TrainedModel.objects.filter(status="queued")
    with engine.submit_claim(unsent, model.pk, status="submitting") as lease:
        assert lease is not None
        raise engine.ClaimLost  # what submit_with_lookup raises: the task just ends
    model.refresh_from_db()
    assert (model.status, model.submit_attempts, model.submit_claimed_at) == ("submitting", 1, None)
