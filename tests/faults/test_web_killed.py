"""The web server SIGKILLed (its whole process group, by pid) while it finishes uploads: every
finish the page sends again succeeds with its photo, and once the sweep has run, storage holds
exactly the objects the rows name (issue 13, part 2).

The portal is served by gunicorn (several processes and threads, as in production) on the
test's PostgreSQL database, with storage on the S3 server (moto, over HTTP); the browser's part
is played over HTTP by this test: start each upload, POST its bytes to the bucket, finish it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests
from django.test import Client

from operations.orphans import storage_orphans_sweep
from tests.conftest import BASE_DIR, database_url, free_port, subprocess_env
from tests.faults.conftest import scale
from tests.images import photo_bytes
from uploads.models import Selfie, SelfieSet

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

PARALLEL = 3  # finishes at once, as the page sends them (static/js/uploads.js)


class WebServer:
    """gunicorn serving the portal on a free loopback port, in a process group of its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "photoshoot.wsgi",
                "--bind", f"127.0.0.1:{port}",
                "--workers", "2",
                "--threads", "4",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz/", timeout=2).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.kill()
        pytest.fail("gunicorn did not answer within 60 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def web_env(bucket: dict[str, str]) -> dict[str, str]:
    return subprocess_env(
        DJANGO_ENV="test",
        DATABASE_URL=database_url(),
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME=bucket["bucket_name"],
        AWS_ACCESS_KEY_ID=bucket["access_key"],
        AWS_SECRET_ACCESS_KEY=bucket["secret_key"],
        AWS_S3_REGION_NAME=bucket["region_name"],
        AWS_S3_ENDPOINT_URL=bucket["endpoint_url"],
        AWS_S3_ADDRESSING_STYLE="path",
        # One user sends every upload here: the per-user limits are not what is tested.
        UPLOAD_START_RATE="1000/m",
        UPLOAD_FINISH_RATE="1000/m",
        UPLOAD_FINISH_CONCURRENCY="100",
    )


class Browser:
    """The signed-in user's page: a session made by Django's test client, sent over HTTP."""

    def __init__(self, user: Any, selfie_set: SelfieSet) -> None:
        client = Client()
        client.force_login(user)
        self.cookies = {"sessionid": client.cookies["sessionid"].value}
        self.selfie_set = selfie_set
        self.server: WebServer | None = None

    def _post(self, path: str, **kwargs: Any) -> requests.Response:
        assert self.server is not None
        if "csrftoken" not in self.cookies:
            page = requests.get(
                f"{self.server.url}/sets/{self.selfie_set.code}/", cookies=self.cookies, timeout=30
            )
            assert page.status_code == 200, page.status_code
            self.cookies["csrftoken"] = page.cookies["csrftoken"]
        headers = {"X-CSRFToken": self.cookies["csrftoken"]}
        return requests.post(
            f"{self.server.url}{path}", cookies=self.cookies, headers=headers, timeout=60, **kwargs
        )

    def upload_start(self, name: str, content: bytes) -> dict[str, Any]:
        info = {"filename": name, "content_type": "image/jpeg", "size": len(content)}
        response = self._post(f"/sets/{self.selfie_set.code}/uploads/", json=info)
        assert response.status_code == 201, response.content
        target = response.json()
        sent = requests.post(
            target["url"],
            data=target["fields"],
            files={"file": (name, content, "image/jpeg")},
            timeout=60,
        )
        assert sent.status_code == 204, sent.content
        return target

    def finish(self, url: str) -> dict[str, Any] | None:
        """The finish's answer as the page reads it; None when it was lost with the server."""
        try:
            response = self._post(url)
        except requests.ConnectionError:
            return None
        assert response.status_code == 200, (response.status_code, response.content)
        return response.json()["photo"]


def bucket_keys(bucket: dict[str, str]) -> set[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=bucket["endpoint_url"],
        aws_access_key_id=bucket["access_key"],
        aws_secret_access_key=bucket["secret_key"],
        region_name=bucket["region_name"],
    )
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["bucket_name"])
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def named_keys() -> set[str]:
    """Every key a row names that should be in storage: a pending upload's original, and a
    finished one's copy and thumbnail."""
    pending = Selfie.objects.filter(status=Selfie.Status.PENDING)
    ready = Selfie.objects.filter(status=Selfie.Status.READY)
    return {
        *pending.values_list("upload_key", flat=True),
        *ready.values_list("image", flat=True),
        *ready.values_list("thumbnail", flat=True),
    }


def stray(bucket: dict[str, str]) -> set[str]:
    """Objects no row names: what a finish killed between its writes and its update leaves."""
    return bucket_keys(bucket) - named_keys()


def ready_count() -> int:
    return Selfie.objects.filter(status=Selfie.Status.READY).count()


def test_every_finish_succeeds_and_storage_matches_the_rows_after_the_web_server_is_killed(
    transactional_db, owner, s3_storage, settings
):
    uploads, kills = scale(short=10, full=30), scale(short=1, full=3)
    selfie_set = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    browser = Browser(owner, selfie_set)
    server = WebServer(web_env(s3_storage))
    answers: dict[str, dict[str, Any]] = {}  # finish URL → the first photo answered
    ready_at_kills, stray_at_kills = [], []
    try:
        server.start()
        browser.server = server
        targets = [
            browser.upload_start(f"{n}.jpg", photo_bytes((1600, 2000), seed=n))
            for n in range(uploads)
        ]
        for _ in range(kills):
            before = ready_count()
            unanswered = [t["finish_url"] for t in targets if t["finish_url"] not in answers]
            with ThreadPoolExecutor(PARALLEL) as pool:
                futures = {url: pool.submit(browser.finish, url) for url in unanswered}
                # Kill once some but not all have finished, at the moment a finish has stored
                # its copy and not yet recorded it (or, failing that, before the last two).
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    done = ready_count() - before
                    if done >= 1 and (stray(s3_storage) or done >= len(unanswered) - 2):
                        break
                    time.sleep(0.005)
                server.kill()
                stray_at_kills.append(len(stray(s3_storage)))
                ready_at_kills.append(ready_count())
                for url, future in futures.items():
                    if (photo := future.result(timeout=90)) is not None:
                        answers[url] = photo
            server.start()
        # The page sends every finish again (those answered too: nothing must change).
        again = {t["finish_url"]: browser.finish(t["finish_url"]) for t in targets}
        leftovers = stray(s3_storage)
        settings.STORAGE_ORPHAN_GRACE_SECONDS = 0  # nothing is under way any more
        swept = storage_orphans_sweep()
    finally:
        server.stop()

    # Each kill landed with some finishes done and some not (and each round got further).
    assert ready_at_kills[0] > 0 and ready_at_kills[-1] < uploads, ready_at_kills
    assert ready_at_kills == sorted(set(ready_at_kills)), ready_at_kills
    assert len(answers) < uploads  # some answers were lost with the server
    assert all(photo is not None for photo in again.values())
    for url, photo in answers.items():
        first, second = dict(photo), dict(again[url] or {})
        first.pop("thumbnail_url"), second.pop("thumbnail_url")
        assert second == first
    assert ready_count() == uploads
    ready = Selfie.objects.filter(status=Selfie.Status.READY)
    assert {again[t["finish_url"]]["code"] for t in targets} == {
        str(code) for code in ready.values_list("code", flat=True)
    }
    # Storage holds exactly what the rows name: a copy and a thumbnail of each photo.
    assert bucket_keys(s3_storage) == named_keys()
    assert len(named_keys()) == 2 * uploads
    # The kills left objects no row named (a copy stored and not yet recorded: the kill waits
    # for that moment), and those are what the sweep removed.
    assert leftovers, (ready_at_kills, stray_at_kills)
    assert swept.deleted == len(leftovers), (swept, stray_at_kills)
