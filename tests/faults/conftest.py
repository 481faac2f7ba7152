"""The fault suite: the real stack (a Celery worker, Redis, PostgreSQL, the sandbox over HTTP)
made to fail. `make test` runs each test in a short version; `make faults` (FAULTS_FULL=1)
runs the full one. Every loop is bounded in count and time."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.conftest import free_port, wait_until
from tests.tunes.conftest import pack, portal, worker_env  # noqa: F401 - fixtures

FULL = os.environ.get("FAULTS_FULL") == "1"


def scale(short: int, full: int) -> int:
    """How many of a thing this run makes: `short` in `make test`, `full` in `make faults`."""
    return full if FULL else short


class RedisServer:
    """A Redis server of the test's own on a free port, keeping its data in an append-only
    file, so that it can be stopped and started again (by its pid) like a real outage."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until(self._answers, timeout=20)
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=1).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # Redis saves its append-only file and exits
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def own_redis(tmp_path: Path, settings: Any, monkeypatch: Any) -> Iterator[RedisServer]:
    """Our own Redis as the broker of this test's process and of the workers it starts."""
    from photoshoot.celery import app

    server = RedisServer(tmp_path)
    server.start()
    previous = app.conf.broker_url
    settings.CELERY_BROKER_URL = server.url

    def use(url: str) -> None:
        # Celery reads CELERY_BROKER_URL from the environment before its own settings; and
        # the app keeps a pool of connections to its broker: forget it to reach the new one.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    use(server.url)
    try:
        yield server
    finally:
        use(previous)
        server.stop()


# --- A PostgreSQL cluster of the test's own, to stop and start again ---------------------------

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster:
    """A PostgreSQL server of the test's own (never the machine's shared one), run as the
    `postgres` user from a data folder in a temporary directory that user owns, on a free port
    of 127.0.0.1. `pg_ctl` stops and starts exactly this cluster (by its own postmaster.pid)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="photoshoot-pg-"))
        shutil.chown(self.folder, user="postgres")
        self.data = self.folder / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(POSTGRES_BIN / program), *args],
            check=True,
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "-E", "UTF8", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off"
        )
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"),
                          "-w", "-t", "30", "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        """Stop it as an outage would: every connection is cut, new ones are refused."""
        if (self.data / "postmaster.pid").exists():
            self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30",
                              "stop")  # fmt: skip

    @contextlib.contextmanager
    def as_default(self) -> Iterator[None]:
        """This process's ORM on the cluster meanwhile (the test's own database after)."""
        from django.db import connection

        saved = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict.update(
            NAME="postgres", USER="postgres", PASSWORD="", HOST="127.0.0.1", PORT=str(self.port)
        )
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


@pytest.fixture
def own_postgres(transactional_db: None) -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of the test's own, migrated, stopped and removed after the test."""
    from tests.conftest import BASE_DIR, subprocess_env

    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=BASE_DIR,
            env=subprocess_env(DJANGO_ENV="test", DATABASE_URL=cluster.url),
            check=True,
            timeout=180,
            capture_output=True,
        )
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)
