"""A gallery's zip: streamed for a small gallery, built once by a worker for a large one.

One build at a time: the request that stamps the photoshoot first queues it, the others find
it claimed. The claim marks a build queued or running, and a queued task renews nothing, so it
lapses after the task time limit (operations/leases.py queued_lapsed_before).
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from operations.leases import queued_lapsed_before
from uploads import storage

from .models import Photo, Photoshoot


def zip_write(photoshoot: Photoshoot, target: IO[bytes]) -> None:
    """Write every photo of `photoshoot` into the open binary file `target` as a zip of JPEGs."""
    store = storage.storage()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for photo in photoshoot.photos.all():
            with store.open(photo.image, "rb") as image:
                archive.writestr(photo_filename(photoshoot, photo), image.read())


def photo_filename(photoshoot: Photoshoot, photo: Photo) -> str:
    """A photo as a download names it: the pack, the photoshoot's day and the start of the
    photo's own code ("corporate-headshots-2026-12-04-3f2a9c1b.jpg"), the same in the zip.
    Not its place in the gallery: "more like this" puts photos before later scenes', and a
    name must keep meaning the photo it named in an earlier download or zip."""
    return f"{_name_stem(photoshoot)}-{photo.code.hex[:8]}.jpg"


def zip_filename(photoshoot: Photoshoot) -> str:
    return f"{_name_stem(photoshoot)}-photos.zip"


def _name_stem(photoshoot: Photoshoot) -> str:
    return f"{photoshoot.slug}-{timezone.localdate(photoshoot.created_at).isoformat()}"


def zip_building(photoshoot: Photoshoot) -> bool:
    """Whether a build of its zip is queued or running (claimed, and not lapsed)."""
    return (
        photoshoot.zip_claimed_at is not None
        and photoshoot.zip_claimed_at >= queued_lapsed_before()
    )


def zip_request(*, photoshoot_id: int) -> bool:
    """Queue the build of a ready gallery's zip unless one is queued or running: the request
    that stamps the photoshoot first queues it, the others find it claimed (however many come at
    once). Returns whether this call queued it."""
    claimed_at = timezone.now()
    claimed = Photoshoot.objects.filter(
        Q(zip_claimed_at=None) | Q(zip_claimed_at__lt=queued_lapsed_before()),
        pk=photoshoot_id,
        zip_file="",
        status=Photoshoot.Status.READY,
    ).update(zip_claimed_at=claimed_at)
    if claimed:
        transaction.on_commit(lambda: _zip_build_queue(photoshoot_id, claimed_at))
    return bool(claimed)


def _zip_build_queue(photoshoot_id: int, claimed_at: datetime) -> None:
    from .tasks import zip_build as zip_build_task

    try:
        zip_build_task.delay(photoshoot_id)
    except Exception:
        # Not queued (the broker is down): the next request may try again at once.
        Photoshoot.objects.filter(pk=photoshoot_id, zip_claimed_at=claimed_at).update(
            zip_claimed_at=None
        )
        raise


def zip_build(*, photoshoot_id: int) -> None:
    """Build a large gallery's zip into private storage, once, and end the claim that queued
    it, built or not. The claim counts again from the build's start, which may come long after
    it was queued; a copy of the task that runs meanwhile builds too, and only the first zip
    is kept."""
    started = timezone.now()
    Photoshoot.objects.filter(pk=photoshoot_id, zip_claimed_at__isnull=False).update(
        zip_claimed_at=started
    )
    try:
        _zip_build(photoshoot_id)
    finally:
        Photoshoot.objects.filter(pk=photoshoot_id, zip_claimed_at=started).update(
            zip_claimed_at=None
        )


def _zip_build(photoshoot_id: int) -> None:
    photoshoot = Photoshoot.objects.select_related("owner").get(pk=photoshoot_id)
    if photoshoot.zip_file or photoshoot.status != Photoshoot.Status.READY:
        return
    with SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        zip_write(photoshoot, spool)
        spool.seek(0)
        name = storage.storage().save(
            storage.new_key(photoshoot.storage_owner, "zips", ".zip"), File(spool)
        )
    if not Photoshoot.objects.filter(pk=photoshoot_id, zip_file="").update(zip_file=name):
        storage.objects_delete([name])  # built twice at once: keep the first
