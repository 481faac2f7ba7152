"""The sandbox's timers and callbacks: eager for the faults, a real worker for the timers."""

from __future__ import annotations

import pytest

from astria.schemas import PromptCreate
from tests.astria.test_client_contract import FLUX, flux_tune, portrait
from tests.conftest import wait_until


def test_callbacks_arrive_at_the_given_url_wrapped_in_their_root_key(sandbox, loopback):
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    prompt = client.prompt_create(FLUX, portrait(tune.id, loopback))

    assert [(r.path, list(r.body)) for r in loopback.received] == [
        ("/callbacks/tune?secret=t1", ["tune"]),
        ("/callbacks/prompt?secret=p1", ["prompt"]),
    ]
    tune_body, prompt_body = (r.body for r in loopback.received)
    assert tune_body["tune"]["id"] == tune.id and tune_body["tune"]["trained_at"]
    assert prompt_body["prompt"]["id"] == prompt.id
    assert len(prompt_body["prompt"]["images"]) == 2
    callbacks = [r for r in sandbox.requests_log() if r["kind"] == "callback"]
    assert [(r["path"], r["status"]) for r in callbacks] == [
        (f"tune/{tune.id}", 200),
        (f"prompt/{prompt.id}", 200),
    ]


def test_dropped_callbacks_never_arrive_but_the_work_is_done(sandbox, loopback):
    sandbox.configure(train_seconds=0, generate_seconds=0, callbacks={"drop": 1})
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    prompt = client.prompt_create(FLUX, portrait(tune.id, loopback))
    assert loopback.received == []
    assert client.prompt_get(FLUX, prompt.id).is_done  # only a poll finds out


def test_duplicated_callbacks_arrive_twice(sandbox, loopback):
    sandbox.configure(train_seconds=0, generate_seconds=0, callbacks={"duplicate": 1})
    sandbox.client().tune_create(flux_tune(loopback))
    assert [list(r.body) for r in loopback.received] == [["tune"], ["tune"]]


def test_a_training_that_never_finishes_keeps_its_prompts_waiting(sandbox, loopback):
    sandbox.configure(train_seconds=0, generate_seconds=0, never_train=True)
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    prompt = client.prompt_create(FLUX, portrait(tune.id, loopback))
    assert client.tune_get(tune.id).is_training
    waiting = client.prompt_get(FLUX, prompt.id)
    assert not waiting.is_done and waiting.started_training_at is None
    assert loopback.received == []


@pytest.mark.postgres
@pytest.mark.redis
def test_a_prompt_posted_before_training_waits_and_completes_after_it(
    sandbox, loopback, celery_worker
):
    sandbox.configure(train_seconds=2, generate_seconds=1)
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    prompt = client.prompt_create(FLUX, portrait(tune.id, loopback))
    assert not client.tune_get(tune.id).is_trained
    assert not client.prompt_get(FLUX, prompt.id).is_done

    done = wait_until(lambda: (p := client.prompt_get(FLUX, prompt.id)).is_done and p, timeout=30)

    trained = client.tune_get(tune.id)
    assert trained.trained_at <= done.started_training_at <= done.trained_at
    assert (done.trained_at - done.started_training_at).total_seconds() >= 1
    wait_until(lambda: len(loopback.received) == 2, timeout=10)
    assert [list(r.body) for r in loopback.received] == [["tune"], ["prompt"]]


@pytest.mark.postgres
@pytest.mark.redis
def test_delayed_callbacks_arrive_late(sandbox, loopback, celery_worker):
    sandbox.configure(train_seconds=0, generate_seconds=0, callbacks={"delay": 3})
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    client.prompt_create(
        FLUX, PromptCreate(text="ohwx", num_images=1, callback=f"{loopback.url}/a")
    )
    wait_until(lambda: client.tune_get(tune.id).is_trained, timeout=10)
    assert loopback.received == []  # held back three seconds
    wait_until(lambda: len(loopback.received) == 2, timeout=20)
    assert {r.path for r in loopback.received} == {"/callbacks/tune?secret=t1", "/a"}
