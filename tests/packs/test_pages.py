from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from packs.models import Pack, PackSample
from packs.templating import template_check
from tests.images import photo_bytes

pytestmark = pytest.mark.django_db


def test_the_demo_packs_are_there_and_their_templates_render():
    slugs = set(Pack.objects.active().values_list("slug", flat=True))
    assert {"corporate-headshots", "van-gogh-portraits", "space-explorers"} <= slugs
    for pack in Pack.objects.all():
        assert pack.prompts.exists()
        for prompt in pack.prompts.all():
            template_check(prompt.template)


def test_anyone_can_browse_the_packs(client):
    response = client.get("/packs/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Corporate headshots" in text and "10 credits" in text


def test_a_pack_page_lists_its_scenes(client):
    response = client.get("/packs/van-gogh-portraits/")
    assert response.status_code == 200
    page = response.content.decode()
    # The scenes in plain words, as the gallery heads them: the person is "you".
    assert "A painting of you in the style of Van Gogh, swirling starry night sky" in page
    assert "In a field of sunflowers, oil painting" in page
    assert "{subject}" not in page and "painting of  in" not in page


def test_an_inactive_pack_is_not_shown(client):
    Pack.objects.filter(slug="space-explorers").update(is_active=False)
    assert client.get("/packs/space-explorers/").status_code == 404
    assert b"Space explorers" not in client.get("/packs/").content


def test_covers_and_samples_are_served(client):
    pack = Pack.objects.get(slug="corporate-headshots")
    pack.cover = SimpleUploadedFile("cover.jpg", photo_bytes((800, 600)))
    pack.save()
    sample = PackSample.objects.create(
        pack=pack, image=SimpleUploadedFile("s.jpg", photo_bytes((600, 600), seed=2))
    )
    page = client.get("/packs/").content.decode()
    assert f"/packs/{pack.slug}/images/cover/" in page
    assert f"/packs/{pack.slug}/images/{sample.pk}/" in page
    for url in (f"/packs/{pack.slug}/images/cover/", f"/packs/{pack.slug}/images/{sample.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert client.get(f"/packs/{pack.slug}/images/999999/").status_code == 404
    other = Pack.objects.get(slug="van-gogh-portraits")
    assert client.get(f"/packs/{other.slug}/images/{sample.pk}/").status_code == 404
