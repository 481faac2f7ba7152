"""The production stack on this machine, for benchmarks: PostgreSQL (a database of its own),
a Redis server of its own, moto's S3 server, gunicorn with several workers, a Celery worker,
and the sandbox as Astria. Everything binds 127.0.0.1 and stops when the stack closes."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "photoshoot_bench"  # made for the run and dropped after it
# The PostgreSQL server to make it on (its maintenance database).
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WEB_WORKERS = 3  # as the Procfile's defaults
WEB_THREADS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_certificate(certificate: Path, private_key: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def wait_for(what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


class Stack:
    """Start with `with Stack() as stack:`; `stack.env` is the production environment every
    process of the portal gets (the benchmark process sets it for itself too)."""

    def __init__(self, database: str = DATABASE) -> None:
        self.database = database  # another run (make lighthouse) can take one of its own
        self.processes: list[subprocess.Popen[bytes]] = []
        self.folder = Path(tempfile.mkdtemp(prefix="photoshoot-bench-"))
        self.web_port = free_port()
        self.callback_port = free_port()
        self.redis_port = free_port()
        self.s3_port = free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        # Production refuses a PUBLIC_BASE_URL that is not https (Astria calls back there): the
        # sandbox's callbacks reach the portal over TLS on a port of their own, with a
        # certificate made for the run, while the load runs on plain HTTP as behind a proxy.
        self.public_url = f"https://127.0.0.1:{self.callback_port}"
        self.certificate = self.folder / "loopback.pem"
        self.private_key = self.folder / "loopback-key.pem"
        self.sandbox_key = "sd_bench_" + secrets.token_hex(8)
        self.env = {
            "DJANGO_ENV": "production",
            "ENV_FILE": str(self.folder / "no.env"),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": SERVER.rsplit("/", 1)[0] + f"/{database}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_BASE_URL": self.public_url,
            "CSRF_TRUSTED_ORIGINS": f"{self.url},{self.public_url}",
            # The portal calls the sandbox where the load runs, as it did before the callbacks
            # moved to TLS; every process trusts the run's own certificate.
            "ASTRIA_BASE_URL": f"{self.url}/sandbox/astria",
            "REQUESTS_CA_BUNDLE": str(self.certificate),
            "ADMIN_URL": "bench-admin/",
            # Loopback has no TLS proxy: the sandbox and the portal call each other over plain
            # HTTP, so the redirect to https and the copier's https-only rule are off (results
            # come from the sandbox's own origin). Everything else is production's.
            "SECURE_SSL_REDIRECT": "false",
            "ASTRIA_IMAGE_HTTPS_ONLY": "false",
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": "photoshoot-bench",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "AWS_S3_ADDRESSING_STYLE": "path",
            "ASTRIA_SANDBOX": "1",
            "ASTRIA_SANDBOX_KEY": self.sandbox_key,
            "ASTRIA_RETRY_SECONDS": "1",
            "POLL_AFTER_SECONDS": "5",
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": str(self.folder / "static"),
            "PYTHONUNBUFFERED": "1",
        }

    # --- Processes ----------------------------------------------------------------------------

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.log", "ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
                args,
                cwd=BASE_DIR,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self._spawn(
            [
                "redis-server",
                "--bind", "127.0.0.1",
                "--port", str(self.redis_port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.folder),
            ],
            "redis",
        )  # fmt: skip
        moto = str(Path(sys.executable).parent / "moto_server")
        self._spawn([moto, "-H", "127.0.0.1", "-p", str(self.s3_port)], "s3")
        self._database_create()
        wait_for("Redis", lambda: socket.create_connection(("127.0.0.1", self.redis_port)))
        wait_for("S3", lambda: requests.get(self.env["AWS_S3_ENDPOINT_URL"], timeout=2).ok)
        self._bucket_create()
        self._manage("migrate", "--noinput")
        self._manage("collectstatic", "--noinput")
        self._spawn(
            [
                sys.executable, "-m", "gunicorn", "photoshoot.wsgi",
                "--bind", f"127.0.0.1:{self.web_port}",
                "--workers", str(WEB_WORKERS),
                "--threads", str(WEB_THREADS),
                "--access-logfile", "-",
                "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            ],
            "web",
        )  # fmt: skip
        loopback_certificate(self.certificate, self.private_key)
        self._spawn(
            [
                sys.executable, "-m", "gunicorn", "photoshoot.wsgi",
                "--bind", f"127.0.0.1:{self.callback_port}",
                "--workers", "1",
                "--threads", str(WEB_THREADS),
                "--certfile", str(self.certificate),
                "--keyfile", str(self.private_key),
            ],
            "callbacks",
        )  # fmt: skip
        self.worker = self._worker_start()
        wait_for(
            "gunicorn",
            lambda: (
                requests.get(
                    f"{self.url}/healthz/", headers={"X-Forwarded-Proto": "https"}, timeout=2
                ).ok
            ),
        )
        wait_for(
            "gunicorn over TLS",
            lambda: (
                requests.get(
                    f"{self.public_url}/healthz/", verify=str(self.certificate), timeout=2
                ).ok
            ),
        )

    def _worker_start(self) -> subprocess.Popen[bytes]:
        return self._spawn(
            [
                sys.executable, "-m", "celery", "-A", "photoshoot", "worker",
                "--loglevel", "WARNING", "--concurrency", "2",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            "worker",
        )  # fmt: skip

    def worker_stop(self) -> None:
        """Stop the worker (warm shutdown), e.g. while the web side alone is measured."""
        self._stop(self.worker)

    def worker_restart(self) -> None:
        self.worker = self._worker_start()

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def close(self) -> None:
        for process in reversed(self.processes):
            # One that is gone already must not keep the others running.
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self._stop(process)
        self.processes.clear()
        try:
            self._database_drop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    # --- Data stores --------------------------------------------------------------------------

    def _database_create(self) -> None:
        import psycopg

        self._database_drop()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def _database_drop(self) -> None:
        import psycopg

        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def _bucket_create(self) -> None:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=self.env["AWS_S3_ENDPOINT_URL"],
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - moto's test credentials
            region_name="us-east-1",
        ).create_bucket(Bucket=self.env["AWS_STORAGE_BUCKET_NAME"])

    def _manage(self, *args: str) -> None:
        done = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env={**os.environ, **self.env},
            capture_output=True,
        )
        if done.returncode:
            # Its own words, or a failed migration reads as a bare exit status.
            tail = done.stderr.decode(errors="replace")[-3000:]
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{tail}")

    def sandbox(self, **config: Any) -> None:
        """Set the sandbox's timers and faults (the same PUT the tests use)."""
        response = requests.put(
            f"{self.url}/sandbox/astria/_sandbox/config",
            json=config,
            headers={
                "Authorization": f"Bearer {self.sandbox_key}",
                "X-Forwarded-Proto": "https",
            },
            timeout=10,
        )
        response.raise_for_status()
