"""Uploads on S3, against the S3-compatible test server over HTTP."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime

import boto3
import pytest
import requests
from PIL import Image

from tests.images import exif_rotated_jpeg, photo_bytes
from tests.uploads.conftest import upload_start
from uploads.models import Selfie

pytestmark = pytest.mark.django_db


def s3_client(bucket):
    return boto3.client(
        "s3",
        endpoint_url=bucket["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def send(target, content: bytes) -> requests.Response:
    """What the browser does: a multipart POST of the fields and the file to storage."""
    return requests.post(
        target["url"],
        data=target["fields"],
        files={"file": ("photo.jpg", content, target["fields"]["Content-Type"])},
        timeout=30,
    )


def test_the_presigned_post_policy_fixes_key_type_size_and_expiry(
    client, owner, selfie_set, s3_storage, settings
):
    client.force_login(owner)
    before = datetime.now(UTC)
    target = upload_start(client, selfie_set, "me.heic", b"x" * 100, "").json()

    fields = target["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    key = Selfie.objects.get().upload_key
    assert {"key": key} in conditions
    assert {"Content-Type": "image/heic"} in conditions
    assert ["content-length-range", 1, settings.UPLOAD_MAX_BYTES] in conditions
    assert {"bucket": s3_storage["bucket_name"]} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - before).total_seconds() <= settings.UPLOAD_URL_EXPIRY + 5
    assert target["url"] == f"{s3_storage['endpoint_url']}/{s3_storage['bucket_name']}"


def test_a_finished_upload_is_verified_and_normalised(client, owner, selfie_set, s3_storage):
    client.force_login(owner)
    content = exif_rotated_jpeg((1200, 800))
    target = upload_start(client, selfie_set, "r.jpg", content, "image/jpeg").json()
    assert send(target, content).status_code == 204

    response = client.post(target["finish_url"])

    assert response.status_code == 200, response.content
    selfie = Selfie.objects.get()
    s3 = s3_client(s3_storage)
    stored = s3.get_object(Bucket=s3_storage["bucket_name"], Key=selfie.image)["Body"].read()
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("JPEG", (800, 1200))
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_storage["bucket_name"])["Contents"]}
    assert keys == {selfie.image, selfie.thumbnail}  # the original is gone
    # The page shows it through a signed, short-lived URL…
    url = response.json()["photo"]["thumbnail_url"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    assert requests.get(url, timeout=10).status_code == 200
    # …while unsigned GETs of the stored keys are refused.
    for key in keys:
        unsigned = f"{s3_storage['endpoint_url']}/{s3_storage['bucket_name']}/{key}"
        assert requests.get(unsigned, timeout=10).status_code == 403


def test_a_rejected_upload_is_deleted_from_the_bucket(client, owner, selfie_set, s3_storage):
    client.force_login(owner)
    target = upload_start(client, selfie_set, "x.jpg", b"%PDF-1.4", "image/jpeg").json()
    send(target, b"%PDF-1.4 not a photo")
    response = client.post(target["finish_url"])
    assert response.status_code == 422
    assert response.json()["error"].startswith("This is a PDF document")
    assert s3_client(s3_storage).list_objects_v2(Bucket=s3_storage["bucket_name"])["KeyCount"] == 0


def test_another_user_finishing_someone_elses_upload_gets_404_and_it_is_untouched(
    client, owner, other_user, selfie_set, s3_storage
):
    client.force_login(owner)
    content = photo_bytes()
    target = upload_start(client, selfie_set, "a.jpg", content, "image/jpeg").json()
    send(target, content)
    client.force_login(other_user)

    assert client.post(target["finish_url"]).status_code == 404

    key = target["fields"]["key"]
    obj = s3_client(s3_storage).get_object(Bucket=s3_storage["bucket_name"], Key=key)
    assert obj["Body"].read() == content
    assert Selfie.objects.get().status == "pending"
