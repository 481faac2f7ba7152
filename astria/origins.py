"""Origins, the (scheme, host, port) a URL connects to, for the allow-lists of what may be fetched.

The portal copies Astria's results by following links, and the sandbox downloads the
`image_urls` it is sent: URLs from outside. Each hop is checked against an allow-list of
origins before anything is sent, so neither can be steered at another host, or at another port
of an allowed one. Python's URL parser and the one `requests` connects with (urllib3's) do not
always agree (`https://a.example\\@b.example/`); a URL they read differently is no origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def origin_of(url: str) -> Origin | None:
    """Where `url` would connect, or None: not http(s), no host, a bad port, or a URL that
    the two parsers read differently."""
    try:
        ours, theirs = urlsplit(url), parse_url(url)
        port = ours.port
    except (ValueError, LocationParseError):
        return None
    scheme = ours.scheme.lower()
    host = ours.hostname or ""
    if scheme not in DEFAULT_PORTS or not host:
        return None
    connected = ((theirs.scheme or "").lower(), (theirs.host or "").strip("[]").lower())
    if connected != (scheme, host) or theirs.port != port:
        return None
    return Origin(scheme, host, DEFAULT_PORTS[scheme] if port is None else port)


def origin_entry(entry: str) -> Origin:
    """One allow-list entry: `host` or `host:port` (https, port 443 unless given), or a URL
    whose scheme, host and port are taken (`http://127.0.0.1:9000`)."""
    origin = origin_of(entry.strip() if "://" in entry else f"https://{entry.strip()}")
    if origin is None:
        raise ValueError(f"not a host, host:port or http(s) URL: {entry!r}")
    return origin


def origins_of(entries: list[str]) -> set[Origin]:
    return {origin_entry(entry) for entry in entries}
