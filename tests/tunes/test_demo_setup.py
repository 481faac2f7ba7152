"""`manage.py demo_setup` gives the demo packs pictures and the demo account a finished sample
photoshoot, all drawn by the project, once however often it runs."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from PIL import Image

from accounts.models import CreditEntry, User
from packs.models import Pack, PackSample
from tests import factories
from tunes import demo
from tunes.models import Photo, Photoshoot, TrainedModel
from tunes.training import models_expired_mark

pytestmark = pytest.mark.django_db

DEMO_SLUGS = ["corporate-headshots", "van-gogh-portraits", "space-explorers"]


def opened(name: str) -> Image.Image:
    with storages["default"].open(name) as f:
        image = Image.open(io.BytesIO(f.read()))
        image.load()
    return image


@pytest.fixture
def demo_twice(capsys, settings) -> User:
    settings.SIGNUP_FREE_CREDITS = 20
    call_command("demo_setup")
    first = capsys.readouterr().out
    assert "Drew 13 cover and sample pictures" in first  # 3 covers, 4 + 3 + 3 samples
    assert "Added a sample photoshoot (Corporate headshots)" in first
    call_command("demo_setup")
    again = capsys.readouterr().out
    assert "Drew" not in again and "Added" not in again
    assert "Reusing the demo account" in again
    return User.objects.get(email=settings.DEMO_EMAIL)


def test_it_makes_one_ready_sample_photoshoot_whose_photos_open(demo_twice):
    [photoshoot] = Photoshoot.objects.for_user(demo_twice)
    assert photoshoot.status == "ready" and photoshoot.pack.slug == "corporate-headshots"
    assert list(photoshoot.prompts.values_list("status", flat=True)) == ["done"] * 4
    photos = list(Photo.objects.filter(photoshoot=photoshoot))
    assert len(photos) == 8
    for photo in photos:
        image = opened(photo.image)
        assert image.format == "JPEG" and image.size == (photo.width, photo.height)
        assert max(opened(photo.thumbnail).size) == 512
        # Stored like results: in the owner's folder, under random keys.
        assert photo.image.startswith("u/") and "/photos/" in photo.image

    # Free, and no purchase in the ledger: only the welcome credits.
    entries = list(CreditEntry.objects.filter(user=demo_twice).values_list("kind", "amount"))
    assert entries == [("grant", 20)]
    demo_twice.refresh_from_db()
    assert demo_twice.credits == 20
    assert photoshoot.price == 0

    # Its model has no tune at Astria: nothing can be started on it.
    model = TrainedModel.objects.get(owner=demo_twice)
    assert model.status == "ready" and model.astria_id is None
    assert not TrainedModel.objects.usable().filter(pk=model.pk).exists()
    assert models_expired_mark() == 1  # beat's sweep says so on the models page


def test_every_demo_pack_gets_a_cover_and_samples_its_page_shows(client, demo_twice):
    for pack in Pack.objects.filter(slug__in=DEMO_SLUGS):
        assert opened(pack.cover.name).size == demo.COVER_SIZE
        samples = list(pack.samples.all())
        assert len(samples) == pack.prompts.count()
        for sample in samples:
            assert opened(sample.image.name).format == "JPEG"

    pack = Pack.objects.get(slug="van-gogh-portraits")
    page = client.get("/packs/van-gogh-portraits/").content.decode()
    assert 'src="/packs/van-gogh-portraits/images/cover/"' in page
    shown = re.findall(r'src="/packs/van-gogh-portraits/images/(\d+)/"', page)
    assert shown == [str(s.pk) for s in pack.samples.all()]
    for url in [
        "/packs/van-gogh-portraits/images/cover/",
        f"/packs/van-gogh-portraits/images/{shown[0]}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"
    listing = client.get("/packs/").content.decode()
    assert listing.count("/images/cover/") >= 3


def test_the_dashboard_and_gallery_show_the_sample(client, demo_twice):
    client.force_login(demo_twice)
    photoshoot = Photoshoot.objects.get(owner=demo_twice)
    page = client.get("/dashboard/").content.decode()
    assert f"/photoshoots/{photoshoot.code}/" in page
    assert "8 photos" in page
    cover = re.search(r'<img [^>]*src="(/private/\?t=[^"]+)"', page).group(1)
    response = client.get(cover.replace("&amp;", "&"))
    assert response.status_code == 200
    gallery = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    for photo in Photo.objects.filter(photoshoot=photoshoot):
        assert str(photo.code) in gallery


def test_a_lost_file_is_drawn_again_and_a_pack_keeps_its_own_cover(capsys):
    call_command("demo_setup")
    pack = Pack.objects.get(slug="space-explorers")
    storages["default"].delete(pack.cover.name)
    own = Pack.objects.get(slug="corporate-headshots")
    own.cover.save("mine.jpg", ContentFile(b"not drawn here"), save=True)
    capsys.readouterr()
    call_command("demo_setup")
    assert "Drew 1 cover and sample pictures" in capsys.readouterr().out
    pack.refresh_from_db()
    assert opened(pack.cover.name).size == demo.COVER_SIZE
    assert Pack.objects.get(pk=own.pk).cover.name == own.cover.name
    assert PackSample.objects.filter(pack=pack).count() == 3


def test_a_demo_account_made_before_gets_its_sample_once(settings):
    settings.SIGNUP_FREE_CREDITS = 0
    user = factories.UserFactory(email=settings.DEMO_EMAIL)
    call_command("demo_setup")
    call_command("demo_setup")
    assert Photoshoot.objects.filter(owner=user).count() == 1
