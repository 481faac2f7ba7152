"""Liveness (`/healthz/`) and readiness (`/healthz/ready/`) for the load balancer.

Ready is asked of the real services: PostgreSQL, Redis as cache and broker, and S3 (moto's
server over HTTP). A service that is down is played by a closed port on this machine.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from operations import health
from operations.health import checks_run
from tests.conftest import BASE_DIR, free_port, subprocess_env
from tests.photoshoot.test_settings import PRODUCTION
from tests.services import require

pytestmark = pytest.mark.django_db

PASSWORD = "pa55-must-not-show-Zx81"
COMPONENTS = {"database", "cache", "broker", "storage"}


@pytest.fixture(autouse=True)
def fresh_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test asks the services anew (the process reuses an answer for a second)."""
    monkeypatch.setattr(health, "_last", None)
    monkeypatch.setattr(health, "REUSE_SECONDS", 0.0)


def redis_cache(url: str) -> dict[str, Any]:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


@pytest.fixture
def real_services(settings: Any, monkeypatch: pytest.MonkeyPatch, s3_storage: Any) -> None:
    """PostgreSQL, Redis as the cache and the broker, S3: production's kinds of service."""
    require("postgres", "redis")
    settings.CACHES = redis_cache(settings.CELERY_BROKER_URL)
    # Celery reads its broker's URL from this variable before its settings (and so do tasks).
    monkeypatch.setenv("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)


def test_it_is_alive_without_asking_anything(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_it_is_ready_when_every_service_answers(client, real_services):
    response = client.get("/healthz/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {name: body.pop(name) for name in COMPONENTS} == {name: "ok" for name in COMPONENTS}
    # Beat is only reported (tests/operations/test_watchdog.py): no sweep has run in this test.
    assert body == {"beat": "down: no sweep has run yet: is beat running?"}
    assert "no-cache" in response["Cache-Control"]


def database_down(settings: Any, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    require("postgres")
    db = settings.DATABASES["default"]
    settings.DATABASES = {
        "default": {**db, "HOST": "127.0.0.1", "PORT": str(port), "PASSWORD": PASSWORD}
    }


def cache_down(settings: Any, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    settings.CACHES = redis_cache(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")


def broker_down(settings: Any, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:{PASSWORD}@127.0.0.1:{port}/0")


def storage_down(settings: Any, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    s3 = settings.STORAGES["default"]["OPTIONS"]
    endpoint = {"endpoint_url": f"http://127.0.0.1:{port}", "secret_key": PASSWORD}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {**s3, **endpoint}},
    }


DOWN: dict[str, Callable[[Any, pytest.MonkeyPatch, int], None]] = {
    "database": database_down,
    "cache": cache_down,
    "broker": broker_down,
    "storage": storage_down,
}


# The database check reads DATABASES as it runs; this test's own connection is left alone.
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.parametrize("component", sorted(DOWN))
def test_it_names_what_is_down_and_nothing_secret(
    client, settings, monkeypatch, real_services, component
):
    DOWN[component](settings, monkeypatch, free_port())

    response = client.get("/healthz/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body[component].startswith("down: ")
    ok = {name for name, result in body.items() if result == "ok"}
    assert ok - {"beat"} == COMPONENTS - {component}
    text = response.content.decode()
    for secret in (PASSWORD, "127.0.0.1", "redis://", "http://"):
        assert secret not in text


def test_a_check_that_hangs_is_down_once_the_deadline_passes():
    release = threading.Event()
    try:
        results = checks_run(
            {"slow": lambda: release.wait(10), "quick": lambda: None}, deadline=0.3
        )
    finally:
        release.set()
    assert results == {"slow": "down: no answer within 0.3 s", "quick": "ok"}


def test_a_hung_check_is_not_started_again_while_its_thread_waits(monkeypatch):
    monkeypatch.setattr(health, "_stuck", {})
    release = threading.Event()
    starts: list[int] = []

    def hangs() -> None:
        starts.append(1)
        release.wait(10)

    try:
        first = checks_run({"slow": hangs}, deadline=0.2)
        second = checks_run({"slow": hangs}, deadline=0.2)
    finally:
        release.set()
    assert first == {"slow": "down: no answer within 0.2 s"}
    assert second == {"slow": "down: an earlier check has had no answer yet"}
    assert len(starts) == 1
    health._stuck["slow"].join(timeout=5)
    assert checks_run({"slow": lambda: None}, deadline=1) == {"slow": "ok"}


REDIRECTS = """
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
middleware = SecurityMiddleware(lambda request: None)
for path in ("/healthz/", "/healthz/ready/", "/"):
    request = RequestFactory().get(path, HTTP_HOST="photos.example.com")
    response = middleware.process_request(request)
    print(path, response.status_code if response else "served")
"""


def test_production_answers_both_over_plain_http_and_redirects_the_rest():
    # The load balancer checks from behind the proxy, over http.
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", REDIRECTS],
        cwd=BASE_DIR,
        env=subprocess_env(**PRODUCTION),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-4:-1] == [
        "/healthz/ served",
        "/healthz/ready/ served",
        "/ 301",
    ]


def test_a_flood_of_readiness_questions_runs_the_checks_once_a_second(client, monkeypatch):
    runs: list[int] = []
    monkeypatch.setattr(health, "REUSE_SECONDS", 60.0)
    monkeypatch.setattr(health, "CHECKS", {"database": lambda: runs.append(1)})

    answers = [client.get("/healthz/ready/") for _ in range(20)]

    assert [a.json() for a in answers] == [{"database": "ok"}] * 20
    assert len(runs) == 1
