from __future__ import annotations

import pytest
from django.core.files.storage import storages
from PIL import ImageFilter

from tests.images import photo_bytes
from tests.uploads.conftest import stored, upload, upload_start
from uploads.models import Selfie, SelfieSet, SubjectClass

pytestmark = pytest.mark.django_db


def blurred(size=(1200, 1200)) -> bytes:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(photo_bytes(size))).filter(ImageFilter.GaussianBlur(12))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_it_lists_only_the_users_sets(client, owner, other_user, selfie_set):
    SelfieSet.objects.create(owner=other_user, name="Not yours", subject_class="man")
    client.force_login(owner)
    response = client.get("/sets/")
    assert b"Me, summer" in response.content
    assert b"Not yours" not in response.content


def test_the_new_set_form_speaks_plainly(client, owner):
    client.force_login(owner)
    page = client.get("/sets/new/").content.decode()
    assert ">Name of the set</label>" in page and ">Who is in the photos</label>" in page
    assert '<option value="" selected>Choose who…</option>' in page
    assert "---------" not in page


def test_it_creates_a_set_with_a_class(client, owner):
    client.force_login(owner)
    response = client.post("/sets/new/", {"name": "Portraits", "subject_class": "man"})
    selfie_set = SelfieSet.objects.get(owner=owner)
    assert response["Location"] == f"/sets/{selfie_set.code}/"
    assert selfie_set.subject_class == SubjectClass.MAN


def test_it_refuses_an_unknown_class(client, owner):
    client.force_login(owner)
    response = client.post("/sets/new/", {"name": "x", "subject_class": "dragon"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not SelfieSet.objects.exists()


def test_the_set_page_says_how_many_photos_and_why(client, owner, selfie_set):
    client.force_login(owner)
    response = client.get(f"/sets/{selfie_set.code}/")
    text = response.content.decode()
    assert "About 15 varied photos work best" in text
    assert "no sunglasses" in text and "half-body" in text


def test_it_renames_a_set(client, owner, selfie_set):
    client.force_login(owner)
    client.post(f"/sets/{selfie_set.code}/rename/", {"name": "Office shots"})
    selfie_set.refresh_from_db()
    assert selfie_set.name == "Office shots"


def test_deleting_a_set_removes_its_objects(
    client, owner, selfie_set, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    for seed in range(2):
        upload(client, selfie_set, f"{seed}.jpg", photo_bytes(seed=seed))
    pending = upload_start(client, selfie_set, "p.jpg", b"x" * 10, "image/jpeg").json()
    client.post(pending["url"], {**pending["fields"], "file": __import__("io").BytesIO(b"x")})
    names = [n for s in Selfie.objects.all() for n in (s.upload_key, s.image, s.thumbnail)]
    assert sum(stored(n) for n in names) == 5  # two photos with thumbnails, one pending upload

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/sets/{selfie_set.code}/delete/")

    assert response["Location"] == "/sets/"
    assert not SelfieSet.objects.exists() and not Selfie.objects.exists()
    assert not any(stored(n) for n in names)


def test_removing_a_photo_removes_its_objects(
    client, owner, selfie_set, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    upload(client, selfie_set, "a.jpg", photo_bytes())
    selfie = Selfie.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/sets/{selfie_set.code}/photos/{selfie.code}/delete/",
            headers={"Accept": "application/json"},
        )
    assert response.json() == {"deleted": str(selfie.code)}
    assert not stored(selfie.image) and not stored(selfie.thumbnail)


def test_a_set_holds_at_most_thirty_photos(client, owner, selfie_set, settings):
    settings.SELFIES_MAX = 2
    client.force_login(owner)
    for seed in range(2):
        upload(client, selfie_set, f"{seed}.jpg", photo_bytes(seed=seed))
    response = upload_start(client, selfie_set, "3.jpg", b"x" * 10, "image/jpeg")
    assert response.status_code == 422
    assert response.json()["error"].startswith("This set already has 2 photos")


def test_hints_help_without_blocking(client, owner, selfie_set):
    client.force_login(owner)
    first = upload(client, selfie_set, "a.jpg", photo_bytes((1600, 1600), seed=3))
    assert first.finish.json()["photo"]["hints"] == []

    again = upload(client, selfie_set, "b.jpg", photo_bytes((1600, 1600), seed=3, quality=70))
    soft = upload(client, selfie_set, "c.jpg", blurred())
    small = upload(client, selfie_set, "d.jpg", photo_bytes((700, 700), seed=5))

    assert any("Almost the same" in h for h in again.finish.json()["photo"]["hints"])
    assert any("blurry" in h for h in soft.finish.json()["photo"]["hints"])
    assert any("Low resolution" in h for h in small.finish.json()["photo"]["hints"])
    assert Selfie.objects.filter(status="ready").count() == 4


def test_dark_and_bright_photos_get_a_hint(client, owner, selfie_set):
    import io

    from PIL import Image, ImageEnhance

    client.force_login(owner)
    base = Image.open(io.BytesIO(photo_bytes((1200, 1200), seed=8)))
    hints = {}
    for name, factor in (("dark", 0.15), ("bright", 4.0)):
        out = io.BytesIO()
        ImageEnhance.Brightness(base).enhance(factor).save(out, "JPEG")
        hints[name] = upload(client, selfie_set, f"{name}.jpg", out.getvalue()).finish.json()
    assert any("Too dark" in h for h in hints["dark"]["photo"]["hints"])
    assert any("Too bright" in h for h in hints["bright"]["photo"]["hints"])


def test_finishing_twice_changes_nothing(client, owner, selfie_set):
    client.force_login(owner)
    result = upload(client, selfie_set, "a.jpg", photo_bytes())
    before = list(Selfie.objects.values())
    finish_url = result.start.json()["finish_url"]
    assert client.post(finish_url).status_code == 200  # as the first (tests/uploads/test_finish)
    assert list(Selfie.objects.values()) == before


def test_stale_unfinished_uploads_are_swept(
    client, owner, selfie_set, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from uploads.services import selfie_uploads_sweep

    client.force_login(owner)
    target = upload_start(client, selfie_set, "p.jpg", b"x" * 10, "image/jpeg").json()
    client.post(target["url"], {**target["fields"], "file": __import__("io").BytesIO(b"xyz")})
    upload(client, selfie_set, "kept.jpg", photo_bytes())
    Selfie.objects.filter(status="pending").update(created_at=timezone.now() - timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        assert selfie_uploads_sweep() == 1

    assert list(Selfie.objects.values_list("status", flat=True)) == ["ready"]
    assert not storages["default"].exists(target["fields"]["key"])
