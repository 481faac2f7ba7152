"""Astria at its worst: 30% of its callbacks lost, 30% of calls answered 500 or 429. Every
tune and prompt still ends, none is trained twice at Astria, nothing is refunded twice."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest

from accounts.credits import credits_grant
from tests import factories
from tests.faults.conftest import scale
from tests.tunes.conftest import ready_selfie_set
from tunes import services
from tunes.models import Prompt, Tune

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

API = r"^/(tunes|prompts)"


def test_every_job_ends_once_whatever_astria_does(portal, pack, celery_worker, settings):
    settings.POLL_AFTER_SECONDS = 1
    portal.configure(
        train_seconds=1,
        generate_seconds=1,
        callbacks={"drop": 0.3, "duplicate": 0.1},
        faults=[
            {"path": API, "status": 500, "rate": 0.15},
            {"path": API, "status": 429, "rate": 0.18},  # of the 85% the first one spared
        ],
        prompt_user_error=0.1,
    )
    tunes = []
    for _ in range(scale(short=2, full=8)):
        owner = factories.UserFactory()
        credits_grant(user=owner, amount=20, reason="Test credits")
        tunes.append(
            services.tune_start(
                user=owner,
                selfie_set=ready_selfie_set(owner),
                pack=pack,
                start_token=uuid.uuid4(),
            )
        )

    deadline = time.monotonic() + scale(short=120, full=300)
    open_states = ["queued", "submitting", "training", "generating"]
    while Tune.objects.filter(status__in=open_states).exists() and time.monotonic() < deadline:
        services.overdue_poll()  # what beat does every minute
        time.sleep(1)

    assert list(Tune.objects.filter(status__in=open_states)) == []
    assert not Prompt.objects.filter(status__in=["waiting", "submitted"]).exists()
    portal.configure(train_seconds=1, generate_seconds=1)  # no faults while we look
    # One tune at Astria per tune of ours, whatever was retried or looked up again.
    titles = Counter(t.title for t in portal.client().tunes_list())
    assert sorted(titles) == sorted(t.astria_title for t in tunes)
    assert set(titles.values()) == {1}
    # A photo per image of each finished scene, never two.
    for prompt in Prompt.objects.filter(status="done"):
        assert prompt.photos.count() == prompt.result_count
    # Refunds: no user ends with more than they were given, or less than they paid for.
    for tune in Tune.objects.select_related("owner"):
        tune.owner.refresh_from_db()
        assert 20 - tune.price <= tune.owner.credits <= 20
        if tune.status == "failed":
            assert tune.owner.credits == 20
    # The faults did happen.
    log = portal.requests_log()
    assert any(r["status"] in (500, 429) for r in log if r["kind"] != "callback")
