"""Where the sandbox serves its result files: on another host than its API's, as Astria does
(its `api.astria.ai/rails/active_storage/…` links redirect to storage elsewhere).

A portal that copied only from the API's own origin would pass against a one-host sandbox and
fail against Astria; with two hosts, its allow-list of image hosts (ASTRIA_IMAGE_HOSTS) is
exercised on every copy. Both names stay on loopback: 127.0.0.1 and localhost swap places. A
sandbox reached by any other name serves its files on that name.

Plain standard library, so that settings can name the files' origin before Django is set up.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_SWAP = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


def files_origin(api_url: str) -> str:
    """The origin (`scheme://host:port`) of the result files of the sandbox at `api_url`: the
    same scheme and port, on the other loopback name."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    host = LOOPBACK_SWAP.get(host, host)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}"
