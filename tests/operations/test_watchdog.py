"""The watchdog (operations/watchdog.py): beat's sweep leaves a heartbeat; readiness reports it
late (without taking the process out), `/healthz/beat/` answers 503 for a monitor, and the admin
index shows the last sweep and the oldest overdue job. Readiness reads the heartbeat from a
thread of its own, so these tests commit (transactional_db)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from operations import health
from operations.models import Heartbeat
from tests import factories
from tunes.tasks import tunes_poll_overdue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_last", None)
    monkeypatch.setattr(health, "REUSE_SECONDS", 0.0)


def sweep_ran(seconds_ago: float) -> None:
    Heartbeat.objects.update_or_create(
        name="sweep", defaults={"at": timezone.now() - timedelta(seconds=seconds_ago)}
    )


def seconds_in(page: str, words: str) -> int:
    """The seconds a sentence like "last sweep 20 s ago" gives: the page is rendered a moment
    after the heartbeat is written, and on a loaded machine that moment can pass a second."""
    found = re.search(words.replace("N", r"(\d+)"), page)
    assert found, f"{words!r} is not on the page"
    return int(found.group(1))


def test_each_sweep_leaves_a_heartbeat_that_readiness_reports(client):
    assert client.get("/healthz/ready/").json()["beat"].startswith("down: no sweep has run yet")
    tunes_poll_overdue()
    assert Heartbeat.objects.get(name="sweep").at > timezone.now() - timedelta(seconds=5)
    assert client.get("/healthz/ready/").json()["beat"] == "ok"
    response = client.get("/healthz/beat/")
    assert response.status_code == 200
    assert response.content.decode().startswith("last sweep ")


def test_a_late_sweep_is_reported_but_keeps_the_process_in_service(client, settings):
    settings.POLL_SWEEP_SECONDS = 60
    sweep_ran(seconds_ago=60 * 2.5 - 5)  # within two and a half periods
    assert client.get("/healthz/beat/").status_code == 200
    sweep_ran(seconds_ago=60 * 2.5 + 5)
    ready = client.get("/healthz/ready/")
    sentence = ready.json()["beat"]
    assert sentence.startswith("down: ") and sentence.endswith(": beat, or every worker, is down")
    assert 155 <= seconds_in(sentence, "no sweep for N s") <= 160
    beat = client.get("/healthz/beat/")
    assert beat.status_code == 503
    assert beat["Content-Type"].startswith("text/plain")
    assert 155 <= seconds_in(beat.content.decode(), "no sweep for N s") <= 160


def test_the_readiness_status_ignores_beat_and_counts_the_rest(client, monkeypatch):
    def down() -> None:
        raise health.NotReady("late")

    monkeypatch.setattr(health, "CHECKS", {"database": lambda: None, "beat": down})
    assert client.get("/healthz/ready/").status_code == 200
    monkeypatch.setattr(health, "CHECKS", {"database": down, "beat": lambda: None})
    assert client.get("/healthz/ready/").status_code == 503


def test_the_admin_index_shows_the_last_sweep_and_the_oldest_overdue_job(client, settings):
    settings.POLL_AFTER_SECONDS = 120
    staff = factories.StaffFactory()
    now = timezone.now()
    factories.TrainedModelFactory(status="training", submitted_at=now, eta=now + timedelta(1))
    late = factories.TrainedModelFactory(
        status="training", submitted_at=now - timedelta(hours=1), eta=now - timedelta(minutes=30)
    )
    scene = factories.PromptFactory(status="submitted", submitted_at=now - timedelta(minutes=12))
    sweep_ran(seconds_ago=20)
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert 20 <= seconds_in(page, "last sweep N s ago") <= 25
    assert f"/admin/tunes/trainedmodel/{late.pk}/change/" in page
    assert "a model in training" in page and "due 30 min ago" in page
    # Once that model is done, the oldest is the scene Astria has not called back about.
    late.status = "ready"
    late.save()
    page = client.get("/admin/").content.decode()
    assert f"/admin/tunes/prompt/{scene.pk}/change/" in page and "due 10 min ago" in page


def test_a_creative_sees_beats_state_but_not_customers_jobs(client):
    factories.TrainedModelFactory(status="training", submitted_at=timezone.now() - timedelta(1))
    sweep_ran(seconds_ago=600)
    client.force_login(factories.CreativeFactory())
    page = client.get("/admin/").content.decode()
    assert 600 <= seconds_in(page, "Beat is late: no sweep for N s") <= 605
    assert "trainedmodel" not in page and "No job you can see is overdue" in page
