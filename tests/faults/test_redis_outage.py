"""Redis, the broker, stopped for a while and started again: callbacks that come meanwhile are
still answered, a photoshoot started meanwhile still starts, and every job finishes."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from accounts.credits import credits_grant
from tests import factories
from tests.conftest import worker_base_env, worker_start
from tests.faults.conftest import scale
from tests.tunes.conftest import ready_selfie_set
from tunes import services
from tunes.models import CallbackEvent, Photo, Tune

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]


def customer():
    person = factories.UserFactory()
    credits_grant(user=person, amount=20, reason="Test credits")
    return person, ready_selfie_set(person)


def test_a_broker_outage_loses_no_job_and_no_callback_goes_unanswered(
    portal, pack, own_redis, worker_env, live_server, tmp_path, settings
):
    from photoshoot.celery import app

    settings.POLL_AFTER_SECONDS = 1
    outage = scale(short=5, full=30)
    portal.configure(train_seconds=3, generate_seconds=1)
    env = {**worker_base_env(tmp_path), **worker_env, "CELERY_VISIBILITY_TIMEOUT": "5"}
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    worker = worker_start(env)
    try:
        person, selfies = customer()
        before = services.tune_start(
            user=person, selfie_set=selfies, pack=pack, start_token=uuid.uuid4()
        )
        deadline = time.monotonic() + 30
        while Tune.objects.get(pk=before.pk).status != "training" and time.monotonic() < deadline:
            time.sleep(0.1)
        before.refresh_from_db()
        assert before.status == "training"

        own_redis.stop()
        down_since = time.monotonic()
        # A photoshoot started now starts: the user sees it, the sweep sends it later.
        person, selfies = customer()
        during = services.tune_start(
            user=person, selfie_set=selfies, pack=pack, start_token=uuid.uuid4()
        )
        assert Tune.objects.get(pk=during.pk).status == "queued"
        # Astria's callback for the first one is answered, and recorded.
        response = requests.post(
            f"{live_server.url}/callbacks/astria/tune/{before.code}/"
            f"?secret={services.callback_secret('tune', before.code)}",
            json={"tune": {"id": before.astria_id}},
            timeout=30,
        )
        assert response.status_code == 200
        assert CallbackEvent.objects.filter(tune=before).exists()
        time.sleep(max(0, outage - (time.monotonic() - down_since)))
        own_redis.start()

        restarts = 0
        deadline = time.monotonic() + 150
        tunes = Tune.objects.filter(pk__in=[before.pk, during.pk])
        while tunes.exclude(status="ready").exists() and time.monotonic() < deadline:
            if worker.process.poll() is not None:
                # Celery's worker may exit when its broker goes away (a kombu bug in closing
                # the lost connection): production runs it under a supervisor that starts it
                # again, as this test does.
                worker = worker_start(env)
                restarts += 1
            services.overdue_poll()  # what beat does every minute
            time.sleep(1)
    finally:
        app.conf.task_always_eager = eager
        worker.stop()

    print(f"the worker was started again {restarts} times after the outage")
    assert list(tunes.values_list("status", flat=True)) == ["ready", "ready"], worker.output[-3000:]
    for tune in tunes:
        assert Photo.objects.filter(tune=tune).count() == 6
    titles = [t.title for t in portal.client().tunes_list()]
    assert sorted(titles) == sorted(t.astria_title for t in tunes)
