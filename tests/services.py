"""Which real services this test run has, and what happens when a test needs a missing one.

Without REQUIRE_SERVICES=1 a test that needs PostgreSQL, Redis or Chromium is skipped (the
quick local loop on SQLite); with it (CI) the test fails, so a green CI run means they ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}, and REQUIRE_SERVICES=1 forbids skipping.", pytrace=False)
    pytest.skip(reason)


def postgres_missing() -> str | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"needs PostgreSQL, DATABASE_URL gives {connection.vendor}"
    return None


def redis_missing() -> str | None:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return f"needs Redis, CELERY_BROKER_URL is {url!r}"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"needs Redis, {url} does not answer: {exc}"
    return None


def chromium_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


CHECKS = {"postgres": postgres_missing, "redis": redis_missing, "chromium": chromium_missing}


def require(*names: str) -> None:
    """Skip (or, under REQUIRE_SERVICES=1, fail) unless every named service is here."""
    for name in names:
        reason = CHECKS[name]()
        if reason:
            service_missing(reason)
