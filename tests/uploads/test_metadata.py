"""Stored selfies carry no metadata: checked in the bytes, not only through Pillow."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages

from tests.images import jpeg_segments, jpeg_with_private_metadata
from tests.uploads.conftest import upload
from uploads.models import Selfie

pytestmark = pytest.mark.django_db

APP0_JFIF = b"\xff\xe0JFIF\x00"


def test_the_source_really_carries_metadata():
    content = jpeg_with_private_metadata()
    markers = {segment[:2] for segment in jpeg_segments(content)}
    assert {b"\xff\xe1", b"\xff\xe2", b"\xff\xfe"} <= markers  # EXIF/XMP, ICC, comment
    for secret in (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/", b"Paris", b"PhoneMaker"):
        assert secret in content


def test_stored_images_and_thumbnails_carry_no_exif_gps_xmp_icc_or_comment(
    client, owner, selfie_set
):
    client.force_login(owner)
    assert (
        upload(client, selfie_set, "phone.jpg", jpeg_with_private_metadata()).finish.status_code
        == 200
    )
    selfie = Selfie.objects.get()

    for name in (selfie.image, selfie.thumbnail):
        with storages["default"].open(name) as f:
            content = f.read()
        # Only the plain JFIF header segment: no APP1 (EXIF, XMP), APP2 (ICC), COM.
        header = [
            s
            for s in jpeg_segments(content)
            if s[:2] in (b"\xff\xe0", b"\xff\xe1", b"\xff\xe2", b"\xff\xed", b"\xff\xfe")
        ]
        assert header == [APP0_JFIF]
        for secret in (
            b"Exif",
            b"GPS",
            b"xap/1.0",
            b"xmpmeta",
            b"ICC_PROFILE",
            b"Paris",
            b"PhoneMaker",
            b"secret comment",
        ):
            assert secret not in content
