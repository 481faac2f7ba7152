"""Production's S3 storage, exercised against an S3-compatible server over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import boto3
import requests

from tests.conftest import BASE_DIR, subprocess_env
from tests.photoshoot.test_settings import PRODUCTION

SCRIPT = """
import json
from django.core.files.base import ContentFile
from django.core.files.storage import storages
s = storages["default"]
first = s.save("selfies/a.jpg", ContentFile(b"first"))
second = s.save("selfies/a.jpg", ContentFile(b"second"))
print(json.dumps({"backend": type(s).__name__, "first": first, "second": second,
                  "url": s.url(first)}))
"""


def test_production_objects_are_private_signed_and_never_overwritten(s3_bucket):
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SCRIPT],
        cwd=BASE_DIR,
        env=subprocess_env(
            **{**PRODUCTION, "AWS_STORAGE_BUCKET_NAME": s3_bucket["bucket_name"]},
            AWS_S3_ENDPOINT_URL=s3_bucket["endpoint_url"],
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_S3_REGION_NAME="us-east-1",
            AWS_S3_ADDRESSING_STYLE="path",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["backend"] == "S3Storage"

    # A second file under the same name gets a name of its own.
    assert out["first"] == "selfies/a.jpg"
    assert out["second"] != out["first"]

    # The URL is signed with SigV4, expires in five minutes, and works.
    query = parse_qs(urlsplit(out["url"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    response = requests.get(out["url"], timeout=10)
    assert response.status_code == 200
    assert response.content == b"first"

    # No public grant on the object: only its owner may read it.
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_bucket["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    for name in (out["first"], out["second"]):
        grants = s3.get_object_acl(Bucket=s3_bucket["bucket_name"], Key=name)["Grants"]
        assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
        assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)


def test_the_storage_fixture_saves_and_signs_through_the_s3_server(s3_storage):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("x/y.txt", ContentFile(b"hello"))
    assert requests.get(default_storage.url(name), timeout=10).content == b"hello"
    assert "X-Amz-Signature=" in default_storage.url(name)
