"""The photoshoot page, the gallery and its downloads, the models page; and who may see them."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.utils.timezone import localdate
from PIL import Image

from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photo, Photoshoot, Prompt, TrainedModel
from uploads import storage


@pytest.fixture
def finished(portal, funded_owner, pack) -> Photoshoot:
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    return photoshoot


def urls(photoshoot: Photoshoot) -> list[tuple[str, str]]:
    photo = photoshoot.photos.first()
    base = f"/photoshoots/{photoshoot.code}"
    return [
        ("get", f"{base}/"),
        ("get", f"{base}/status/"),
        ("get", f"{base}/photos.zip"),
        ("get", f"{base}/photos/{photo.code}/"),
        ("post", f"{base}/photos/{photo.code}/like/"),
        ("post", f"{base}/photos/{photo.code}/more/"),
        ("get", f"{base}/photos/{photo.code}/download/"),
        ("get", f"/photoshoots/new/?set={photoshoot.model.selfie_set.code}"),
        ("post", f"/models/{photoshoot.model.code}/idea/"),
    ]


def test_anonymous_users_are_sent_to_login(client, finished):
    photo = finished.photos.first()
    signed = storage.private_url(photo.thumbnail, owner=finished.owner)
    for method, url in [
        *urls(finished),
        ("get", "/dashboard/"),
        ("get", "/models/"),
        ("post", "/photoshoots/start/"),
        ("get", signed),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_another_user_gets_404_everywhere(client, finished, other_user):
    from accounts.credits import credits_grant

    credits_grant(user=other_user, amount=20, reason="Test credits")
    client.force_login(other_user)
    for method, url in urls(finished):
        assert getattr(client, method)(url).status_code == 404, url
    signed = storage.private_url(finished.photos.first().thumbnail, owner=finished.owner)
    assert client.get(signed).status_code == 404
    assert not Photo.objects.filter(liked=True).exists()
    # Nothing was started on the owner's model, nor paid.
    assert Photoshoot.objects.count() == 1 and Prompt.objects.count() == 3
    other_user.refresh_from_db()
    assert other_user.credits == 20


def test_the_dashboard_lists_the_users_photoshoots_with_a_cover(client, finished, other_user):
    client.force_login(finished.owner)
    text = client.get("/dashboard/").content.decode()
    assert "Studio" in text and '<span class="status-pill ready">Ready</span> · 6 photos' in text
    assert f"/photoshoots/{finished.code}/" in text
    assert "/private/" in text  # the cover thumbnail, signed
    client.force_login(other_user)
    assert "Studio" not in client.get("/dashboard/").content.decode()


def test_the_models_page_lists_the_users_models_and_how_long_they_last(
    client, finished, other_user
):
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    client.force_login(finished.owner)
    text = client.get("/models/").content.decode()
    model = finished.model
    assert "Me" in text and "1 photoshoot" in text
    until = date_format(localtime(model.expires_at), "j F")
    assert f"Ready for new photoshoots until {until}." in text
    assert f"/photoshoots/new/?set={model.selfie_set.code}" in text
    client.force_login(other_user)
    text = client.get("/models/").content.decode()
    assert "No model yet" in text and str(model.selfie_set.code) not in text


def test_the_photoshoot_page_shows_the_gallery_and_the_status(client, finished):
    client.force_login(finished.owner)
    page = client.get(f"/photoshoots/{finished.code}/").content.decode()
    assert page.count('class="photo done"') == 6
    assert "Download all as a zip" in page
    # Another pack on the same model is one click away.
    assert f"/photoshoots/new/?set={finished.model.selfie_set.code}" in page
    status = client.get(f"/photoshoots/{finished.code}/status/").json()
    assert status["status"] == "ready" and status["final"] is True
    assert status["scenes"] == {"done": 3, "failed": 0, "total": 3}
    assert len(status["photos"]) == 6


def test_while_its_model_trains_the_page_shows_the_models_progress(
    client, portal, funded_owner, pack
):
    portal.configure(never_train=True)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    client.force_login(funded_owner)
    status = client.get(f"/photoshoots/{photoshoot.code}/status/").json()
    assert status["status"] == "training" and status["final"] is False
    assert status["label"] == TrainedModel.Status.TRAINING.label
    assert status["photos"] == []
    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert 'id="photoshoot-progress"' in page and 'data-final="0"' in page
    assert "This photoshoot trains your model first" in page


def test_a_photo_has_previous_and_next_and_can_be_liked_and_unliked(client, finished):
    client.force_login(finished.owner)
    photos = list(finished.photos.all())
    page = client.get(f"/photoshoots/{finished.code}/photos/{photos[1].code}/").content.decode()
    assert f"/photos/{photos[0].code}/" in page and f"/photos/{photos[2].code}/" in page
    assert "Photo 2 of 6" in page
    like = f"/photoshoots/{finished.code}/photos/{photos[1].code}/like/"
    assert client.post(like, headers={"Accept": "application/json"}).json() == {"liked": True}
    assert Photo.objects.get(pk=photos[1].pk).liked
    client.post(like, {"liked": "0"})
    assert not Photo.objects.get(pk=photos[1].pk).liked


def test_one_photo_downloads_as_a_jpeg_named_after_the_pack_the_day_and_the_photo(client, finished):
    client.force_login(finished.owner)
    photo = finished.photos.all()[2]
    response = client.get(f"/photoshoots/{finished.code}/photos/{photo.code}/download/")
    assert response.status_code == 200
    day = localdate(finished.created_at).isoformat()
    name = f"{finished.slug}-{day}-{photo.code.hex[:8]}.jpg"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.format == "JPEG"


def test_all_photos_download_as_a_zip_of_jpegs(client, finished):
    client.force_login(finished.owner)
    response = client.get(f"/photoshoots/{finished.code}/photos.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    day = localdate(finished.created_at).isoformat()
    assert names == [f"{finished.slug}-{day}-{p.code.hex[:8]}.jpg" for p in finished.photos.all()]
    assert response["Content-Disposition"] == (
        f'attachment; filename="{finished.slug}-{day}-photos.zip"'
    )
    for name in names:
        with Image.open(io.BytesIO(archive.read(name))) as image:
            assert image.format == "JPEG"


def start_form(client, selfie_set) -> dict[str, str]:
    """The first pack's start form as the page shows it (its price included)."""
    page = client.get(f"/photoshoots/new/?set={selfie_set.code}").content.decode()

    def field(name: str) -> str:
        return page.split(f'name="{name}" value="')[1].split('"')[0]

    return {name: field(name) for name in ("selfie_set", "pack", "price", "start_token")}


def test_starting_from_the_page_redirects_to_the_photoshoot(client, portal, funded_owner, pack):
    selfie_set = ready_selfie_set(funded_owner)
    client.force_login(funded_owner)
    page = client.get(f"/photoshoots/new/?set={selfie_set.code}").content.decode()
    assert "Start for 9 credits" in page and "Includes training your model." in page
    form = start_form(client, selfie_set)
    assert form["pack"] == pack.slug and form["price"] == "9"
    first = client.post("/photoshoots/start/", form)
    again = client.post("/photoshoots/start/", form)  # a double click
    photoshoot = Photoshoot.objects.get()
    assert first["Location"] == again["Location"] == f"/photoshoots/{photoshoot.code}/"
    assert TrainedModel.objects.count() == 1


def test_a_second_pack_on_the_trained_model_shows_its_lower_price(client, finished, funded_owner):
    client.force_login(funded_owner)
    selfie_set = finished.model.selfie_set
    page = client.get(f"/photoshoots/new/?set={selfie_set.code}").content.decode()
    assert "Start for 4 credits" in page and "On your model: no training." in page
    assert "Your model of these selfies is trained" in page
    response = client.post("/photoshoots/start/", start_form(client, selfie_set))
    second = Photoshoot.objects.exclude(pk=finished.pk).get()
    assert response["Location"] == f"/photoshoots/{second.code}/"
    assert second.model_id == finished.model_id and second.price == 4


def test_a_start_at_a_price_that_has_changed_starts_nothing_and_says_the_new_price(
    client, portal, funded_owner, pack
):
    selfie_set = ready_selfie_set(funded_owner)
    client.force_login(funded_owner)
    form = {**start_form(client, selfie_set), "price": "4"}  # a page shown before a change
    response = client.post("/photoshoots/start/", form, follow=True)
    assert "“Studio” now trains a new one first and costs 9 credits." in (response.content.decode())
    assert not Photoshoot.objects.exists() and not TrainedModel.objects.exists()
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20


def test_starting_without_credits_says_so(client, portal, owner, pack):
    selfie_set = ready_selfie_set(owner)
    client.force_login(owner)
    # The page says so before any button (tests/tunes/test_dead_ends.py); a page left open
    # while the credits went elsewhere still sends this form.
    form = {"selfie_set": selfie_set.code, "pack": pack.slug, "price": 9, "start_token": "1" * 32}
    response = client.post("/photoshoots/start/", form, follow=True)
    assert "This needs 9 credits and you have 0." in response.content.decode()
    assert not Photoshoot.objects.exists() and not TrainedModel.objects.exists()


def test_a_large_gallery_is_zipped_once_by_a_worker_then_downloaded(client, finished, settings):
    settings.ZIP_INLINE_MAX_PHOTOS = 2
    client.force_login(finished.owner)
    waiting = client.get(f"/photoshoots/{finished.code}/photos.zip")
    assert waiting.status_code == 202
    assert "Preparing your zip" in waiting.content.decode()
    finished.refresh_from_db()
    assert finished.zip_file.endswith(".zip")  # built (eagerly here) into private storage
    response = client.get(f"/photoshoots/{finished.code}/photos.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert len(archive.namelist()) == 6


def test_a_malformed_set_code_is_a_404_not_a_crash(client, owner):
    client.force_login(owner)
    assert client.get("/photoshoots/new/?set=not-a-uuid").status_code == 404


def test_a_large_gallery_comes_a_page_at_a_time_with_the_same_queries(client, owner, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories

    settings.GALLERY_PAGE_SIZE = 24
    photoshoot = factories.PhotoshootFactory(owner=owner, status="ready")
    prompts = [factories.PromptFactory(photoshoot=photoshoot, order=n) for n in range(8)]
    for n in range(30):
        factories.PhotoFactory(prompt=prompts[n // 4], index=n % 4)
    client.force_login(owner)

    with CaptureQueriesContext(connection) as first:
        page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert page.count('class="photo done"') == 24
    assert "Photos 1–24 of 30" in page and 'href="?page=2"' in page
    with CaptureQueriesContext(connection) as second:
        page = client.get(f"/photoshoots/{photoshoot.code}/?page=2").content.decode()
    assert page.count('class="photo done"') == 6
    assert "Photos 25–30 of 30" in page and 'href="?page=1"' in page
    assert len(first) == len(second)
    # A page past the end, or not a number, shows a real page instead of an error.
    assert client.get(f"/photoshoots/{photoshoot.code}/?page=99").status_code == 200
    assert client.get(f"/photoshoots/{photoshoot.code}/?page=x").status_code == 200
