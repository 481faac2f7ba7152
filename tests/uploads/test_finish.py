"""The end of an upload sent again: a finish whose first request committed but whose answer
was lost (a killed web process, a dropped connection) answers as the first did."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from django.core.files.storage import storages

from tests.images import photo_bytes
from tests.uploads.conftest import upload, upload_start
from uploads import services
from uploads.models import Selfie

pytestmark = pytest.mark.django_db


def opened(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def finished_once(client, selfie_set, where: str):
    """An upload sent and finished once, as the page does: (its first answer, its finish URL)."""
    content = photo_bytes(seed=3)
    if where == "local":
        result = upload(client, selfie_set, "a.jpg", content)
        return result.finish, result.start.json()["finish_url"]
    from tests.uploads.test_s3 import send

    target = upload_start(client, selfie_set, "a.jpg", content, "image/jpeg").json()
    assert send(target, content).status_code == 204
    return client.post(target["finish_url"]), target["finish_url"]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_finish_sent_again_answers_200_with_the_same_photo(
    client, owner, selfie_set, where, request
):
    if where == "s3":
        request.getfixturevalue("s3_storage")
    client.force_login(owner)
    first, finish_url = finished_once(client, selfie_set, where)
    assert first.status_code == 200, first.content
    selfie = Selfie.objects.get()
    stored = stored_names(selfie)

    again = client.post(finish_url)

    assert again.status_code == 200, again.content
    photo, photo_again = first.json()["photo"], again.json()["photo"]
    signed = photo.pop("thumbnail_url"), photo_again.pop("thumbnail_url")
    assert photo_again == photo
    assert str(selfie.code) == photo["code"]
    if where == "local":
        assert opened(client, signed[1]) == opened(client, signed[0])
    else:  # both signed URLs name the same object
        assert {urlsplit(url).path for url in signed} == {urlsplit(signed[0]).path}
        assert urlsplit(signed[0]).path.endswith(selfie.thumbnail)
    assert Selfie.objects.get().verified_at == selfie.verified_at  # not checked again
    assert stored_names(selfie) == stored  # nothing new in storage


def stored_names(selfie: Selfie) -> list[str]:
    folder = selfie.image.rsplit("/", 1)[0]
    return sorted(storages["default"].listdir(folder)[1])


def test_a_finish_sent_again_does_not_count_against_the_rate(client, owner, selfie_set, settings):
    settings.UPLOAD_FINISH_RATE = "2/m"
    client.force_login(owner)
    first = upload(client, selfie_set, "a.jpg", photo_bytes(seed=1))
    for _ in range(3):
        assert client.post(first.start.json()["finish_url"]).status_code == 200
    assert upload(client, selfie_set, "b.jpg", photo_bytes(seed=2)).finish.status_code == 200


def test_a_finish_of_a_removed_upload_says_it_was_removed(client, owner, selfie_set):
    client.force_login(owner)
    target = upload_start(client, selfie_set, "a.jpg", b"x" * 10, "image/jpeg").json()
    client.post(target["url"], {**target["fields"], "file": io.BytesIO(photo_bytes())})
    assert client.post(target["cancel_url"]).status_code in (200, 302)

    response = client.post(target["finish_url"])

    assert response.status_code == 404
    assert response.json() == {"error": "This upload was removed."}
    assert not Selfie.objects.exists()


def test_a_finish_that_lost_a_race_with_another_returns_the_winners_photo(owner, selfie_set):
    """Two finishes of one upload at once (a retry while the first still runs): the one that
    comes second finds the original gone, and answers with the photo the first stored."""
    content = photo_bytes(seed=4)
    selfie, _ = services.selfie_upload_start(
        selfie_set=selfie_set, filename="a.jpg", content_type="image/jpeg", size=len(content)
    )
    storages["default"].save(selfie.upload_key, io.BytesIO(content))
    stale = Selfie.objects.get(pk=selfie.pk)  # read by the second before the first finished

    first = services.selfie_finish_upload(selfie=selfie)
    second = services.selfie_finish_upload(selfie=stale)

    assert first is not None and second is not None
    assert (second.pk, second.image, second.thumbnail) == (first.pk, first.image, first.thumbnail)
    assert storages["default"].exists(first.image)
