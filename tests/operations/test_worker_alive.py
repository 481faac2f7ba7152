"""A worker's liveness probe (operations/worker_alive.py, `manage.py worker_alive`), on a real
worker process: fresh while it runs, stale once it is killed, gone once it stops."""

from __future__ import annotations

import time

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import wait_until, worker_base_env, worker_start
from tests.services import require

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def probe() -> str:
    try:
        call_command("worker_alive", stdout=(out := _Out()))
    except CommandError as exc:
        return f"dead: {exc}"
    return out.text


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text


def test_the_probe_follows_a_real_worker(tmp_path, settings):
    require("postgres", "redis")
    env = {**worker_base_env(tmp_path), "WORKER_ALIVE_SECONDS": "1"}
    settings.WORKER_ALIVE_FILE = env["WORKER_ALIVE_FILE"]
    settings.WORKER_ALIVE_SECONDS = 1
    assert probe().startswith("dead: no worker")

    worker = worker_start(env, own_session=True)
    try:
        assert probe().startswith("alive")
        time.sleep(4)  # past three missed touches, had it stopped touching
        assert probe().startswith("alive")
        worker.kill()  # SIGKILL: the file stays, and grows stale
        wait_until(lambda: probe().startswith("dead: the worker last said"), timeout=10)
    finally:
        worker.stop()

    worker = worker_start(env, own_session=True)
    worker.stop()  # a warm shutdown removes the file
    assert probe().startswith("dead: no worker")
