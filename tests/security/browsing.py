"""What the security tests do as a browser would: log in, follow redirects, and tell whether a
redirect stays on the site (only the Location header is read; nothing leaves the test client)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from tests.factories import PASSWORD

ADMIN = f"/{settings.ADMIN_URL}"
REDIRECTS = (301, 302, 303, 307, 308)


def on_site(location: str) -> bool:
    """Whether a browser following `location` from http://testserver/ stays on it.

    Browsers drop leading spaces and control characters, tabs and newlines anywhere, and read
    a backslash as a slash; a scheme without `//` still names a host when it differs from the
    page's (https:evil.example). So: a path that starts with one slash, or this very host.
    """
    url = re.sub(r"[\t\n\r]", "", location).lstrip("".join(map(chr, range(0x21))))
    url = url.replace("\\", "/")
    if url.startswith("/"):
        return not url.startswith("//")
    parts = urlsplit(url)
    if not parts.scheme:
        return ":" not in url.split("/")[0]  # a relative path on this site
    return parts.scheme in ("http", "https") and parts.netloc == "testserver"


def assert_stays(response: HttpResponse, what: str) -> None:
    location = response.get("Location")
    assert location is None or on_site(location), f"{what} sent the browser to {location!r}"


def follow(client: Client, response: HttpResponse, what: str) -> tuple[HttpResponse, list[str]]:
    """Follow redirects as a browser would, each one checked to stay on the site; the last
    answer and the locations on the way."""
    hops: list[str] = []
    for _ in range(8):
        if response.status_code not in REDIRECTS:
            return response, hops
        assert_stays(response, what)
        hops.append(response["Location"])
        response = client.get(response["Location"])
    pytest.fail(f"{what}: more than 8 redirects: {hops}")


def portal_login(client: Client, email: str, password: str = PASSWORD) -> None:
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def admin_login(
    client: Client, email: str, *, query: dict[str, str] | None = None
) -> tuple[HttpResponse, list[str]]:
    """Log in from admin's login page, wherever it sends the browser to do so (its own form,
    or the portal's), and follow what comes after; the last answer and the hops after the
    form. Fails unless admin's index is then open."""
    page, hops = follow(client, client.get(f"{ADMIN}login/", query or {}), "admin login page")
    assert page.status_code == 200, hops
    form_url = page.wsgi_request.get_full_path()
    response = client.post(form_url, {"login": email, "username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    landed, after = follow(client, response, "admin login")
    assert client.get(ADMIN).status_code == 200, "not signed in to admin"
    return landed, [response["Location"], *after]
