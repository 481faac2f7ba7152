"""The sweep of objects no row names (issue 13, part 2), on S3 (moto's server over HTTP) and on
local files: what is old and unnamed goes; what a row names, what is young and what lies in a
folder the sweep does not know stay."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone

from operations import orphans
from operations.tasks import storage_orphans_sweep
from packs.models import PackSample
from tests import factories
from tests.images import photo_bytes
from tests.tunes.conftest import ready_selfie_set
from tunes.models import Photoshoot
from uploads import services as uploads
from uploads.storage import StoredObject, new_key, stored_pages

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest) -> str:
    """Each test runs on the S3 server and on local files."""
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return request.param


def all_names() -> set[str]:
    """Every object the portal's folders hold, as storage lists them."""
    pages = (page for prefix in ("u/", "studio/", "packs/") for page in stored_pages(prefix))
    return {item.name for page in pages for item in page}


@contextmanager
def written_days_ago(days: float, store: str) -> Iterator[None]:
    """Objects written inside are `days` old: S3's clock (moto runs in this process) is moved
    back while they are written; local files get their modification time set afterwards."""
    before = set(all_names())
    with time_machine.travel(timezone.now() - days * DAY, tick=True):
        yield
    if store == "local":
        stamp = (timezone.now() - days * DAY).timestamp()
        for name in all_names() - before:
            os.utime(storages["default"].path(name), (stamp, stamp))


def put(name: str) -> str:
    return storages["default"].save(name, ContentFile(b"bytes"))


def test_old_orphans_of_every_folder_go_and_named_or_young_objects_stay(owner, store):
    with written_days_ago(2, store):
        named = rows_naming_one_object_of_each_kind(owner)
        old = orphans_of_each_kind(owner)
        unknown = put(new_key(owner, "elsewhere", ".bin"))
        outside = put("other-app/file.txt")
    young = orphans_of_each_kind(owner)

    counts = orphans.storage_orphans_sweep()

    assert all_names() == named | young | {unknown}
    assert storages["default"].exists(outside)  # not even listed
    assert counts.deleted == len(old) == 8
    assert set(counts.by_folder) == set(orphans.NAMED_BY)
    assert (counts.young, counts.named, counts.unknown) == (len(young), len(named), 1)


def rows_naming_one_object_of_each_kind(owner: Any) -> set[str]:
    """Real rows whose objects are stored, one or more of each kind a row can name."""
    selfie_set = ready_selfie_set(owner, count=1)
    ready = selfie_set.selfies.get()
    content = photo_bytes((600, 600))
    pending, _ = uploads.selfie_upload_start(
        selfie_set=selfie_set, filename="p.jpg", content_type="image/jpeg", size=len(content)
    )
    put(pending.upload_key)
    photo = factories.PhotoFactory(prompt__photoshoot__owner=owner)
    preview = factories.PhotoFactory(
        prompt__photoshoot__owner=owner, prompt__photoshoot__kind=Photoshoot.Kind.PREVIEW
    )
    preview.image, preview.thumbnail = (new_key(None, "previews", s) for s in (".jpg", "-t.jpg"))
    preview.save()
    for name in (photo.image, photo.thumbnail, preview.image, preview.thumbnail):
        put(name)
    zipped = photo.photoshoot
    zipped.zip_file = put(new_key(owner, "zips", ".zip"))
    zipped.save()
    studio_zip = preview.photoshoot
    studio_zip.zip_file = put(new_key(None, "zips", ".zip"))
    studio_zip.save()
    pack = factories.PackFactory()
    pack.cover.save("cover.jpg", ContentFile(content))
    sample = PackSample(pack=pack)
    sample.image.save("sample.jpg", ContentFile(content))
    return {
        ready.image,
        ready.thumbnail,
        pending.upload_key,
        photo.image,
        photo.thumbnail,
        preview.image,
        preview.thumbnail,
        zipped.zip_file,
        studio_zip.zip_file,
        pack.cover.name,
        sample.image.name,
    }


def orphans_of_each_kind(owner: Any) -> set[str]:
    """Objects as a killed process leaves them: written, and named by no row."""
    return {
        put(new_key(owner, "uploads")),
        put(new_key(owner, "selfies", ".jpg")),
        put(new_key(owner, "photos", ".jpg")),
        put(new_key(None, "previews", ".jpg")),
        put(new_key(owner, "zips", ".zip")),
        put(new_key(None, "zips", ".zip")),
        put("packs/covers/lost.jpg"),
        put("packs/samples/lost.jpg"),
    }


def test_the_original_of_a_finished_selfie_is_not_kept_by_its_row(owner, store, settings):
    """A finish killed after storing the copy but before removing the original leaves it."""
    settings.STORAGE_ORPHAN_GRACE_SECONDS = 0
    selfie = ready_selfie_set(owner, count=1).selfies.get()
    put(selfie.upload_key)

    assert orphans.storage_orphans_sweep().by_folder == {"uploads": 1, "selfies": 0}
    assert all_names() == {selfie.image, selfie.thumbnail}


def test_it_pages_through_more_objects_than_a_page_and_checks_them_in_batches(
    owner, store, settings, django_assert_max_num_queries
):
    settings.STORAGE_ORPHAN_GRACE_SECONDS = 0
    photos = [factories.PhotoFactory(prompt__photoshoot__owner=owner) for _ in range(4)]
    named = {put(name) for p in photos for name in (p.image, p.thumbnail)}
    lost = {put(new_key(owner, "photos", ".jpg")) for _ in range(9)}

    pages = [len(page) for page in stored_pages("u/", page_size=3)]
    assert pages == [3, 3, 3, 3, 3, 2]
    # Six pages of photos, each checked with one query per field that names photos.
    with django_assert_max_num_queries(6 * 2):
        counts = orphans.storage_orphans_sweep(page_size=3)

    assert counts.listed == 17
    assert counts.deleted == 9
    assert all_names() == named
    assert not all_names() & lost


def test_the_grace_period_is_a_setting(owner, store, settings):
    name = put(new_key(owner, "selfies", ".jpg"))
    settings.STORAGE_ORPHAN_GRACE_SECONDS = 3600

    assert orphans.storage_orphans_sweep().deleted == 0
    assert all_names() == {name}
    later = timezone.now() + timedelta(seconds=3601)
    assert orphans.storage_orphans_sweep(now=later).deleted == 1
    assert all_names() == set()


def test_stored_pages_say_when_each_object_was_written(owner, store):
    name = put(new_key(owner, "selfies", ".jpg"))
    [[listed]] = list(stored_pages("u/"))
    assert isinstance(listed, StoredObject)
    assert listed.name == name
    assert abs(listed.modified - timezone.now()) < timedelta(seconds=60)


def test_the_beat_task_sweeps_hourly_and_logs_counts_only(owner, settings, caplog):
    settings.STORAGE_ORPHAN_GRACE_SECONDS = 0
    lost = put(new_key(owner, "selfies", ".jpg"))
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "operations.tasks.storage_orphans_sweep"
    )
    assert entry["schedule"].minute == {53}  # once an hour

    with caplog.at_level(logging.INFO, logger="operations.orphans"):
        assert storage_orphans_sweep.delay().get() == 1

    assert all_names() == set()
    assert "1 deleted" in caplog.text
    assert lost not in caplog.text
    assert lost.split("/")[1] not in caplog.text  # nor the owner's folder


def test_every_file_field_of_every_model_is_known_to_the_sweep():
    """A new FileField is a new kind of object: the sweep must know which rows name it, or it
    would leave its orphans for ever (or, in a folder it sweeps, delete what it names)."""
    known = {(n.model, n.field) for namings in orphans.NAMED_BY.values() for n in namings}
    file_fields = {
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }
    assert file_fields
    assert file_fields <= known
