"""Expensive endpoints cannot be flooded (issue 11, hole 5; and hole 4's finishes at once).

A large gallery's zip is built once at a time, however many requests ask for it; each user has
limits on zips, upload starts and finishes, photoshoot starts and new selfie sets (429 with a
sentence that says what to do, then in again once the window has passed); and one user runs
only so many upload checks at once. Limits are per user: another user is never affected.

No test waits for a window or a lapse to pass: each is an hour or more, and its end is brought
about at once (`limits.rate_reset`, or Redis expiring a key), so no test depends on how fast the
machine runs it.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import requests
from celery.signals import after_task_publish
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from tests import factories
from tests.conftest import wait_until
from tests.images import photo_bytes
from tests.uploads.conftest import upload, upload_start
from tunes.models import Photoshoot, Prompt
from uploads.models import Selfie, SelfieSet

WINDOW = 3600  # seconds: every limit below is "2 in an hour", far longer than any test runs
RATE = "2/h"


def ready_photoshoot(owner: Any, photos: int) -> Photoshoot:
    """A finished photoshoot with `photos` stored photos (no Astria needed to zip them)."""
    photoshoot = factories.PhotoshootFactory(owner=owner, status=Photoshoot.Status.READY)
    prompt = factories.PromptFactory(photoshoot=photoshoot, status=Prompt.Status.DONE)
    for index in range(photos):
        photo = factories.PhotoFactory(prompt=prompt, index=index)
        storages["default"].save(photo.image, ContentFile(photo_bytes((64, 64), seed=index)))
    return photoshoot


@pytest.fixture
def published() -> Iterator[list[str]]:
    """Names of the tasks this process publishes to the broker (not run eagerly) meanwhile."""
    from photoshoot.celery import app

    names: list[str] = []

    def record(sender: str | None = None, **kwargs: Any) -> None:
        names.append(str(sender))

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    after_task_publish.connect(record, weak=False)
    try:
        yield names
    finally:
        after_task_publish.disconnect(record)
        app.conf.task_always_eager = eager
        if app.conf.broker_url.startswith("redis"):
            app.control.purge()  # no worker here: leave nothing for the next test's worker


def session_cookie(client: Any, user: Any) -> dict[str, str]:
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


# --- One build per photoshoot at a time --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_zip_requests_for_a_large_gallery_queue_one_build(
    client, owner, live_server, settings, published
):
    settings.ZIP_INLINE_MAX_PHOTOS = 2
    settings.ZIP_RATE = "1000/m"  # the per-user limit is not what this test is about
    photoshoot = ready_photoshoot(owner, photos=3)
    cookies = session_cookie(client, owner)
    url = f"{live_server.url}/photoshoots/{photoshoot.code}/photos.zip"
    barrier = threading.Barrier(30)

    def ask(_: int) -> int:
        barrier.wait(timeout=10)
        return requests.get(url, cookies=cookies, timeout=30, allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(ask, range(30)))

    assert statuses == [202] * 30  # every one is told the zip is on its way
    assert published.count("tunes.tasks.zip_build") == 1
    photoshoot.refresh_from_db()
    assert photoshoot.zip_claimed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_build_that_ends_lets_go_and_a_lapsed_claim_is_taken_again(
    client, owner, settings, published
):
    settings.ZIP_INLINE_MAX_PHOTOS = 2
    settings.ZIP_RATE = "1000/m"
    photoshoot = ready_photoshoot(owner, photos=3)
    client.force_login(owner)
    assert client.get(f"/photoshoots/{photoshoot.code}/photos.zip").status_code == 202
    assert client.get(f"/photoshoots/{photoshoot.code}/photos.zip").status_code == 202
    assert published.count("tunes.tasks.zip_build") == 1

    # The worker that took it was killed: once the claim is older than any task may run, the
    # page that is still waiting queues the build again.
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    Photoshoot.objects.filter(pk=photoshoot.pk).update(zip_claimed_at=long_ago)
    assert client.get(f"/photoshoots/{photoshoot.code}/photos.zip").status_code == 202
    assert published.count("tunes.tasks.zip_build") == 2

    # The build itself (run here, in this process) ends the claim and leaves a file.
    from tunes.tasks import zip_build

    zip_build.apply(args=[photoshoot.pk])
    photoshoot.refresh_from_db()
    assert photoshoot.zip_file and photoshoot.zip_claimed_at is None
    assert client.get(f"/photoshoots/{photoshoot.code}/photos.zip").status_code == 200
    assert published.count("tunes.tasks.zip_build") == 2


@pytest.mark.django_db
def test_a_build_that_fails_lets_go_of_its_claim(owner):
    from tunes import zips

    photoshoot = ready_photoshoot(owner, photos=1)
    storages["default"].delete(photoshoot.photos.get().image)  # its photo went missing
    Photoshoot.objects.filter(pk=photoshoot.pk).update(zip_claimed_at=timezone.now())
    with pytest.raises(FileNotFoundError):
        zips.zip_build(photoshoot_id=photoshoot.pk)
    photoshoot.refresh_from_db()
    assert (
        photoshoot.zip_claimed_at is None and not photoshoot.zip_file
    )  # the next request may try again


# --- Per-user rates ----------------------------------------------------------------------------


def sentence(response: Any) -> str:
    """The one plain sentence a 429 answers with, as JSON or on the page."""
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)["error"]
    text = response.content.decode()
    found = re.search(r'<p class="too-many"[^>]*>(.*?)</p>', text, re.S)
    assert found, text
    return found.group(1).strip()


def refused(response: Any, expected: str) -> None:
    assert response.status_code == 429
    assert sentence(response) == expected
    assert int(response["Retry-After"]) == WINDOW


WAIT = "in the last hour; wait an hour and try again."


def window_end(user: Any, action: str) -> None:
    """The hour has passed for `user`'s `action`: its count is forgotten, as its expiry would."""
    from accounts import limits

    limits.rate_reset(user=user, action=action)


@pytest.mark.django_db
def test_zips_are_limited_per_user(client, owner, other_user, settings):
    settings.ZIP_RATE = RATE
    mine, theirs = ready_photoshoot(owner, photos=1), ready_photoshoot(other_user, photos=1)
    client.force_login(owner)
    for _ in range(2):
        assert client.get(f"/photoshoots/{mine.code}/photos.zip").status_code == 200
    refused(
        client.get(f"/photoshoots/{mine.code}/photos.zip"), f"You have asked for many zips {WAIT}"
    )

    client.force_login(other_user)
    assert client.get(f"/photoshoots/{theirs.code}/photos.zip").status_code == 200

    window_end(owner, "zip")
    client.force_login(owner)
    assert client.get(f"/photoshoots/{mine.code}/photos.zip").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_waiting_for_a_zip_does_not_count_against_the_limit(client, owner, settings, published):
    settings.ZIP_INLINE_MAX_PHOTOS = 2
    settings.ZIP_RATE = RATE
    photoshoot = ready_photoshoot(owner, photos=3)
    client.force_login(owner)
    # The waiting page refreshes itself every few seconds while the worker builds.
    for _ in range(5):
        assert client.get(f"/photoshoots/{photoshoot.code}/photos.zip").status_code == 202
    assert published.count("tunes.tasks.zip_build") == 1


@pytest.mark.django_db
def test_upload_starts_are_limited_per_user(client, owner, other_user, settings):
    settings.UPLOAD_START_RATE = RATE
    mine = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    theirs = SelfieSet.objects.create(owner=other_user, name="Me", subject_class="man")
    content = photo_bytes()
    client.force_login(owner)
    for n in range(2):
        assert upload_start(client, mine, f"{n}.jpg", content, "image/jpeg").status_code == 201
    refused(
        upload_start(client, mine, "2.jpg", content, "image/jpeg"),
        f"You have started many uploads {WAIT}",
    )
    assert mine.selfies.count() == 2  # the refused one left no row

    client.force_login(other_user)
    assert upload_start(client, theirs, "0.jpg", content, "image/jpeg").status_code == 201

    window_end(owner, "upload_start")
    client.force_login(owner)
    assert upload_start(client, mine, "2.jpg", content, "image/jpeg").status_code == 201


@pytest.mark.django_db
def test_upload_finishes_are_limited_per_user(client, owner, other_user, settings):
    settings.UPLOAD_FINISH_RATE = RATE
    mine = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    theirs = SelfieSet.objects.create(owner=other_user, name="Me", subject_class="man")
    client.force_login(owner)
    for n in range(2):
        assert upload(client, mine, f"{n}.jpg", photo_bytes(seed=n)).finish.status_code == 200
    third = upload(client, mine, "2.jpg", photo_bytes(seed=2))
    refused(third.finish, f"You have sent many photos to be checked {WAIT}")
    pending = mine.selfies.get(status=Selfie.Status.PENDING)  # kept, to be finished later

    client.force_login(other_user)
    assert upload(client, theirs, "0.jpg", photo_bytes(seed=5)).finish.status_code == 200

    window_end(owner, "upload_finish")
    client.force_login(owner)
    again = client.post(f"/sets/{mine.code}/uploads/{pending.code}/finish/")
    assert again.status_code == 200
    assert mine.selfies.filter(status=Selfie.Status.READY).count() == 3


BUSY = "1 of your photos is being checked already; this one will be checked once it is done."


@pytest.mark.django_db
def test_a_finish_refused_as_busy_does_not_use_up_the_rate(client, owner, settings, monkeypatch):
    """A busy finish keeps its upload and the page asks again after Retry-After: only a finish
    that gets to check its photo counts against UPLOAD_FINISH_RATE."""
    from accounts import limits
    from uploads import images

    monkeypatch.setattr(images, "WAIT_SECONDS", 0.2)
    settings.UPLOAD_FINISH_RATE = "1/h"
    settings.UPLOAD_FINISH_CONCURRENCY = 1
    mine = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    client.force_login(owner)
    with limits.slot_hold(user=owner, action="upload_finish", slots=1, lapse=60) as held:
        assert held  # another check of this user's, still running
        busy = upload(client, mine, "0.jpg", photo_bytes(seed=1)).finish
        pending = mine.selfies.get(status=Selfie.Status.PENDING)
        finish = f"/sets/{mine.code}/uploads/{pending.code}/finish/"
        for answer in [busy, *(client.post(finish) for _ in range(3))]:  # the page asks again
            assert answer.status_code == 429
            assert json.loads(answer.content)["error"] == BUSY
    with images._memory.held(images._Memory.capacity()):  # the process is busy checking
        busy = client.post(finish)
    assert busy.status_code == 429 and busy["Retry-After"] == "5"

    assert client.post(finish).status_code == 200  # the hour's one check
    refused(
        upload(client, mine, "1.jpg", photo_bytes(seed=2)).finish,
        f"You have sent many photos to be checked {WAIT}",
    )


@pytest.mark.django_db
def test_photoshoot_starts_are_limited_per_user(client, owner, other_user, settings):
    settings.TUNE_START_RATE = RATE
    pack = factories.PackFactory()

    def start(user: Any) -> Any:
        selfie_set = factories.SelfieSetFactory(owner=user)
        form = {
            "selfie_set": str(selfie_set.code),
            "pack": pack.slug,
            "price": pack.price,
            "start_token": uuid.uuid4(),
        }
        return client.post("/photoshoots/start/", form)

    client.force_login(owner)
    for _ in range(2):
        assert start(owner).status_code == 302  # (to say the set has too few photos)
    refused(start(owner), f"You have started many photoshoots {WAIT}")

    client.force_login(other_user)
    assert start(other_user).status_code == 302

    window_end(owner, "tune_start")
    client.force_login(owner)
    assert start(owner).status_code == 302


@pytest.mark.django_db
def test_new_selfie_sets_are_limited_per_user(client, owner, other_user, settings):
    settings.SELFIE_SET_CREATE_RATE = RATE
    form = {"name": "Me", "subject_class": "woman"}
    client.force_login(owner)
    for _ in range(2):
        assert client.post("/sets/new/", form).status_code == 302
    refused(client.post("/sets/new/", form), f"You have created many selfie sets {WAIT}")
    assert SelfieSet.objects.filter(owner=owner).count() == 2
    assert client.get("/sets/new/").status_code == 200  # the form itself costs nothing

    client.force_login(other_user)
    assert client.post("/sets/new/", form).status_code == 302

    window_end(owner, "selfie_set_create")
    client.force_login(owner)
    assert client.post("/sets/new/", form).status_code == 302
    assert SelfieSet.objects.filter(owner=owner).count() == 3


# --- Finishes at once (hole 4) -----------------------------------------------------------------


@pytest.mark.django_db
def test_one_user_runs_only_so_many_finishes_at_once(client, owner, other_user, settings):
    from accounts import limits

    settings.UPLOAD_FINISH_CONCURRENCY = 1
    mine = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    theirs = SelfieSet.objects.create(owner=other_user, name="Me", subject_class="man")
    client.force_login(owner)
    with limits.slot_hold(user=owner, action="upload_finish", slots=1, lapse=60) as held:
        assert held  # as a finish of this user's, still running in another process
        busy = upload(client, mine, "0.jpg", photo_bytes(seed=1)).finish
        assert busy.status_code == 429
        assert json.loads(busy.content)["error"] == BUSY
        assert busy["Retry-After"] == "5"
        client.force_login(other_user)
        assert upload(client, theirs, "0.jpg", photo_bytes(seed=2)).finish.status_code == 200
    client.force_login(owner)
    pending = mine.selfies.get(status=Selfie.Status.PENDING)
    assert client.post(f"/sets/{mine.code}/uploads/{pending.code}/finish/").status_code == 200


@pytest.mark.django_db
def test_a_finish_the_process_has_no_memory_for_keeps_its_upload(client, owner, monkeypatch):
    """Nothing is wrong with the photo: it is kept, and checked when asked again."""
    from uploads import images

    monkeypatch.setattr(images, "WAIT_SECONDS", 0.2)
    mine = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    client.force_login(owner)
    with images._memory.held(images._Memory.capacity()):  # another upload's check, at every limit
        busy = upload(client, mine, "0.jpg", photo_bytes(seed=1)).finish
    assert busy.status_code == 429
    assert busy["Retry-After"] == "5"
    assert json.loads(busy.content)["error"] == (
        "We are checking a lot of photos right now; this one will be checked in a moment."
    )
    pending = mine.selfies.get(status=Selfie.Status.PENDING)
    assert storages["default"].exists(pending.upload_key)
    assert client.post(f"/sets/{mine.code}/uploads/{pending.code}/finish/").status_code == 200


KILLED_HOLDER = """
import os, signal, sys
import django
from django.conf import settings
django.setup()
# django-environ's CACHE_URL cannot carry a key prefix for Django's Redis backend.
settings.CACHES["default"]["KEY_PREFIX"] = sys.argv[2]
from accounts import limits
from accounts.models import User
from uploads.views import FINISH_SLOT_LAPSE
user = User(pk=int(sys.argv[1]))
hold = limits.slot_hold(user=user, action="upload_finish", slots=1, lapse=FINISH_SLOT_LAPSE)
assert hold.__enter__()
print("holding", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.redis
@pytest.mark.django_db
def test_a_process_killed_while_checking_gives_its_place_back_when_it_lapses(
    client, owner, settings
):
    """Production's cache is Redis, shared by every web process: one of them is killed in the
    middle of a check (its `finally` never runs); its place is free again after the lapse.

    The lapse is Redis's own expiry of the place's key: the test checks the key has one of at
    most the view's lapse, then brings it forward instead of waiting two minutes."""
    import subprocess
    import sys

    import redis
    from django.core.cache import cache

    from tests.conftest import BASE_DIR, subprocess_env
    from uploads.views import FINISH_SLOT_LAPSE

    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.UPLOAD_FINISH_CONCURRENCY = 1
    child = subprocess.run(
        [sys.executable, "-c", KILLED_HOLDER, str(owner.pk), prefix],
        cwd=BASE_DIR,
        env=subprocess_env(
            DJANGO_ENV="test",
            DJANGO_SETTINGS_MODULE="photoshoot.settings",
            CACHE_URL=settings.CELERY_BROKER_URL,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -9 and child.stdout == "holding\n", child.stderr
    mine = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    client.force_login(owner)
    busy = upload(client, mine, "0.jpg", photo_bytes(seed=1)).finish
    assert busy.status_code == 429
    pending = mine.selfies.get(status=Selfie.Status.PENDING)

    place = cache.make_key(f"limits:slot:upload_finish:{owner.pk}:0")
    server = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert 0 < server.ttl(place) <= FINISH_SLOT_LAPSE  # it lapses on its own
    assert server.expire(place, 0)  # and now it has: Redis drops the key
    assert client.post(f"/sets/{mine.code}/uploads/{pending.code}/finish/").status_code == 200


# --- The page's script shows the sentence ------------------------------------------------------


def three_photos_added_with_room_for_two(page: Any, owner: Any) -> SelfieSet:
    """Three photos added on the upload page of a new set; two are in, one is refused."""
    from playwright.sync_api import expect

    from tests.e2e.test_uploads_flow import log_in

    selfie_set = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    log_in(page, owner.email)
    page.goto(f"/sets/{selfie_set.code}/")
    files = [
        {"name": f"selfie-{n}.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes(seed=n)}
        for n in range(3)
    ]
    page.locator("#file-input").set_input_files(files)
    expect(page.locator(".photo.done img")).to_have_count(2, timeout=30_000)
    return selfie_set


@pytest.mark.chromium
@pytest.mark.django_db(transaction=True)
def test_the_upload_page_shows_a_refused_upload_s_sentence(page, owner, settings):
    from playwright.sync_api import expect

    settings.UPLOAD_START_RATE = RATE
    three_photos_added_with_room_for_two(page, owner)
    expect(page.get_by_role("alert")).to_have_text(f"You have started many uploads {WAIT}")


@pytest.mark.chromium
@pytest.mark.django_db(transaction=True)
def test_the_upload_page_shows_a_refused_check_s_sentence_and_gives_its_place_back(
    page, owner, settings
):
    from playwright.sync_api import expect

    settings.UPLOAD_FINISH_RATE = RATE
    selfie_set = three_photos_added_with_room_for_two(page, owner)
    expect(page.get_by_role("alert")).to_have_text(
        f"You have sent many photos to be checked {WAIT}"
    )

    # The refused photo's upload is removed, so that adding it again later finds room.
    def refused_upload_removed() -> bool:
        return not selfie_set.selfies.exclude(status=Selfie.Status.READY).exists()

    wait_until(refused_upload_removed, timeout=10)
    assert selfie_set.selfies.count() == 2


@pytest.mark.chromium
@pytest.mark.django_db(transaction=True)
def test_the_upload_page_waits_out_a_busy_check_and_keeps_the_photo(page, owner, settings):
    from playwright.sync_api import expect

    from accounts import limits
    from tests.e2e.test_uploads_flow import log_in

    settings.UPLOAD_FINISH_CONCURRENCY = 1
    selfie_set = SelfieSet.objects.create(owner=owner, name="Me", subject_class="woman")
    log_in(page, owner.email)
    page.goto(f"/sets/{selfie_set.code}/")
    file = {"name": "selfie.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes(seed=3)}
    with limits.slot_hold(user=owner, action="upload_finish", slots=1, lapse=60) as held:
        assert held  # as a check of this user's, still running
        page.locator("#file-input").set_input_files([file])
        expect(page.locator(".photo .status")).to_have_text(
            "1 of your photos is being checked already; this one will be checked once it is done.",
            timeout=30_000,
        )
    expect(page.locator(".photo.done img")).to_have_count(1, timeout=30_000)
    assert selfie_set.selfies.get().status == Selfie.Status.READY
