"""The result copier (tunes/ingest.py) reaches only the scheme, host and port of its allow-list,
at every redirect hop, and only https in production. A refusal happens before a connection: URLs
of outside hosts are only ever checked, never fetched, and a loopback port that counts
connections shows that a refused loopback URL was never reached."""

from __future__ import annotations

import pytest

from tests.astria.conftest import loopback  # noqa: F401 - fixture
from tests.photoshoot.test_settings import PRODUCTION, manage
from tests.security.listener import listener  # noqa: F401 - fixture
from tunes import ingest
from tunes.ingest import IngestError, result_fetch


@pytest.fixture
def astria(settings, loopback):  # noqa: F811
    """The loopback server plays Astria on plain http, as the sandbox does in development."""
    settings.ASTRIA_BASE_URL = loopback.url
    settings.ASTRIA_IMAGE_HOSTS = ["sdbooth2-production.s3.amazonaws.com"]
    settings.ASTRIA_IMAGE_HTTPS_ONLY = False
    return loopback


def refused(url: str) -> IngestError:
    with pytest.raises(IngestError, match="refused to fetch") as info:
        result_fetch(url)
    assert not info.value.transient
    return info.value


def test_it_copies_from_astrias_own_origin_in_development(astria):
    assert result_fetch(f"{astria.url}/photo-0.jpeg").width == 768


def test_under_production_rules_http_is_refused_even_from_astrias_own_origin(
    settings,
    listener,  # noqa: F811
):
    settings.ASTRIA_BASE_URL = listener.url
    settings.ASTRIA_IMAGE_HTTPS_ONLY = True
    refused(f"{listener.url}/photo-0.jpeg")
    assert listener.connections() == 0


def test_astrias_host_on_another_port_is_refused(astria, listener):  # noqa: F811
    refused(f"http://127.0.0.1:{listener.port}/photo-0.jpeg")
    assert listener.connections() == 0


def test_a_redirect_to_another_port_is_refused_before_it_is_followed(astria, listener):  # noqa: F811
    astria.redirects["/result"] = f"http://127.0.0.1:{listener.port}/photo-0.jpeg"
    error = refused(f"{astria.url}/result")
    assert str(error) == f"refused to fetch from http://127.0.0.1:{listener.port}"
    assert listener.connections() == 0


def test_a_redirect_to_http_on_an_allowed_host_and_port_is_refused(
    settings,
    astria,
    listener,  # noqa: F811
):
    # Allowed on this port, but entries of the list are https only.
    settings.ASTRIA_IMAGE_HOSTS = [f"127.0.0.1:{listener.port}"]
    astria.redirects["/result"] = f"http://127.0.0.1:{listener.port}/photo-0.jpeg"
    refused(f"{astria.url}/result")
    assert listener.connections() == 0


@pytest.fixture
def production_rules(settings):
    settings.ASTRIA_BASE_URL = "https://api.astria.ai"
    settings.ASTRIA_IMAGE_HOSTS = [
        "api.astria.ai",
        "sdbooth2-production.s3.amazonaws.com",
        "mp.astria.ai",
    ]
    settings.ASTRIA_IMAGE_HTTPS_ONLY = True


@pytest.mark.parametrize(
    "url",
    [
        "https://sdbooth2-production.s3.amazonaws.com/results/1.jpg",
        "https://sdbooth2-production.s3.amazonaws.com:443/results/1.jpg",
        "https://api.astria.ai/rails/active_storage/blobs/redirect/x/1.jpg",
        "HTTPS://MP.astria.ai/1.jpg",
    ],
)
def test_production_rules_accept_the_lists_hosts_over_https_on_443(production_rules, url):
    ingest.result_url_check(url)  # a check only: nothing is fetched


@pytest.mark.parametrize(
    "url",
    [
        "http://sdbooth2-production.s3.amazonaws.com/results/1.jpg",
        "http://api.astria.ai/1.jpg",
        "https://sdbooth2-production.s3.amazonaws.com:8443/results/1.jpg",
        "https://api.astria.ai:80/1.jpg",
        "https://mp.astria.ai.example.com/1.jpg",
        "https://api.astria.ai@169.254.169.254/latest/meta-data/",
        "https://api.astria.ai:99999/1.jpg",
        "https://api.astria.ai\\@169.254.169.254/",
        "ftp://api.astria.ai/1.jpg",
        "file:///etc/passwd",
        "//api.astria.ai/1.jpg",
    ],
)
def test_production_rules_refuse_other_schemes_hosts_and_ports(production_rules, url):
    with pytest.raises(IngestError, match="refused to fetch") as info:
        ingest.result_url_check(url)
    assert not info.value.transient


def test_production_settings_allow_only_https():
    show = "from django.conf import settings as s; print(s.ASTRIA_IMAGE_HTTPS_ONLY)"
    result = manage("shell", "--no-imports", "-c", show, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    result = manage("shell", "--no-imports", "-c", show, DJANGO_ENV="development")
    assert result.stdout.strip() == "False"
