"""Results are copied only from allowed origins, following redirects only between them, into
the folder of whoever the photoshoot's photos belong to."""

from __future__ import annotations

import re

import pytest

from tests.astria.conftest import loopback  # noqa: F401 - fixture
from tunes.ingest import IngestError, result_fetch


@pytest.fixture
def hosts(settings, loopback):  # noqa: F811
    settings.ASTRIA_BASE_URL = "https://api.astria.ai"
    settings.ASTRIA_IMAGE_HOSTS = [loopback.url]  # http, its port: allowed outside production
    return loopback


def test_an_image_from_an_allowed_host_is_fetched_and_verified(hosts):
    fetched = result_fetch(f"{hosts.url}/photo-0.jpeg")
    assert (fetched.width, fetched.height) == (768, 1024)


def test_a_host_outside_the_list_is_refused(settings, hosts):
    settings.ASTRIA_IMAGE_HOSTS = []
    with pytest.raises(IngestError, match=re.escape(f"refused to fetch from {hosts.url}")) as info:
        result_fetch(f"{hosts.url}/photo-0.jpeg")
    assert not info.value.transient


def test_a_redirect_to_another_host_is_refused(hosts):
    hosts.files["/redirect"] = (b"", "text/plain")
    hosts.redirects = {"/redirect": "http://169.254.169.254/latest/meta-data/"}
    with pytest.raises(
        IngestError, match=re.escape("refused to fetch from http://169.254.169.254:80")
    ):
        result_fetch(f"{hosts.url}/redirect")


def test_what_is_not_an_image_is_refused(hosts):
    with pytest.raises(IngestError, match="not an image"):
        result_fetch(f"{hosts.url}/not-an-image.jpeg")


def test_a_result_over_the_size_cap_is_refused(settings, hosts):
    settings.PHOTO_MAX_BYTES = 1000
    with pytest.raises(IngestError, match="larger than allowed"):
        result_fetch(f"{hosts.url}/photo-0.jpeg")


@pytest.mark.django_db
def test_a_copy_for_an_earlier_attempt_at_the_scene_does_nothing(hosts):
    from tests import factories
    from tunes.ingest import photo_ingest
    from tunes.models import Photo

    prompt = factories.PromptFactory(status="submitted", astria_id=222)
    url = f"{hosts.url}/photo-0.jpeg"
    assert photo_ingest(prompt_id=prompt.pk, index=0, url=url, astria_id=111) is None
    assert not Photo.objects.exists()
    assert photo_ingest(prompt_id=prompt.pk, index=0, url=url, astria_id=222) is not None
    assert Photo.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "folder"), [("customer", "photos"), ("preview", "previews")])
def test_a_result_is_kept_in_its_photoshoots_folder(hosts, kind, folder):
    from django.core.files.storage import storages

    from tests import factories
    from tunes.ingest import photo_ingest
    from uploads.storage import owner_prefix

    photoshoot = factories.PhotoshootFactory(kind=kind, status="generating")
    prompt = factories.PromptFactory(photoshoot=photoshoot, status="submitted", astria_id=5)
    photo = photo_ingest(prompt_id=prompt.pk, index=0, url=f"{hosts.url}/photo-0.jpeg")
    assert photo is not None and photo.photoshoot == photoshoot
    # A customer's photos are in their folder; a preview's in the studio's, for every creative.
    owner = photoshoot.owner if kind == "customer" else None
    assert photoshoot.storage_owner == owner
    for name in (photo.image, photo.thumbnail):
        assert name.startswith(f"{owner_prefix(owner)}/{folder}/")
        assert storages["default"].exists(name)
