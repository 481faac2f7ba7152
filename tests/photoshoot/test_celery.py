from __future__ import annotations

from photoshoot.celery import app


def test_it_is_configured_for_tasks_that_may_run_twice_but_never_get_lost():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == 300
    assert conf.task_soft_time_limit == 240


def test_beat_clears_expired_sessions_nightly():
    entry = app.conf.beat_schedule["sessions-clear"]
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks
    assert entry["task"] == "accounts.tasks.sessions_clear"
    assert entry["task"] in app.tasks
