"""Private storage for people's photos: random keys under the owner's prefix, upload targets
the browser sends bytes to directly, and short-lived signed URLs to show them.

S3 (production): a presigned POST whose policy fixes the key, type and size, and SigV4-signed
GET URLs. Local files (development): the same request shape, sent to portal endpoints that
check a signed, expiring token. This module is the one place that knows the difference,
also for listing a folder's objects with their times and deleting many at once (what the sweep
of objects no row names needs: operations/orphans.py).
"""

from __future__ import annotations

import functools
import posixpath
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.storage import Storage, storages
from django.urls import reverse
from django.utils.crypto import salted_hmac

from accounts.models import User

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

UPLOAD_SALT = "uploads.direct-upload"
PRIVATE_SALT = "uploads.private-url"
FETCH_SALT = "uploads.fetch-url"


@dataclass(frozen=True)
class UploadTarget:
    """Where the browser POSTs a file: `fields` first, then the file as the field `file`."""

    url: str
    fields: dict[str, str]


def storage() -> Storage:
    return storages["default"]


def is_s3(store: Storage) -> TypeGuard[S3Storage]:
    return hasattr(store, "bucket_name")


def browser_origins() -> tuple[str, ...]:
    """The origins besides the portal's own that a browser reaches storage at: where signed
    image URLs point and where presigned uploads are POSTed (S3). None for local files, which
    the portal serves itself. The Content-Security-Policy allows exactly these."""
    store = storage()
    return _s3_origins(store) if is_s3(store) else ()


@functools.lru_cache(maxsize=8)
def _s3_origins(store: S3Storage) -> tuple[str, ...]:
    # Asked of boto3 rather than rebuilt from settings: it alone knows the endpoint, addressing
    # style and region it signs for. One answer per storage object (settings changes make a
    # new one), so no request pays for the signing.
    probe = "origin-probe"
    post = store.connection.meta.client.generate_presigned_post(store.bucket_name, probe)
    urls = (store.url(probe), post["url"])
    return tuple(dict.fromkeys(f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls)))


# Objects of no user: what the creatives' pack previews make of sample subjects.
STUDIO_PREFIX = "studio"
# Every user's folder is under this one.
USERS_PREFIX = "u"


def owner_prefix(user: User | None) -> str:
    """A stable, opaque folder per user (no id or e-mail in object keys)."""
    if user is None:
        return STUDIO_PREFIX
    return f"{USERS_PREFIX}/" + salted_hmac("uploads.owner-prefix", str(user.pk)).hexdigest()[:20]


def new_key(user: User | None, folder: str, suffix: str = "") -> str:
    return f"{owner_prefix(user)}/{folder}/{secrets.token_urlsafe(18)}{suffix}"


def key_folder(name: str) -> str:
    """The folder a key was made for, without its owner: `selfies` for a key `new_key` made
    (`u/<owner>/selfies/<random>.jpg`, `studio/previews/<random>.jpg`), the directory for any
    other (`packs/covers` for `packs/covers/a.jpg`)."""
    parts = name.split("/")
    if parts[0] == USERS_PREFIX and len(parts) == 4:
        return parts[2]
    if parts[0] == STUDIO_PREFIX and len(parts) == 3:
        return parts[1]
    return posixpath.dirname(name)


def upload_target_for(*, user: User, key: str, content_type: str) -> UploadTarget:
    """A target that accepts exactly one file of `content_type`, 1 byte to the cap, at `key`."""
    store = storage()
    if is_s3(store):
        post = store.connection.meta.client.generate_presigned_post(
            store.bucket_name,
            store._normalize_name(key),
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, settings.UPLOAD_MAX_BYTES],
            ],
            ExpiresIn=settings.UPLOAD_URL_EXPIRY,
        )
        return UploadTarget(url=post["url"], fields=post["fields"])
    token = signing.dumps({"key": key, "type": content_type, "user": user.pk}, salt=UPLOAD_SALT)
    return UploadTarget(
        url=reverse("uploads:direct_upload"),
        fields={"key": key, "Content-Type": content_type, "token": token},
    )


def direct_upload_grant(token: str, *, user: User) -> dict[str, Any] | None:
    """What a local upload token allows (key and type), if it is genuine, fresh and `user`'s."""
    try:
        grant = signing.loads(token, salt=UPLOAD_SALT, max_age=settings.UPLOAD_URL_EXPIRY)
    except signing.BadSignature:
        return None
    return grant if grant.get("user") == user.pk else None


def private_url(name: str, *, owner: User | None) -> str:
    """A short-lived URL for one private object of `owner` (only they and staff can open a
    local one; the token names the object, never the user). `owner=None`: a studio object."""
    store = storage()
    if is_s3(store):
        return store.url(name)
    if not name.startswith(owner_prefix(owner) + "/"):
        raise ValueError("a private object outside its owner's folder")
    token = signing.dumps(name, salt=PRIVATE_SALT)
    # The token rides in the query string: access logs record paths only.
    return f"{reverse('uploads:private_file')}?t={token}"


def private_name(token: str, *, viewer: User) -> str | None:
    """The object a local signed URL stands for, if fresh and `viewer` may see it."""
    try:
        name = signing.loads(token, salt=PRIVATE_SALT, max_age=settings.UPLOAD_URL_EXPIRY)
    except signing.BadSignature:
        return None
    if not isinstance(name, str):
        return None
    if name.startswith(owner_prefix(viewer) + "/") or _staff_may_view(viewer, name):
        return name
    return None


def _staff_may_view(viewer: User, name: str) -> bool:
    """Studio objects: any staff member. People's photos: only staff who may look at selfie
    sets or photoshoots in admin; never a creative, even holding a signed URL."""
    if not viewer.is_staff:
        return False
    if name.startswith(STUDIO_PREFIX + "/"):
        return True
    return viewer.has_perm("uploads.view_selfieset") or viewer.has_perm("tunes.view_photoshoot")


def fetch_url(name: str) -> str:
    """An absolute, short-lived URL that an outside service (Astria, fetching the selfies it
    trains on) can GET without a session."""
    store = storage()
    if is_s3(store):
        return store.url(name)
    token = signing.dumps({"name": name}, salt=FETCH_SALT)
    return f"{settings.PUBLIC_BASE_URL}{reverse('uploads:fetch_file')}?t={token}"


def fetch_name(token: str) -> str | None:
    """The object a local fetch URL stands for, if its token is genuine and fresh."""
    try:
        grant = signing.loads(token, salt=FETCH_SALT, max_age=settings.UPLOAD_URL_EXPIRY)
    except signing.BadSignature:
        return None
    return grant.get("name")


def objects_delete(names: list[str]) -> None:
    """Remove objects; one that is already gone is fine."""
    store = storage()
    for name in filter(None, names):
        store.delete(name)


@dataclass(frozen=True)
class StoredObject:
    name: str
    modified: datetime  # aware


def stored_pages(prefix: str, *, page_size: int = 1000) -> Iterator[list[StoredObject]]:
    """Every object whose name starts with `prefix` (a folder, ending in "/"), a page of at most
    `page_size` at a time, so that a large bucket is never held in memory at once."""
    store = storage()
    if is_s3(store):
        yield from _s3_pages(store, prefix, page_size=page_size)
        return
    page: list[StoredObject] = []
    for name in _files_under(store, prefix.rstrip("/")):
        page.append(StoredObject(name, store.get_modified_time(name)))
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def _s3_location(store: S3Storage) -> str:
    return f"{store.location.strip('/')}/" if store.location else ""


def _s3_pages(store: S3Storage, prefix: str, *, page_size: int) -> Iterator[list[StoredObject]]:
    # The client's own paginator: one ListObjectsV2 call per page, continuation tokens and all.
    location = _s3_location(store)
    paginator = store.connection.meta.client.get_paginator("list_objects_v2")
    pages = paginator.paginate(
        Bucket=store.bucket_name,
        Prefix=location + prefix,
        PaginationConfig={"PageSize": page_size},
    )
    for page in pages:
        objects = [
            StoredObject(item["Key"][len(location) :], item["LastModified"])
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")  # a folder marker some tools make
        ]
        if objects:
            yield objects


def _files_under(store: Storage, folder: str) -> Iterator[str]:
    """Local files (development): one directory read at a time, depth first."""
    try:
        folders, files = store.listdir(folder)
    except FileNotFoundError:
        return
    for file in sorted(files):
        yield f"{folder}/{file}"
    for sub in sorted(folders):
        yield from _files_under(store, f"{folder}/{sub}")


def objects_delete_many(names: list[str]) -> int:
    """Remove up to a thousand objects in one call where storage allows it (S3's DeleteObjects);
    returns how many were not removed."""
    store = storage()
    if not is_s3(store):
        objects_delete(names)
        return 0
    if not names:
        return 0
    location = _s3_location(store)
    answer = store.connection.meta.client.delete_objects(
        Bucket=store.bucket_name,
        Delete={"Objects": [{"Key": location + name} for name in names], "Quiet": True},
    )
    return len(answer.get("Errors", []))
