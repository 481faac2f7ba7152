"""Copying Astria's results into the portal's private storage.

Result URLs come only from our own authenticated GET of a finished prompt. They may redirect
(Astria's `rails/active_storage` links do); every hop is checked before it is sent: its scheme,
host and port must be Astria's own or one of ASTRIA_IMAGE_HOSTS (https), and in production only
https. The body is size-capped and must decode as an image before anything is stored.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError
from PIL import Image, UnidentifiedImageError

from accounts.models import User
from astria.origins import Origin, origin_entry, origin_of, origins_of
from uploads import storage

from .models import Photo, Prompt

FETCH_TIMEOUT = (5, 30)
MAX_REDIRECTS = 3
THUMBNAIL_SIDE = 512


class IngestError(Exception):
    """A result that cannot be copied; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Fetched:
    content: bytes
    width: int
    height: int


def allowed_origins() -> set[Origin]:
    """Astria's own origin (the sandbox's, on http, in development) and ASTRIA_IMAGE_HOSTS'."""
    return {origin_entry(settings.ASTRIA_BASE_URL), *origins_of(settings.ASTRIA_IMAGE_HOSTS)}


def result_url_check(url: str) -> None:
    """Refuse, before anything is sent, a URL whose scheme, host and port are not allowed."""
    origin = origin_of(url)
    if origin is None:
        raise IngestError("refused to fetch from a URL that is not http(s)", transient=False)
    https_only = settings.ASTRIA_IMAGE_HTTPS_ONLY and origin.scheme != "https"
    if https_only or origin not in allowed_origins():
        raise IngestError(f"refused to fetch from {origin}", transient=False)


def _get(url: str) -> requests.Response:
    result_url_check(url)
    try:
        return requests.get(url, timeout=FETCH_TIMEOUT, stream=True, allow_redirects=False)
    except requests.RequestException as exc:
        raise IngestError(f"could not fetch ({type(exc).__name__})", transient=True) from None


def result_fetch(url: str) -> Fetched:
    """Follow up to three redirects between allowed hosts; return a verified image."""
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(url)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        break
    else:
        raise IngestError("too many redirects", transient=False)
    with response:
        if response.status_code != 200:
            raise IngestError(f"HTTP {response.status_code}", transient=response.status_code >= 500)
        content = bytearray()
        for chunk in response.iter_content(64 * 1024):
            content += chunk
            if len(content) > settings.PHOTO_MAX_BYTES:
                raise IngestError("the image is larger than allowed", transient=False)
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            return Fetched(bytes(content), image.width, image.height)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise IngestError("the result is not an image", transient=False) from None


def thumbnail_jpeg(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        thumb = image.convert("RGB")
        thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        thumb.save(out, "JPEG", quality=82)
        return out.getvalue()


def result_store(fetched: Fetched, *, owner: User | None, folder: str) -> tuple[str, str]:
    """Store a fetched result and its thumbnail under new random keys; returns both names."""
    store = storage.storage()
    image = store.save(storage.new_key(owner, folder, ".jpg"), ContentFile(fetched.content))
    thumb = store.save(
        storage.new_key(owner, folder, "-thumb.jpg"), ContentFile(thumbnail_jpeg(fetched.content))
    )
    return image, thumb


def photo_ingest(
    *, prompt_id: int, index: int, url: str, astria_id: int | None = None
) -> Photo | None:
    """Copy result `index` of a prompt into storage and record it, once. Returns None for a
    result of an earlier attempt at the prompt (staff sent it again since)."""
    prompt = Prompt.objects.select_related("photoshoot__owner").get(pk=prompt_id)
    if astria_id is not None and prompt.astria_id != astria_id:
        return None
    existing = Photo.objects.filter(prompt=prompt, index=index).first()
    if existing:
        return existing
    fetched = result_fetch(url)
    photoshoot = prompt.photoshoot
    folder = "previews" if photoshoot.storage_owner is None else "photos"
    image, thumb = result_store(fetched, owner=photoshoot.storage_owner, folder=folder)
    try:
        return Photo.objects.create(
            photoshoot=photoshoot,
            prompt=prompt,
            index=index,
            image=image,
            thumbnail=thumb,
            width=fetched.width,
            height=fetched.height,
        )
    except IntegrityError:
        # Copied at the same moment by another delivery of this task: keep theirs.
        storage.objects_delete([image, thumb])
        return Photo.objects.filter(prompt=prompt, index=index).first()
