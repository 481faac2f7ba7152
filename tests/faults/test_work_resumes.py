"""Work that resumes in seconds, and a watchdog that notices beat is gone, on the real stack: a
Celery worker and beat as processes of their own, Redis, PostgreSQL, the sandbox over HTTP.

- A worker SIGKILLed while Astria is taking its tune (the sandbox has saved it and not yet
  answered): with production's lease, resume check and sweep, the photoshoot is training again
  within a minute, on the one tune Astria has.
- Beat stopped: readiness reports it within three sweep periods.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from accounts.credits import credits_grant
from sandbox.models import SandboxTune
from tests import factories
from tests.conftest import BASE_DIR, subprocess_env, wait_until, worker_base_env, worker_start
from tests.faults.conftest import scale
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photoshoot, TrainedModel

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

SANDBOX = "sandbox"  # the queue of the sandbox's tasks (Astria's work, not ours)


class BeatProcess:
    """`celery beat` with its schedule in a folder of the test's, in a session of its own."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "photoshoot", "beat",
                "--loglevel", "INFO", "--schedule", str(folder / "beat-schedule"),
            ],
            cwd=BASE_DIR,
            env=subprocess_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def routes_use(app: Any, routes: Any) -> None:
    """Route this process's tasks by `routes` from now on: Celery keeps the router it made
    from the routes it first saw, so it is made again."""
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


def production_timing(env: dict[str, str]) -> dict[str, str]:
    """The worker's environment with production's timings for leases, resumes and the sweep
    (the test fixtures shorten the poll; that would resend lost work after 10 s and hide what
    this test is about)."""
    timing = dict(env)
    for name in ("POLL_AFTER_SECONDS", "CLAIM_LEASE_SECONDS", "WORK_RESUME_SECONDS"):
        timing.pop(name, None)
    timing["POLL_SWEEP_SECONDS"] = "60"
    return timing


def test_a_worker_killed_mid_submission_is_training_again_within_a_minute(
    portal, pack, worker_env, tmp_path, settings
):
    from photoshoot.celery import app

    # Astria saves the tune at once and answers 30 s later: the worker is killed meanwhile.
    portal.configure(
        train_seconds=2,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "delay": 30, "after": True, "times": 1}],
    )
    env = production_timing({**worker_base_env(tmp_path), **worker_env, "SANDBOX_QUEUE": SANDBOX})
    app.control.purge()
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    routes = app.conf.task_routes
    routes_use(app, {"sandbox.tasks.*": {"queue": SANDBOX}})
    # Astria's own work runs on a worker of its own, which is not killed.
    astria = worker_start(env, queues=SANDBOX)
    worker = worker_start(env, own_session=True)
    beat = BeatProcess(env, tmp_path)
    try:
        person = factories.UserFactory()
        credits_grant(user=person, amount=20, reason="Test credits")
        photoshoot = start(person, ready_selfie_set(person), pack)
        model = TrainedModel.objects.filter(pk=photoshoot.model_id)
        # Astria has saved the tune and not answered yet.
        wait_until(SandboxTune.objects.filter(is_public=False).exists, timeout=30)
        assert model.get().status == "submitting"  # mid-submission: Astria has not answered

        worker.kill()
        killed = time.monotonic()
        worker = worker_start(env, own_session=True)  # as its supervisor would
        # Training again: the model has its Astria id (and may be trained already).
        wait_until(lambda: model.get().astria_id is not None, timeout=90, interval=0.2)
        resumed_after = time.monotonic() - killed
        wait_until(
            lambda: Photoshoot.objects.get(pk=photoshoot.pk).status in ("ready", "failed"),
            timeout=90,
        )
    finally:
        app.conf.task_always_eager = eager
        routes_use(app, routes)
        beat.kill()
        worker.stop()
        astria.stop()

    print(f"training again {resumed_after:.1f} s after the kill")
    assert resumed_after < 60
    trained = model.get()
    assert trained.submit_attempts == 2  # the killed one, and the one that looked it up
    tunes = SandboxTune.objects.filter(is_public=False)  # not the base tune of Astria's gallery
    assert tunes.count() == 1  # found by its title, not posted again
    assert trained.astria_id == tunes.get().pk
    assert Photoshoot.objects.get(pk=photoshoot.pk).status == "ready"
    # Astria's own work ran on its own worker, not on the one that was killed.
    assert "Task sandbox.tasks.sandbox_tune_train[" in astria.output
    assert "Task sandbox.tasks." not in worker.output


def test_readiness_reports_beat_missing_within_three_sweep_periods(
    live_server, worker_env, tmp_path, settings
):
    from photoshoot.celery import app

    period = scale(short=2, full=10)
    settings.POLL_SWEEP_SECONDS = period  # the web side's watchdog, and beat, alike
    env = {**worker_base_env(tmp_path), **worker_env, "POLL_SWEEP_SECONDS": str(period)}
    app.control.purge()
    worker = worker_start(env, own_session=True)
    beat = BeatProcess(env, tmp_path)

    def beat_state() -> str:
        return requests.get(f"{live_server.url}/healthz/ready/", timeout=10).json()["beat"]

    try:
        wait_until(lambda: beat_state() == "ok", timeout=30 + period, interval=0.5)
        beat.kill()
        stopped = time.monotonic()
        wait_until(lambda: beat_state() != "ok", timeout=5 * period, interval=0.2)
        noticed_after = time.monotonic() - stopped
        ready = requests.get(f"{live_server.url}/healthz/ready/", timeout=10)
        monitor = requests.get(f"{live_server.url}/healthz/beat/", timeout=10)
    finally:
        beat.kill()
        worker.stop()

    print(f"beat reported missing {noticed_after:.1f} s after it stopped (period {period} s)")
    assert noticed_after <= 3 * period
    assert ready.json()["beat"].startswith("down: no sweep for ")
    assert ready.status_code == 200  # the web process itself is still fit to serve
    assert monitor.status_code == 503
