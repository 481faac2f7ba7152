"""Astria at its worst: 30% of its callbacks lost, 30% of calls answered 500 or 429, a tune
and a scene answered 504 after Astria saved them (a fresh account: no idempotency). Every
model and photoshoot still ends, no model is trained twice and no scene made twice at Astria,
nothing is refunded twice."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from accounts.credits import credits_grant
from tests import factories
from tests.faults.conftest import scale
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photoshoot, Prompt, TrainedModel
from tunes.sweep import overdue_poll

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

API = r"^/(tunes|prompts)"
FLUX = 1504944
OPEN_MODELS = ["queued", "submitting", "training"]
OPEN_PHOTOSHOOTS = ["training", "generating"]


def still_open() -> bool:
    return (
        TrainedModel.objects.filter(status__in=OPEN_MODELS).exists()
        or Photoshoot.objects.filter(status__in=OPEN_PHOTOSHOOTS).exists()
    )


def test_every_job_ends_once_whatever_astria_does(portal, pack, celery_worker, settings):
    settings.POLL_AFTER_SECONDS = 1
    portal.configure(
        train_seconds=1,
        generate_seconds=1,
        callbacks={"drop": 0.3, "duplicate": 0.1},
        faults=[
            # The first tune and the first scene are saved, but their answers lost.
            {"method": "POST", "path": "^/tunes$", "status": 504, "times": 1},
            {"method": "POST", "path": f"^/tunes/{FLUX}/prompts$", "status": 504, "times": 1},
            {"path": API, "status": 500, "rate": 0.15},
            {"path": API, "status": 429, "rate": 0.18},  # of the 85% the first ones spared
        ],
        prompt_user_error=0.1,
    )
    photoshoots = []
    for _ in range(scale(short=2, full=8)):
        owner = factories.UserFactory()
        credits_grant(user=owner, amount=20, reason="Test credits")
        photoshoots.append(start(owner, ready_selfie_set(owner), pack))

    deadline = time.monotonic() + scale(short=120, full=300)
    while still_open() and time.monotonic() < deadline:
        overdue_poll()  # what beat does every minute
        time.sleep(1)

    assert list(TrainedModel.objects.filter(status__in=OPEN_MODELS)) == []
    assert list(Photoshoot.objects.filter(status__in=OPEN_PHOTOSHOOTS)) == []
    assert not Prompt.objects.filter(status__in=["waiting", "submitted"]).exists()
    portal.configure(train_seconds=1, generate_seconds=1)  # no faults while we look
    astria = portal.client()
    # One tune at Astria per model of ours, whatever was retried or looked up again.
    titles = Counter(t.title for t in astria.tunes_list())
    assert sorted(titles) == sorted(m.astria_title for m in TrainedModel.objects.all())
    assert set(titles.values()) == {1}
    # One prompt at Astria per scene that was sent, never two (a 504 is looked up, not re-sent).
    callbacks = Counter(p.callback for p in astria.prompts_list(FLUX))
    sent = Prompt.objects.exclude(astria_id=None)
    assert set(callbacks.values()) <= {1}, callbacks
    assert len(callbacks) == sent.count()
    assert all(any(str(p.code) in url for url in callbacks) for p in sent)
    # A photo per image of each finished scene, never two.
    for prompt in Prompt.objects.filter(status="done"):
        assert prompt.photos.count() == prompt.result_count
    # Refunds: no user ends with more than they were given, or less than they paid for.
    for photoshoot in Photoshoot.objects.select_related("owner"):
        photoshoot.owner.refresh_from_db()
        assert 20 - photoshoot.price <= photoshoot.owner.credits <= 20
        if photoshoot.status == "failed":
            assert photoshoot.owner.credits == 20
    # The faults did happen.
    log = portal.requests_log()
    assert any(r["status"] in (500, 429) for r in log if r["kind"] != "callback")
    assert [r["path"] for r in log if r["status"] == 504] == ["/tunes", f"/tunes/{FLUX}/prompts"]
