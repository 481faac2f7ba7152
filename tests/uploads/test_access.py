"""Every URL of the uploads app: anonymous users go to login, another user gets 404."""

from __future__ import annotations

import io
import re

import pytest

from tests.images import photo_bytes
from tests.uploads.conftest import stored, upload, upload_start
from uploads import storage
from uploads.models import Selfie

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(client, owner, selfie_set) -> Selfie:
    client.force_login(owner)
    upload(client, selfie_set, "a.jpg", photo_bytes())
    client.logout()
    return Selfie.objects.get()


def urls(selfie_set, photo) -> list[tuple[str, str]]:
    s, p = selfie_set.code, photo.code
    return [
        ("get", f"/sets/{s}/"),
        ("post", f"/sets/{s}/rename/"),
        ("get", f"/sets/{s}/delete/"),
        ("post", f"/sets/{s}/delete/"),
        ("post", f"/sets/{s}/uploads/"),
        ("post", f"/sets/{s}/uploads/{p}/finish/"),
        ("post", f"/sets/{s}/photos/{p}/delete/"),
    ]


def test_anonymous_users_are_sent_to_login(client, selfie_set, photo):
    token_url = storage.private_url(photo.image, owner=selfie_set.owner)
    all_urls = [
        *urls(selfie_set, photo),
        ("get", "/sets/"),
        ("get", "/sets/new/"),
        ("post", "/uploads/direct/"),
        ("get", token_url),
    ]
    for method, url in all_urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_another_user_gets_404_and_changes_nothing(client, other_user, selfie_set, photo):
    client.force_login(other_user)
    for method, url in urls(selfie_set, photo):
        response = getattr(client, method)(url, {"name": "mine now"})
        assert response.status_code == 404, url
    selfie_set.refresh_from_db()
    assert selfie_set.name == "Me, summer"
    assert Selfie.objects.filter(pk=photo.pk, status="ready").exists()
    assert stored(photo.image)


def test_another_user_cannot_finish_an_upload_with_someone_elses_key(
    client, owner, other_user, selfie_set
):
    client.force_login(owner)
    target = upload_start(client, selfie_set, "a.jpg", b"x" * 10, "image/jpeg").json()
    client.post(target["url"], {**target["fields"], "file": io.BytesIO(photo_bytes())})
    client.force_login(other_user)
    assert client.post(target["finish_url"]).status_code == 404
    assert stored(target["fields"]["key"])
    assert Selfie.objects.get().status == "pending"


def test_a_signed_image_url_opens_only_for_its_owner_and_staff(
    client, owner, other_user, staff, photo
):
    url = storage.private_url(photo.thumbnail, owner=owner)
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.force_login(other_user)
    assert client.get(url).status_code == 404


def test_a_creative_holding_a_signed_url_of_someones_selfie_gets_404(
    client, owner, creative, photo
):
    client.force_login(creative)
    assert client.get(storage.private_url(photo.thumbnail, owner=owner)).status_code == 404


def test_a_signed_image_url_expires(client, owner, photo, settings):
    url = storage.private_url(photo.thumbnail, owner=owner)
    settings.UPLOAD_URL_EXPIRY = -1
    client.force_login(owner)
    assert client.get(url).status_code == 404
    assert client.get(url.replace("?t=", "?t=x")).status_code == 404
    assert client.get("/private/").status_code == 404


def test_the_local_upload_endpoint_takes_only_what_its_token_allows(
    client, owner, other_user, selfie_set
):
    client.force_login(owner)
    target = upload_start(client, selfie_set, "a.jpg", b"x" * 10, "image/jpeg").json()
    fields = target["fields"]
    # Someone else's session with the owner's token…
    client.force_login(other_user)
    response = client.post(target["url"], {**fields, "file": io.BytesIO(b"abc")})
    assert response.status_code == 403
    # …another key or type with the right token…
    client.force_login(owner)
    for change in ({"key": fields["key"] + "x"}, {"Content-Type": "text/html"}):
        response = client.post(target["url"], {**fields, **change, "file": io.BytesIO(b"abc")})
        assert response.status_code == 403
    # …an empty file, or a second upload to the same key.
    assert client.post(target["url"], {**fields, "file": io.BytesIO(b"")}).status_code == 400
    assert client.post(target["url"], {**fields, "file": io.BytesIO(b"abc")}).status_code == 204
    assert client.post(target["url"], {**fields, "file": io.BytesIO(b"xyz")}).status_code == 403
    from django.core.files.storage import storages

    with storages["default"].open(fields["key"]) as f:
        assert f.read() == b"abc"


def test_object_keys_are_random_and_under_the_owners_prefix(client, owner, other_user, photo):
    prefix = storage.owner_prefix(owner)
    assert prefix != storage.owner_prefix(other_user)
    assert re.fullmatch(r"u/[0-9a-f]{20}", prefix)  # an opaque hash, not the id or e-mail
    for name in (photo.upload_key, photo.image, photo.thumbnail):
        assert name.startswith(prefix + "/")
        assert len(name.rsplit("/", 1)[1]) >= 24


def test_a_fetch_url_for_astria_works_without_a_session_and_expires(client, owner, photo, settings):
    url = storage.fetch_url(photo.image)
    assert url.startswith(settings.PUBLIC_BASE_URL + "/fetch/?t=")
    path = url.removeprefix(settings.PUBLIC_BASE_URL)
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert client.get(path[:-3] + "xyz").status_code == 404
    settings.UPLOAD_URL_EXPIRY = -1
    assert client.get(path).status_code == 404


def test_an_upload_target_cannot_be_used_again_once_finished(client, owner, selfie_set):
    client.force_login(owner)
    target = upload_start(client, selfie_set, "a.jpg", b"x" * 10, "image/jpeg").json()
    fields = target["fields"]
    assert (
        client.post(target["url"], {**fields, "file": io.BytesIO(photo_bytes())}).status_code == 204
    )
    assert client.post(target["finish_url"]).status_code == 200
    again = client.post(target["url"], {**fields, "file": io.BytesIO(photo_bytes(seed=3))})
    assert again.status_code == 403
    assert not stored(fields["key"])


@pytest.mark.parametrize("body", [b"[]", b"123", b'"x"', b"{not json"])
def test_a_start_request_that_is_not_an_object_is_a_400(client, owner, selfie_set, body):
    client.force_login(owner)
    response = client.post(
        f"/sets/{selfie_set.code}/uploads/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"error": "The request was not understood."}


@pytest.mark.parametrize(
    ("name", "declared", "status"),
    [
        ("photo.jpg", "application/octet-stream", 201),
        ("photo.jpg", "image/jpg", 201),
        ("IMG_1.HEIC", "", 201),
        ("notes.docx", "application/vnd.openxmlformats-officedocument", 422),
    ],
)
def test_the_declared_type_falls_back_to_the_name(
    client, owner, selfie_set, name, declared, status
):
    client.force_login(owner)
    response = upload_start(client, selfie_set, name, b"x" * 10, declared)
    assert response.status_code == status
    if status == 422:
        assert response.json()["error"] == (
            "This kind of file is not supported. Please upload a JPEG, PNG, WebP or HEIC photo."
        )


def test_uploads_never_sent_stop_holding_a_place(client, owner, selfie_set, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SELFIES_MAX = 1
    client.force_login(owner)
    assert upload_start(client, selfie_set, "a.jpg", b"x" * 10, "image/jpeg").status_code == 201
    assert upload_start(client, selfie_set, "b.jpg", b"x" * 10, "image/jpeg").status_code == 422
    Selfie.objects.update(created_at=timezone.now() - timedelta(hours=1))
    assert upload_start(client, selfie_set, "b.jpg", b"x" * 10, "image/jpeg").status_code == 201


def test_staff_without_the_permission_to_see_selfies_get_404_for_one(client, owner, photo):
    from tests import factories

    helper = factories.UserFactory(is_staff=True)  # staff, but given no permission
    client.force_login(helper)
    assert client.get(storage.private_url(photo.thumbnail, owner=owner)).status_code == 404


def test_support_staff_who_see_photoshoots_open_a_customers_photo_url(client, owner, photo):
    from tests import factories

    support = factories.SupportFactory()  # photoshoots, not selfie sets
    assert not support.has_perm("uploads.view_selfieset")
    client.force_login(support)
    assert client.get(storage.private_url(photo.thumbnail, owner=owner)).status_code == 200
