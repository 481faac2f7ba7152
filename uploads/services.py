"""Selfie sets and uploads: create, rename, delete; start an upload; finish (verify, normalise,
store) it; remove a photo; sweep uploads that never finished.

Storage objects are removed after the database change commits, so a failed transaction never
leaves rows pointing at deleted files; a rejected file is removed at once.
"""

from __future__ import annotations

import logging
import mimetypes
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import User

from . import storage
from .images import RejectedImage, hamming, selfie_normalise
from .models import Selfie, SelfieSet

logger = logging.getLogger(__name__)

ACCEPTED_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}
NEAR_DUPLICATE_BITS = 6  # of 64: closer than this looks like the same shot
STALE_UPLOAD_AGE = timedelta(hours=1)


def selfie_set_create(*, owner: User, name: str, subject_class: str) -> SelfieSet:
    return SelfieSet.objects.create(owner=owner, name=name, subject_class=subject_class)


def selfie_set_rename(*, selfie_set: SelfieSet, name: str) -> None:
    SelfieSet.objects.filter(pk=selfie_set.pk).update(name=name, updated_at=timezone.now())


@transaction.atomic
def selfie_set_delete(*, selfie_set: SelfieSet) -> None:
    """Delete the set and its photos; their objects leave storage once that has committed.

    The rows are locked first, so an upload finishing at this moment either lands before
    (and its files are read here) or finds its row gone (and removes its own files).
    """
    selfies = Selfie.objects.select_for_update().filter(selfie_set=selfie_set)
    names = [n for s in selfies for n in (s.upload_key, s.image, s.thumbnail)]
    selfie_set.delete()
    storage_objects_delete_after_commit(names)


@transaction.atomic
def selfie_delete(*, selfie: Selfie) -> None:
    """Remove one photo from its set, and its objects from storage (locked as above)."""
    locked = Selfie.objects.select_for_update().filter(pk=selfie.pk).first()
    if locked is None:
        return
    names = [locked.upload_key, locked.image, locked.thumbnail]
    locked.delete()
    storage_objects_delete_after_commit(names)


def storage_objects_delete_after_commit(names: list[str]) -> None:
    """A worker deletes them (retrying if storage hiccups), never the request that asked."""
    from .tasks import storage_objects_delete

    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: storage_objects_delete.delay(names))


def _content_type(filename: str, declared: str) -> str:
    """The type the upload will be held to: the browser's if it is one we take, else the one
    its name says (some browsers send none, or a generic one, for HEIC). The bytes are
    checked on arrival whatever this says."""
    declared = (declared or "").lower()
    declared = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}.get(declared, declared)
    if declared in ACCEPTED_TYPES:
        return declared
    lowered = filename.lower()
    if lowered.endswith((".heic", ".heif")):
        return "image/heic"
    guessed = mimetypes.guess_type(lowered)[0] or ""
    if guessed in ACCEPTED_TYPES:
        return guessed
    raise RejectedImage(
        "This kind of file is not supported. Please upload a JPEG, PNG, WebP or HEIC photo."
    )


@transaction.atomic
def selfie_upload_start(
    *, selfie_set: SelfieSet, filename: str, content_type: str, size: int
) -> tuple[Selfie, storage.UploadTarget]:
    """Issue a random key under the owner's prefix and an upload target for it."""
    # Lock the set so that two uploads started at once cannot pass the limit together.
    if SelfieSet.objects.select_for_update().filter(pk=selfie_set.pk).first() is None:
        raise RejectedImage("This set was deleted.")
    # Uploads that were started but not sent in time no longer hold a place.
    recent = timezone.now() - timedelta(seconds=2 * settings.UPLOAD_URL_EXPIRY)
    taken = selfie_set.selfies.filter(
        Q(status=Selfie.Status.READY) | Q(created_at__gte=recent)
    ).count()
    if taken >= settings.SELFIES_MAX:
        raise RejectedImage(
            f"This set already has {settings.SELFIES_MAX} photos, the most it can hold. "
            "Remove one to add another."
        )
    if size > settings.UPLOAD_MAX_BYTES:
        raise RejectedImage(_too_big())
    if size <= 0:
        raise RejectedImage("The file is empty. Please choose a photo.")
    kind = _content_type(filename, content_type)
    key = storage.new_key(selfie_set.owner, "uploads")
    selfie = Selfie.objects.create(
        selfie_set=selfie_set, original_name=filename[:255], upload_key=key, content_type=kind
    )
    return selfie, storage.upload_target_for(user=selfie_set.owner, key=key, content_type=kind)


def _too_big() -> str:
    limit = filesizeformat(settings.UPLOAD_MAX_BYTES).replace("\xa0", " ")
    return f"This file is over {limit}. Please upload a smaller photo."


def _uploaded_bytes(selfie: Selfie) -> bytes:
    store = storage.storage()
    if not store.exists(selfie.upload_key):
        raise RejectedImage("The upload did not arrive. Please try this photo again.")
    if store.size(selfie.upload_key) > settings.UPLOAD_MAX_BYTES:
        raise RejectedImage(_too_big())
    with store.open(selfie.upload_key, "rb") as uploaded:
        return uploaded.read(settings.UPLOAD_MAX_BYTES + 1)


def selfie_finish_upload(*, selfie: Selfie) -> Selfie | None:
    """Verify the uploaded object and store it normalised, with a thumbnail and hints.

    The original is never kept. A rejected file is deleted with its row, and RejectedImage
    carries the sentence to show. A finish that another one beat changes nothing and returns
    that one's photo; after removal it changes nothing and returns None.
    """
    try:
        normalised = selfie_normalise(_uploaded_bytes(selfie))
    except RejectedImage:
        finished = _finished(selfie)
        if finished is not None:
            return finished  # another finish of it won meanwhile, and removed the original
        # The object is of no use whatever happens to the row: remove it now.
        storage.objects_delete([selfie.upload_key])
        Selfie.objects.filter(pk=selfie.pk, status=Selfie.Status.PENDING).delete()
        raise
    owner = selfie.selfie_set.owner
    store = storage.storage()
    image = store.save(storage.new_key(owner, "selfies", ".jpg"), ContentFile(normalised.image))
    thumb = store.save(
        storage.new_key(owner, "selfies", "-thumb.jpg"), ContentFile(normalised.thumbnail)
    )
    hints = list(normalised.hints)
    if _has_near_duplicate(selfie, normalised.dhash):
        hints.append("near_duplicate")
    done = Selfie.objects.filter(pk=selfie.pk, status=Selfie.Status.PENDING).update(
        status=Selfie.Status.READY,
        image=image,
        thumbnail=thumb,
        width=normalised.width,
        height=normalised.height,
        size=len(normalised.image),
        dhash=normalised.dhash,
        hints=hints,
        verified_at=timezone.now(),
    )
    # Finished by someone else meanwhile, or removed: ours are spare copies.
    storage.objects_delete([selfie.upload_key] if done else [image, thumb])
    return _finished(selfie)


def _finished(selfie: Selfie) -> Selfie | None:
    return (
        Selfie.objects.select_related("selfie_set__owner")
        .filter(pk=selfie.pk, status=Selfie.Status.READY)
        .first()
    )


def _has_near_duplicate(selfie: Selfie, dhash: str) -> bool:
    others = Selfie.objects.filter(
        selfie_set=selfie.selfie_set_id, status=Selfie.Status.READY
    ).exclude(pk=selfie.pk)
    return any(
        hamming(dhash, other) < NEAR_DUPLICATE_BITS
        for other in others.values_list("dhash", flat=True)
    )


def selfie_uploads_sweep() -> int:
    """Remove uploads started long ago and never finished (row and object); say how many."""
    stale = Selfie.objects.filter(
        status=Selfie.Status.PENDING, created_at__lt=timezone.now() - STALE_UPLOAD_AGE
    )
    count = 0
    for selfie in stale:
        selfie_delete(selfie=selfie)
        count += 1
    return count
