"""The fault suite: the real stack (a Celery worker, Redis, PostgreSQL, the sandbox over HTTP)
made to fail. `make test` runs each test in a short version; `make faults` (FAULTS_FULL=1)
runs the full one. Every loop is bounded in count and time."""

from __future__ import annotations

import os

import pytest

from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import pack, portal  # noqa: F401 - fixtures

FULL = os.environ.get("FAULTS_FULL") == "1"


def scale(short: int, full: int) -> int:
    """How many of a thing this run makes: `short` in `make test`, `full` in `make faults`."""
    return full if FULL else short


@pytest.fixture
def worker_env(portal, live_server):  # noqa: F811
    return {
        "PUBLIC_BASE_URL": live_server.url,
        "ASTRIA_BASE_URL": portal.url,
        "ASTRIA_API_KEY": "sd_sandbox",
        "ASTRIA_RETRY_SECONDS": "1",
        "POLL_AFTER_SECONDS": "1",
    }
