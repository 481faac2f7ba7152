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
    """Delete the set and its photos; their objects leave storage once that has committed."""
    names = [
        name
        for selfie in selfie_set.selfies.all()
        for name in (selfie.upload_key, selfie.image, selfie.thumbnail)
    ]
    selfie_set.delete()
    transaction.on_commit(lambda: storage.objects_delete(names))


def selfie_delete(*, selfie: Selfie) -> None:
    """Remove one photo from its set, and its objects from storage."""
    names = [selfie.upload_key, selfie.image, selfie.thumbnail]
    with transaction.atomic():
        Selfie.objects.filter(pk=selfie.pk).delete()
        transaction.on_commit(lambda: storage.objects_delete(names))


def _content_type(filename: str, declared: str) -> str:
    """The type the upload will be held to: the browser's, or guessed from the name (some
    browsers send no type for HEIC)."""
    declared = (declared or "").lower()
    if declared in ACCEPTED_TYPES:
        return declared
    guessed = mimetypes.guess_type(filename)[0] or ""
    if not declared and guessed in ACCEPTED_TYPES:
        return guessed
    if filename.lower().endswith((".heic", ".heif")):
        return "image/heic"
    kind = (declared or guessed or "this kind of file").split("/")[-1].upper()
    raise RejectedImage(
        f"{kind} files are not supported. Please upload a JPEG, PNG, WebP or HEIC photo."
    )


@transaction.atomic
def selfie_upload_start(
    *, selfie_set: SelfieSet, filename: str, content_type: str, size: int
) -> tuple[Selfie, storage.UploadTarget]:
    """Issue a random key under the owner's prefix and an upload target for it."""
    # Lock the set so that two uploads started at once cannot pass the limit together.
    SelfieSet.objects.select_for_update().filter(pk=selfie_set.pk).first()
    if selfie_set.selfies.count() >= settings.SELFIES_MAX:
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
    carries the sentence to show. Finishing twice, or after removal, changes nothing and
    returns None.
    """
    try:
        normalised = selfie_normalise(_uploaded_bytes(selfie))
    except RejectedImage:
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
    return Selfie.objects.get(pk=selfie.pk) if done else None


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
