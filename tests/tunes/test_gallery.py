"""The tune page, the gallery and its downloads; and who may see them."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photo, Tune
from uploads import storage


@pytest.fixture
def finished(portal, funded_owner, pack) -> Tune:
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    return tune


def urls(tune: Tune) -> list[tuple[str, str]]:
    photo = tune.photos.first()
    base = f"/tunes/{tune.code}"
    return [
        ("get", f"{base}/"),
        ("get", f"{base}/status/"),
        ("get", f"{base}/photos.zip"),
        ("get", f"{base}/photos/{photo.code}/"),
        ("post", f"{base}/photos/{photo.code}/like/"),
        ("get", f"{base}/photos/{photo.code}/download/"),
        ("get", f"/tunes/new/?set={tune.selfie_set.code}"),
    ]


def test_anonymous_users_are_sent_to_login(client, finished):
    photo = finished.photos.first()
    signed = storage.private_url(photo.thumbnail, owner=finished.owner)
    for method, url in [
        *urls(finished),
        ("get", "/dashboard/"),
        ("post", "/tunes/start/"),
        ("get", signed),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_another_user_gets_404_everywhere(client, finished, other_user):
    client.force_login(other_user)
    for method, url in urls(finished):
        assert getattr(client, method)(url).status_code == 404, url
    signed = storage.private_url(finished.photos.first().thumbnail, owner=finished.owner)
    assert client.get(signed).status_code == 404
    assert not Photo.objects.filter(liked=True).exists()


def test_the_dashboard_lists_the_users_tunes_with_a_cover(client, finished, other_user):
    client.force_login(finished.owner)
    text = client.get("/dashboard/").content.decode()
    assert "Studio" in text and "Ready · 6 photos" in text
    assert "/private/" in text  # the cover thumbnail, signed
    client.force_login(other_user)
    assert "Studio" not in client.get("/dashboard/").content.decode()


def test_the_tune_page_shows_the_gallery_and_the_status(client, finished):
    client.force_login(finished.owner)
    page = client.get(f"/tunes/{finished.code}/").content.decode()
    assert page.count('class="photo done"') == 6
    assert "Download all as a zip" in page
    status = client.get(f"/tunes/{finished.code}/status/").json()
    assert status["status"] == "ready" and status["final"] is True
    assert status["scenes"] == {"done": 3, "failed": 0, "total": 3}
    assert len(status["photos"]) == 6


def test_a_photo_has_previous_and_next_and_can_be_liked_and_unliked(client, finished):
    client.force_login(finished.owner)
    photos = list(finished.photos.all())
    page = client.get(f"/tunes/{finished.code}/photos/{photos[1].code}/").content.decode()
    assert f"/photos/{photos[0].code}/" in page and f"/photos/{photos[2].code}/" in page
    assert "Photo 2 of 6" in page
    like = f"/tunes/{finished.code}/photos/{photos[1].code}/like/"
    assert client.post(like, headers={"Accept": "application/json"}).json() == {"liked": True}
    assert Photo.objects.get(pk=photos[1].pk).liked
    client.post(like, {"liked": "0"})
    assert not Photo.objects.get(pk=photos[1].pk).liked


def test_one_photo_downloads_as_a_jpeg(client, finished):
    client.force_login(finished.owner)
    photo = finished.photos.first()
    response = client.get(f"/tunes/{finished.code}/photos/{photo.code}/download/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.format == "JPEG"


def test_all_photos_download_as_a_zip_of_jpegs(client, finished):
    client.force_login(finished.owner)
    response = client.get(f"/tunes/{finished.code}/photos.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == 6 and all(n.endswith(".jpg") for n in names)
    for name in names:
        with Image.open(io.BytesIO(archive.read(name))) as image:
            assert image.format == "JPEG"


def test_starting_from_the_page_redirects_to_the_tune(client, portal, funded_owner, pack):
    selfie_set = ready_selfie_set(funded_owner)
    client.force_login(funded_owner)
    page = client.get(f"/tunes/new/?set={selfie_set.code}").content.decode()
    assert "Start for 9 credits" in page
    token = page.split('name="start_token" value="')[1].split('"')[0]
    form = {"selfie_set": str(selfie_set.code), "pack": pack.slug, "start_token": token}
    first = client.post("/tunes/start/", form)
    again = client.post("/tunes/start/", form)  # a double click
    tune = Tune.objects.get()
    assert first["Location"] == again["Location"] == f"/tunes/{tune.code}/"


def test_starting_without_credits_says_so(client, portal, owner, pack):
    selfie_set = ready_selfie_set(owner)
    client.force_login(owner)
    form = {"selfie_set": str(selfie_set.code), "pack": pack.slug, "start_token": "1" * 32}
    response = client.post("/tunes/start/", form, follow=True)
    assert "This needs 9 credits and you have 0." in response.content.decode()
    assert not Tune.objects.exists()


def test_a_large_gallery_is_zipped_once_by_a_worker_then_downloaded(client, finished, settings):
    settings.ZIP_INLINE_MAX_PHOTOS = 2
    client.force_login(finished.owner)
    waiting = client.get(f"/tunes/{finished.code}/photos.zip")
    assert waiting.status_code == 202
    assert "Preparing your zip" in waiting.content.decode()
    finished.refresh_from_db()
    assert finished.zip_file.endswith(".zip")  # built (eagerly here) into private storage
    response = client.get(f"/tunes/{finished.code}/photos.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert len(archive.namelist()) == 6


def test_a_malformed_set_code_is_a_404_not_a_crash(client, owner):
    client.force_login(owner)
    assert client.get("/tunes/new/?set=not-a-uuid").status_code == 404
    assert client.get("/tunes/new/").status_code == 404


def test_a_large_gallery_comes_a_page_at_a_time_with_the_same_queries(client, owner, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories

    settings.GALLERY_PAGE_SIZE = 24
    tune = factories.TuneFactory(owner=owner, status="ready")
    prompts = [factories.PromptFactory(tune=tune, order=n) for n in range(8)]
    for n in range(30):
        factories.PhotoFactory(prompt=prompts[n // 4], index=n % 4)
    client.force_login(owner)

    with CaptureQueriesContext(connection) as first:
        page = client.get(f"/tunes/{tune.code}/").content.decode()
    assert page.count('class="photo done"') == 24
    assert "Photos 1–24 of 30" in page and 'href="?page=2"' in page
    with CaptureQueriesContext(connection) as second:
        page = client.get(f"/tunes/{tune.code}/?page=2").content.decode()
    assert page.count('class="photo done"') == 6
    assert "Photos 25–30 of 30" in page and 'href="?page=1"' in page
    assert len(first) == len(second)
    # A page past the end, or not a number, shows a real page instead of an error.
    assert client.get(f"/tunes/{tune.code}/?page=99").status_code == 200
    assert client.get(f"/tunes/{tune.code}/?page=x").status_code == 200
