"""PostgreSQL stopped while Astria's callbacks arrive: they are answered 503 at once (one
warning line each, no traceback, no secret), and once PostgreSQL is back the sweep finishes
every photoshoot: every photo, one tune per model at Astria, no refund.

Astria does not share the portal's database, so neither does the sandbox here: it runs in a
gunicorn of its own on the test's database (the machine's PostgreSQL) with its own worker and
Redis, and keeps training, generating and calling back through the outage. The portal (gunicorn
and a Celery worker) runs on a PostgreSQL cluster of the test's own, which is stopped and
started again; this process's ORM is pointed at that cluster to start the photoshoots and to
look at them, as the portal's code would."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from accounts.credits import credits_grant
from accounts.models import CreditEntry
from tests import factories
from tests.astria.conftest import SANDBOX_KEY, Sandbox
from tests.conftest import (
    BASE_DIR,
    database_url,
    free_port,
    subprocess_env,
    wait_until,
    worker_base_env,
    worker_start,
)
from tests.faults.conftest import PostgresCluster, RedisServer, scale
from tests.tunes.conftest import pack_create, ready_selfie_set, start
from tunes.callbacks import callback_secret
from tunes.models import Photo, Photoshoot, Prompt, TrainedModel
from tunes.sweep import overdue_poll

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]


class Web:
    """`gunicorn photoshoot.wsgi` on a free port of 127.0.0.1, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as out:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "photoshoot.wsgi",
                    "--bind", f"127.0.0.1:{self.port}",
                    "--workers", "1", "--threads", "4",
                ],
                cwd=BASE_DIR,
                env=subprocess_env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_until(self._answers, timeout=30)
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz/", timeout=2).ok
        except requests.RequestException:
            return self.process.poll() is not None  # exited: stop waiting, the test fails

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class Stack:
    """Astria's stand-in on the machine's PostgreSQL, the portal on `cluster`; every process
    started here is stopped by `close`, also when starting one fails."""

    def __init__(self, cluster: PostgresCluster, tmp_path: Path, settings: Any) -> None:
        self.started: list[Any] = []
        self.sandbox_redis = RedisServer(tmp_path)
        self.tmp_path = tmp_path
        self.cluster = cluster
        self.settings = settings

    def open(self) -> None:
        self.sandbox_redis.start()
        self._add(self.sandbox_redis)
        portal_port = free_port()
        portal_url = f"http://127.0.0.1:{portal_port}"
        base = {**worker_base_env(self.tmp_path), "PUBLIC_BASE_URL": portal_url}
        sandbox_env = {
            **base,
            "DATABASE_URL": database_url(),  # the test's database: not the one that stops
            "CELERY_BROKER_URL": self.sandbox_redis.url,
        }
        self.sandbox_web = self._add(Web(sandbox_env, self.tmp_path / "sandbox.log", free_port()))
        self.sandbox = Sandbox(url=f"{self.sandbox_web.url}/sandbox/astria")
        self._add(worker_start(sandbox_env))
        self.portal_env = {
            **base,
            "DATABASE_URL": self.cluster.url,
            # Connections kept across requests, as in production: the outage breaks them.
            "CONN_MAX_AGE": "60",
            "ASTRIA_BASE_URL": self.sandbox.url,
            "ASTRIA_API_KEY": SANDBOX_KEY,
            "ASTRIA_RETRY_SECONDS": "1",
            "POLL_AFTER_SECONDS": "1",
        }
        self.portal = self._add(Web(self.portal_env, self.tmp_path / "portal.log", portal_port))
        self.worker = self._add(worker_start(self.portal_env))
        self.settings.PUBLIC_BASE_URL = self.portal.url
        self.settings.ASTRIA_BASE_URL = self.sandbox.url

    def _add(self, process: Any) -> Any:
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in reversed(self.started):
            process.stop()


@pytest.fixture
def stack(own_postgres: PostgresCluster, tmp_path: Path, settings: Any) -> Iterator[Stack]:
    from photoshoot.celery import app

    settings.POLL_AFTER_SECONDS = 1  # the sweep run by this test, as the worker's
    app.control.purge()  # nothing left over from an earlier run reaches the portal's worker
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    stack = Stack(own_postgres, tmp_path, settings)
    try:
        stack.open()
        with own_postgres.as_default():
            yield stack
    finally:
        stack.close()
        app.conf.task_always_eager = eager
        # The connections this process published with: a later test that moves the broker
        # (own_redis) must not inherit them.
        app._pool = None
        app.amqp._producer_pool = None


def customer() -> tuple[Any, Any]:
    person = factories.UserFactory()
    credits_grant(user=person, amount=20, reason="Test credits")
    return person, ready_selfie_set(person)


def wait_for(what: str, predicate: Any, timeout: float) -> Any:
    """wait_until, for a predicate that reads the database: named in the failure."""
    predicate.__name__ = what
    return wait_until(predicate, timeout=timeout, interval=0.2)


def test_callbacks_during_a_postgres_outage_answer_503_and_everything_finishes_after(stack):
    sandbox, cluster = stack.sandbox, stack.cluster
    generate = 12  # the first photoshoot's scenes end while PostgreSQL is down
    sandbox.configure(train_seconds=1, generate_seconds=generate)
    pack = pack_create()
    first_customer, second_customer = customer(), customer()

    first = start(*first_customer, pack)
    scenes = Prompt.objects.filter(photoshoot=first)
    wait_for(
        "the first photoshoot's scenes sent to Astria",
        lambda: scenes.count() == 3 and not scenes.filter(astria_id=None).exists(),
        timeout=60,
    )
    sandbox.configure(train_seconds=6)  # the second model trains through the outage
    second = start(*second_customer, pack)
    model = TrainedModel.objects.filter(pk=second.model_id)
    wait_for("the second model at Astria", lambda: model.get().astria_id, timeout=30)
    waiting = {f"prompt/{p.astria_id}" for p in scenes} | {f"tune/{model.get().astria_id}"}
    secrets = [callback_secret("prompt", p.code) for p in scenes]
    secrets.append(callback_secret("tune", model.get().code))
    logged_before = len(sandbox.requests_log())

    connection.close()  # this process's connection dies with the server: none is kept
    cluster.stop()
    try:

        def outage_callbacks() -> list[dict[str, Any]]:
            return [r for r in sandbox.requests_log()[logged_before:] if r["kind"] == "callback"]

        wait_for(
            "Astria's four callbacks during the outage",
            lambda: {r["path"] for r in outage_callbacks()} >= waiting,
            timeout=generate + 30,
        )
        time.sleep(scale(short=0, full=30))  # a longer outage changes nothing
        answered = outage_callbacks()
    finally:
        cluster.start()

    # Each callback was answered, at once and with a 503: the sandbox gives up after 10 s.
    assert sorted(r["path"] for r in answered) == sorted(waiting)
    assert [r["status"] for r in answered] == [503] * 4
    log = stack.portal.output()
    assert log.count("answered 503: the database is unreachable") == 4
    assert "Traceback" not in log
    assert not [s for s in secrets if s in log]

    photoshoots = Photoshoot.objects.filter(pk__in=[first.pk, second.pk])
    deadline = time.monotonic() + 120
    while photoshoots.exclude(status="ready").exists() and time.monotonic() < deadline:
        overdue_poll()  # what beat does every minute
        time.sleep(1)
    statuses = list(photoshoots.values_list("status", flat=True))
    assert statuses == ["ready", "ready"], stack.worker.output[-3000:]
    for photoshoot in photoshoots:
        assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    # One tune at Astria per model and one prompt per scene: nothing was sent twice.
    titles = [t.title for t in sandbox.client().tunes_list()]
    assert sorted(titles) == sorted(m.astria_title for m in TrainedModel.objects.all())
    assert len(list(sandbox.client().prompts_list(1504944))) == 6
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.REFUND).exists()
