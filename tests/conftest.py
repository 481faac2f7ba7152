"""The test harness: users, an S3-compatible server, a real Celery worker and a browser.

Unit tests run Celery tasks eagerly (DJANGO_ENV=test); the `celery_worker` fixture starts a
real worker process against Redis and PostgreSQL for integration tests. Services a test needs
are declared with markers (`@pytest.mark.postgres`, `redis`) or by the fixtures that use them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from accounts.models import User
from tests import factories
from tests.services import CHROMIUM, require

BASE_DIR = Path(__file__).resolve().parent.parent


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tests.services import CHECKS, REQUIRE_SERVICES

    lines = [f"REQUIRE_SERVICES={int(REQUIRE_SERVICES)}"]
    for name, missing in CHECKS.items():
        reason = missing() if name != "postgres" else None
        lines.append(f"{name}: {reason or 'available'}")
    lines.append(f"database: {settings.DATABASES['default']['ENGINE']}")
    return lines


def pytest_runtest_setup(item: pytest.Item) -> None:
    services = [name for name in ("postgres", "redis") if item.get_closest_marker(name)]
    if services:
        require(*services)


def wait_until(predicate: Callable[[], Any], *, timeout: float = 20, interval: float = 0.1) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"gave up waiting after {timeout}s for {predicate.__name__}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Users ------------------------------------------------------------------------------------


@pytest.fixture
def owner(db: None) -> User:
    return factories.UserFactory(email="owner@example.com")


@pytest.fixture
def other_user(db: None) -> User:
    return factories.UserFactory(email="other@example.com")


@pytest.fixture
def staff(db: None) -> User:
    return factories.StaffFactory(email="staff@example.com")


@pytest.fixture
def creative(db: None) -> User:
    return factories.CreativeFactory(email="creative@example.com")


# --- Environments for subprocesses ------------------------------------------------------------


def subprocess_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process of the project: no `.env`, nothing the test process
    set for itself (DJANGO_ENV, the browser fixture's DJANGO_ALLOW_ASYNC_UNSAFE)."""
    own = {"DJANGO_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in own}
    env.update(ENV_FILE=str(BASE_DIR / "var" / "no-such.env"), PYTHONUNBUFFERED="1")
    env.update(overrides)
    return env


def database_url() -> str:
    """The URL of the database this test is using (pytest-django's test database)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- S3-compatible storage --------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 in server mode on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: str) -> dict[str, str]:
    """A fresh, private bucket on the S3 server, and the credentials to reach it."""
    import boto3

    config = {
        "endpoint_url": s3_server,
        "bucket_name": f"photoshoot-{uuid.uuid4().hex[:12]}",
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "us-east-1",
    }
    boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=config["bucket_name"])
    return config


@pytest.fixture
def s3_storage(settings: Any, s3_bucket: dict[str, str]) -> dict[str, str]:
    """Make the default storage the production S3 storage, pointed at the test bucket."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**settings.S3_STORAGE_OPTIONS, **s3_bucket, "addressing_style": "path"},
        },
    }
    return s3_bucket


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Local-storage files of each test go to its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def clear_cache() -> Iterator[None]:
    """Rate-limit counters and other cached state never leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield


# --- A real Celery worker ---------------------------------------------------------------------


class WorkerProcess:
    """A `celery worker` child process and everything it printed."""

    def __init__(self, process: subprocess.Popen[str], *, own_session: bool = False) -> None:
        self.process = process
        self.own_session = own_session
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (started with `own_session=True`)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            # Warm shutdown: finish the current task (the whole group, when it has its own).
            if self.own_session:
                os.killpg(self.process.pid, signal.SIGTERM)
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                if self.own_session:
                    os.killpg(self.process.pid, signal.SIGKILL)
                else:
                    self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; override it where a test needs settings."""
    return {}


def worker_start(
    env: dict[str, str], *, own_session: bool = False, queues: str = "celery"
) -> WorkerProcess:
    """Start a worker process of the project with `env` (see `celery_worker`) and wait until it
    is ready. `own_session`: in a process group of its own, so that a test can kill the main
    process and its pool children at once (`WorkerProcess.kill`). `queues`: those it takes
    tasks from (comma-separated)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "photoshoot",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--queues",
            queues,
        ],
        cwd=BASE_DIR,
        env=subprocess_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=own_session,
    )
    worker = WorkerProcess(process, own_session=own_session)
    if not worker.ready.wait(timeout=60):
        worker.stop()
        pytest.fail(f"the Celery worker did not start:\n{worker.output}")
    return worker


def worker_base_env(tmp_path: Path) -> dict[str, str]:
    """What every test worker needs: the test's database, broker, files and mail folder."""
    return {
        "DJANGO_ENV": "test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # django-environ drops the first slash of the path: "filemail:///" + "/tmp/…".
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the test's own files, as the web side sees
        "WORKER_ALIVE_FILE": str(tmp_path / "worker-alive"),
    }


@pytest.fixture
def celery_worker(
    transactional_db: None, tmp_path: Path, worker_env: dict[str, str]
) -> Iterator[WorkerProcess]:
    """A real worker process on Redis and the test's PostgreSQL database.

    The test process stops running tasks eagerly, so `.delay()` goes through the broker.
    Mail the worker sends lands as files in `tmp_path / "mail"`.
    """
    require("postgres", "redis")
    from photoshoot.celery import app

    app.control.purge()  # nothing left over from an earlier run reaches this worker
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    worker = None
    try:
        worker = worker_start({**worker_base_env(tmp_path), **worker_env})
        yield worker
    finally:
        app.conf.task_always_eager = eager
        if worker is not None:
            worker.stop()


# --- A browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (its own browser download is not used)."""
    require("chromium")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the
    # test between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


# Injected by Playwright (not by a page), so the policy it watches does not block it.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


def csp_watch(context: Any, violations: list[str]) -> None:
    """Collect into `violations` every Content-Security-Policy violation in `context`'s tabs:
    the page's own `securitypolicyviolation` events and Chromium's console reports of them."""
    context.expose_binding("__cspViolation", lambda source, text: violations.append(text))
    context.add_init_script(CSP_LISTENER)

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    context.on("console", console)


def csp_check(violations: list[str]) -> None:
    """Fail the test if the browser reported any Content-Security-Policy violation."""
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations), pytrace=False)


@pytest.fixture
def csp_violations() -> list[str]:
    """What the `page` fixture's tab reported (a test that provokes one on purpose empties it)."""
    return []


@pytest.fixture
def page(browser: Any, live_server: Any, csp_violations: list[str]) -> Iterator[Any]:
    """A fresh browser tab (own cookies) whose relative URLs go to the live server. The test
    fails at teardown if the tab reported any Content-Security-Policy violation."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    csp_watch(context, csp_violations)
    tab = context.new_page()
    yield tab
    for open_tab in context.pages:
        # Events still on their way: a short wait, then a round trip delivers them.
        open_tab.wait_for_timeout(200)
        open_tab.evaluate("0")
    context.close()
    csp_check(csp_violations)
