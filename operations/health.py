"""The load balancer's two questions: is the process alive, and can it serve right now.

`/healthz/` (liveness) touches nothing, so a slow database never gets healthy processes killed.
`/healthz/ready/` (readiness) asks the database, the cache, the broker and storage, each with a
short deadline, and names what is down. It also reports beat's sweep late (watchdog.py),
without counting it: web processes serve fine without beat. Its answer is read by whoever can
reach the URL, so it says only a component's name and a plain reason (an exception's type,
never its message: those hold hosts, URLs and, for a broker or database URL, passwords).
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from uploads.storage import storage

# Seconds each check may take, all of them at once: load balancers give up after about 5.
DEADLINE_SECONDS = 3.0
# The URL is public and each run opens connections to four services: a process runs the checks
# at most once in this many seconds, and requests meanwhile get that answer.
REUSE_SECONDS = 1.0
_last: tuple[float, dict[str, str]] | None = None
_last_lock = threading.Lock()


class NotReady(Exception):
    """A component answered, but not as it should: the message is shown as it is."""


def healthz(request: HttpRequest) -> HttpResponse:
    """The load balancer's liveness check (and the benchmarks' baseline): the process answers."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """200 and every component `ok`, or 503 naming what is down (beat's state is only said)."""
    results = checks_recent()
    serving = (result for name, result in results.items() if name not in REPORTED_ONLY)
    status = 200 if all(result == "ok" for result in serving) else 503
    return JsonResponse(results, status=status)


def checks_recent() -> dict[str, str]:
    """The checks' outcomes, run now or at most REUSE_SECONDS ago (one run at a time)."""
    global _last
    with _last_lock:
        if _last is None or time.monotonic() - _last[0] >= REUSE_SECONDS:
            _last = (time.monotonic(), checks_run(CHECKS, deadline=DEADLINE_SECONDS))
        return _last[1]


def checks_run(checks: dict[str, Callable[[], None]], *, deadline: float) -> dict[str, str]:
    """Run every check at once, each in a thread of its own, and wait at most `deadline`.

    Daemon threads: a check stuck on an unanswered connection is left to its own timeout
    and never holds up the answer, nor a process that is shutting down.
    """
    outcomes: dict[str, str] = {}
    threads = []
    for name, check in checks.items():
        if name in _stuck and _stuck[name].is_alive():
            # A connection that never answers keeps its thread: don't start one a second.
            outcomes[name] = "down: an earlier check has had no answer yet"
            continue
        thread = threading.Thread(target=_outcome_keep, args=(name, check, outcomes), daemon=True)
        thread.start()
        threads.append((name, thread))
    end = time.monotonic() + deadline
    for name, thread in threads:
        thread.join(timeout=max(0.0, end - time.monotonic()))
        if thread.is_alive():
            _stuck[name] = thread
    late = f"down: no answer within {deadline:g} s"
    return {name: outcomes.get(name, late) for name in checks}


# The thread of each check still waiting past its deadline (at most one a check).
_stuck: dict[str, threading.Thread] = {}


def _outcome_keep(name: str, check: Callable[[], None], outcomes: dict[str, str]) -> None:
    try:
        check()
    except NotReady as exc:
        outcomes[name] = f"down: {exc}"
    except Exception as exc:  # any failure is an answer, named by its type only
        outcomes[name] = f"down: {type(exc).__name__}"
    else:
        outcomes[name] = "ok"


def database_check() -> None:
    """A connection of its own (as a newly started process would open one), then SELECT 1."""
    config = copy.deepcopy(settings.DATABASES["default"])
    config = connections.configure_settings({"default": config})["default"]
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["OPTIONS"] = {**config["OPTIONS"], "connect_timeout": int(DEADLINE_SECONDS)}
    database = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias="ready")
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        database.close()


def cache_check() -> None:
    """A value written can be read back (a key of its own: checks run in many processes)."""
    key, value = f"healthz:ready:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=60)
    try:
        if cache.get(key) != value:
            raise NotReady("what was written did not read back")
    finally:
        cache.delete(key)


def broker_check() -> None:
    """A connection to the broker the tasks are published to (one attempt, no retries)."""
    from photoshoot.celery import app

    with app.connection_for_write(connect_timeout=DEADLINE_SECONDS) as connection:
        connection.ensure_connection(max_retries=0)


def storage_check() -> None:
    """Storage answers (for S3: the bucket exists and the credentials may read it)."""
    storage().exists("healthz/ready")


def beat_check() -> None:
    """Beat's sweep ran lately (through the default connection: this is a thread of its own,
    whose connection is closed afterwards)."""
    from django.db import connection

    from .watchdog import beat_status

    try:
        status = beat_status()
    finally:
        connection.close()
    if status.late:
        raise NotReady(status.sentence())


CHECKS: dict[str, Callable[[], None]] = {
    "database": database_check,
    "cache": cache_check,
    "broker": broker_check,
    "storage": storage_check,
    "beat": beat_check,
}
# Said in the answer, not counted in its status.
REPORTED_ONLY = frozenset({"beat"})
