"""Objects in storage that no row names, removed once they are old enough to be no one's work.

Every object is written before the row that names it (a selfie's normalised copy and thumbnail,
a photo and its thumbnail, a zip, a pack's cover or sample), so a process killed between the two
leaves an object nothing points to, and the deletes that follow a row's removal can be lost with
their task. Writing a row first would not close the gap (a process can die after the write as
well as before it), so beat lists storage by folder instead: an object older than
STORAGE_ORPHAN_GRACE_SECONDS that no row names is removed. The grace is far longer than any
write takes (a task's time limit), so an upload or a copy under way is never touched.

Only folders listed here are swept: an object in a folder the sweep does not know (a new kind of
object, or something else sharing the bucket) is left alone and counted, never deleted.
This module sits above the apps whose rows it reads; storage.py, below them, only lists.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from packs.models import Pack, PackSample
from tunes.models import Photo, Photoshoot
from uploads import storage
from uploads.models import Selfie

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Naming:
    """Rows of `model` (those `only` selects) name objects in `field`."""

    model: type[models.Model]
    field: str
    only: Q | None = None  # None: every row

    def named(self, names: list[str]) -> set[str]:
        rows = self.model._default_manager.filter(self.only or Q(), **{f"{self.field}__in": names})
        return {str(value) for value in rows.values_list(self.field, flat=True)}


def _file_folder(model: type[models.Model], name: str) -> str:
    upload_to = model._meta.get_field(name).upload_to  # type: ignore[union-attr]
    return str(upload_to).strip("/")


# For each folder (storage.key_folder of a key): the rows that name its objects.
NAMED_BY: dict[str, tuple[Naming, ...]] = {
    # The original of a finished selfie is removed once its copy is stored: a finish killed
    # before that removal leaves it, and its row's upload_key does not keep it.
    "uploads": (Naming(Selfie, "upload_key", Q(status=Selfie.Status.PENDING)),),
    "selfies": (Naming(Selfie, "image"), Naming(Selfie, "thumbnail")),
    "photos": (Naming(Photo, "image"), Naming(Photo, "thumbnail")),
    "previews": (Naming(Photo, "image"), Naming(Photo, "thumbnail")),
    "zips": (Naming(Photoshoot, "zip_file"),),
    _file_folder(Pack, "cover"): (Naming(Pack, "cover"),),
    _file_folder(PackSample, "image"): (Naming(PackSample, "image"),),
}

# What is listed: every user's folder, the studio's, and the packs' files.
SWEPT_PREFIXES = (
    f"{storage.USERS_PREFIX}/",
    f"{storage.STUDIO_PREFIX}/",
    *(f"{folder}/" for folder in NAMED_BY if "/" in folder),
)


@dataclass
class SweepCounts:
    """What a sweep saw: counts only (keys are opaque, and people's photos are behind them)."""

    listed: int = 0
    young: int = 0  # within the grace period: possibly an upload or a copy under way
    named: int = 0
    unknown: int = 0  # in a folder the sweep does not know: left alone
    deleted: int = 0
    failed: int = 0  # storage refused to delete: tried again next time
    by_folder: dict[str, int] = field(default_factory=dict)  # deleted, per folder


def storage_orphans_sweep(*, page_size: int = 1000, now: datetime | None = None) -> SweepCounts:
    """Delete every object in a swept folder that is older than the grace period and that no
    row names; page by page, each page checked against the rows in one query per field."""
    before = (now or timezone.now()) - timedelta(seconds=settings.STORAGE_ORPHAN_GRACE_SECONDS)
    counts = SweepCounts()
    for prefix in SWEPT_PREFIXES:
        for page in storage.stored_pages(prefix, page_size=page_size):
            _page_sweep(page, before=before, counts=counts)
    logger.info(
        "storage sweep: %d listed, %d deleted, %d named, %d young, %d in unknown folders, "
        "%d not deleted",
        counts.listed,
        counts.deleted,
        counts.named,
        counts.young,
        counts.unknown,
        counts.failed,
    )
    return counts


def _page_sweep(page: list[storage.StoredObject], *, before: datetime, counts: SweepCounts) -> None:
    counts.listed += len(page)
    by_folder: dict[str, list[str]] = defaultdict(list)
    for item in page:
        if item.modified >= before:
            counts.young += 1
        elif storage.key_folder(item.name) not in NAMED_BY:
            counts.unknown += 1
        else:
            by_folder[storage.key_folder(item.name)].append(item.name)
    orphans: list[str] = []
    for folder, names in by_folder.items():
        unnamed = sorted(set(names) - names_in_rows(names, NAMED_BY[folder]))
        counts.named += len(names) - len(unnamed)
        counts.by_folder[folder] = counts.by_folder.get(folder, 0) + len(unnamed)
        orphans += unnamed
    failed = storage.objects_delete_many(orphans)
    counts.failed += failed
    counts.deleted += len(orphans) - failed


def names_in_rows(names: list[str], namings: tuple[Naming, ...]) -> set[str]:
    """Which of `names` a row names (one query per field)."""
    return set().union(*(naming.named(names) for naming in namings))
