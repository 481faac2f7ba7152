"""What the sandbox may reach: `image_urls` only on the portal's own storage, callbacks only on
the portal itself, and the origins of ASTRIA_SANDBOX_OUTBOUND_HOSTS (tests' stand-ins).

Astria fetches whatever it is sent. An emulator on a developer's machine that did, answering to
the well-known sandbox key, would be a port scanner of that machine and its network (a closed
port and a refused one answer differently). So every URL, and every redirect hop, is checked
before a connection is made, and anything else is refused with a 422.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin

import requests
from django.conf import settings
from django.core.files.storage import storages

from astria.origins import Origin, origin_of, origins_of

from . import render
from .errors import Refused

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 3
DOWNLOAD_TIMEOUT = (5, 20)
DOWNLOAD_DEADLINE = 60  # seconds for one image, however slowly its bytes trickle in
PROBE_NAME = "sandbox-origin-probe.jpg"

_downloads = requests.Session()


def storage_origins() -> set[Origin]:
    """Where the portal's storage serves its objects: the origin of the URLs it makes itself
    (S3's endpoint or bucket host, moto's port in tests), or PUBLIC_BASE_URL, whose signed
    endpoint serves local files. Asked of Django's storage rather than uploads.storage: the
    sandbox imports nothing of the portal."""
    url = urljoin(settings.PUBLIC_BASE_URL + "/", storages["default"].url(PROBE_NAME))
    return {origin for origin in [origin_of(url)] if origin}


def download_check(url: str, *, where: str) -> None:
    """Refuse, before any connection, an `image_urls` entry (or a hop of its redirects) that is
    not on the portal's storage."""
    allowed = storage_origins() | origins_of(settings.ASTRIA_SANDBOX_OUTBOUND_HOSTS)
    origin = origin_of(url)
    if origin is None or origin not in allowed:
        raise Refused(
            f"{where} must be a URL of the portal's own storage; the sandbox downloads nothing else"
        )


def callback_check(url: str | None) -> None:
    """Refuse a callback that is not on the portal itself: the request log would tell whoever
    reads it whether something answered there."""
    if not url:
        return
    allowed = {origin_of(settings.PUBLIC_BASE_URL)} | origins_of(
        settings.ASTRIA_SANDBOX_OUTBOUND_HOSTS
    )
    origin = origin_of(url)
    if origin is None or origin not in allowed:
        raise Refused(
            "callback must be a URL of the portal (PUBLIC_BASE_URL); "
            "the sandbox calls nothing else back"
        )


def download(url: str, *, index: int) -> bytes:
    """Fetch one `image_urls[]` entry as Astria does; a URL that is not an image is refused.

    Bounded in size, redirects and time. The URL is never logged or echoed: the portal's are
    signed.
    """
    where = f"image_urls[{index}]"
    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    content = bytearray()
    try:
        with _get_following(url, where=where) as response:
            if response.status_code != 200:
                raise Refused(f"{where} could not be downloaded (HTTP {response.status_code})")
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > MAX_DOWNLOAD_BYTES:
                    raise Refused(f"{where} is larger than 20 MB")
                if time.monotonic() > deadline:
                    raise Refused(f"{where} took too long to download")
    except requests.RequestException as exc:
        raise Refused(f"{where} could not be downloaded ({type(exc).__name__})") from None
    try:
        render.image_check(bytes(content))
    except render.NotAnImage as refused:
        raise Refused(f"{where} {refused}") from None
    return bytes(content)


def _get_following(url: str, *, where: str) -> requests.Response:
    """GET `url`, following up to three redirects, each hop checked before it is sent."""
    for _ in range(MAX_REDIRECTS + 1):
        download_check(url, where=where)
        response = _downloads.get(url, timeout=DOWNLOAD_TIMEOUT, stream=True, allow_redirects=False)
        if not response.is_redirect:
            return response
        url = urljoin(url, response.headers["Location"])
        response.close()
    raise Refused(f"{where} could not be downloaded (TooManyRedirects)")
