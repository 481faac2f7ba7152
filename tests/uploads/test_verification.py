"""The rejection matrix: what becomes a selfie and what is refused, each with its message."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from PIL import Image

from tests.images import exif_rotated_jpeg, heic_bytes, photo_bytes, png_bomb_header
from tests.uploads.conftest import stored, upload
from uploads.models import Selfie

pytestmark = pytest.mark.django_db


def truncated_jpeg() -> bytes:
    whole = photo_bytes((1024, 1024))
    return whole[: len(whole) // 2]


def other_format(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 800), "teal").save(out, fmt)
    return out.getvalue()


ACCEPTED = {
    "photo.jpg": (photo_bytes((1200, 900)), (1200, 900)),
    "photo.png": (photo_bytes((900, 1200), fmt="PNG"), (900, 1200)),
    "photo.webp": (photo_bytes((1000, 1000), fmt="WEBP"), (1000, 1000)),
    "photo.heic": (heic_bytes((1024, 768)), (1024, 768)),
    # Landscape pixels, EXIF "rotate 90°": stored upright, width and height swapped.
    "rotated.jpg": (exif_rotated_jpeg((1200, 800)), (800, 1200)),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_it_accepts_and_stores_upright(client, owner, selfie_set, name):
    content, (width, height) = ACCEPTED[name]
    client.force_login(owner)

    result = upload(client, selfie_set, name, content)

    assert result.finish.status_code == 200, result.finish.content
    selfie = Selfie.objects.get(selfie_set=selfie_set)
    assert (selfie.status, selfie.width, selfie.height) == ("ready", width, height)
    assert stored(selfie.image) and stored(selfie.thumbnail)
    assert not stored(result.key)  # the original is not kept
    from django.core.files.storage import storages

    with storages["default"].open(selfie.image) as f, Image.open(f) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (width, height), "RGB")


REJECTED = {
    "empty.jpg": (b"", "The file is empty."),
    "truncated.jpg": (truncated_jpeg(), "This photo is incomplete or damaged"),
    "bomb.png": (png_bomb_header(20000, 20000), "more than the 64 megapixels we accept"),
    "anim.gif": (other_format("GIF"), "GIF images (often animations) are not supported."),
    "scan.tif": (other_format("TIFF"), "TIFF images are not supported."),
    "drawing.jpg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800"></svg>',
        "SVG drawings are not supported.",
    ),
    "document.jpg": (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "This is a PDF document, not a photo."),
    "page.jpg": (
        b"<!DOCTYPE html><html><body>hi</body></html>",
        "This is a web page, not a photo.",
    ),
    "tiny.jpg": (photo_bytes((400, 300)), "This photo is only 400×300 pixels."),
}


@pytest.mark.parametrize("name", REJECTED)
def test_it_rejects_with_its_own_message_and_keeps_nothing(client, owner, selfie_set, name):
    content, message = REJECTED[name]
    client.force_login(owner)

    result = upload(client, selfie_set, name, content)

    response = result.finish or result.start
    assert response.status_code in (400, 422)
    assert message in response.json()["error"]
    assert not Selfie.objects.exists()
    if result.key:
        assert not stored(result.key)


def test_every_rejection_message_is_different():
    assert len({message for _, message in REJECTED.values()}) == len(REJECTED)


def test_a_file_over_the_cap_is_refused_before_and_after_sending(
    client, owner, selfie_set, settings
):
    settings.UPLOAD_MAX_BYTES = 100_000
    big = photo_bytes((2000, 2000), quality=100)
    assert len(big) > 100_000
    client.force_login(owner)

    # The browser's word is checked first…
    result = upload(client, selfie_set, "big.jpg", big)
    assert result.start.status_code == 422
    assert result.start.json()["error"] == (
        "This file is over 97.7 KB. Please upload a smaller photo."
    )

    # …and the bytes when they arrive, whatever the browser said.
    from tests.uploads.conftest import upload_start

    target = upload_start(client, selfie_set, "big.jpg", b"x" * 1000, "image/jpeg").json()
    settings.UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # the endpoint lets it through…
    client.post(target["url"], {**target["fields"], "file": io.BytesIO(big)})
    settings.UPLOAD_MAX_BYTES = 100_000  # …and the finish refuses it
    finish = client.post(target["finish_url"])
    assert finish.status_code == 422
    assert "is over" in finish.json()["error"]
    assert not stored(target["fields"]["key"])
    assert not Selfie.objects.exists()


def test_the_bomb_is_refused_without_decoding_it(client, owner, selfie_set):
    from uploads.images import RejectedImage, selfie_normalise

    tracemalloc.start()
    with pytest.raises(RejectedImage):
        selfie_normalise(png_bomb_header(20000, 20000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Decoded, 20000×20000 RGB would need 1.2 GB; the header alone needs next to nothing.
    assert peak < 5 * 1024 * 1024


def test_a_bomb_under_pillows_own_limit_is_refused_by_ours_without_decoding(monkeypatch):
    from PIL import Image as PILImage

    from uploads.images import RejectedImage, selfie_normalise

    bomb = png_bomb_header(9000, 8000)  # 72 MP: Pillow alone would decode it

    def never(self):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(PILImage.Image, "load", never)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", never)
    with pytest.raises(RejectedImage, match="9000×8000 pixels, more than the 64 megapixels"):
        selfie_normalise(bomb)


def test_a_broken_colour_profile_is_ignored_not_a_crash(client, owner, selfie_set):
    content = photo_bytes((800, 800), icc_profile=b"not a real ICC profile" * 10)
    client.force_login(owner)
    result = upload(client, selfie_set, "odd.jpg", content)
    assert result.finish.status_code == 200


def test_a_cmyk_photo_with_its_profile_is_stored_as_rgb(client, owner, selfie_set):
    image = Image.new("CMYK", (800, 800), (0, 128, 255, 0))
    out = io.BytesIO()
    image.save(out, "JPEG")
    client.force_login(owner)
    result = upload(client, selfie_set, "print.jpg", out.getvalue())
    assert result.finish.status_code == 200
    from django.core.files.storage import storages

    with storages["default"].open(Selfie.objects.get().image) as f, Image.open(f) as stored:
        assert stored.mode == "RGB"


def test_a_16_bit_grey_png_keeps_its_tones(client, owner, selfie_set):
    image = Image.new("I;16", (800, 800), 30000)
    out = io.BytesIO()
    image.save(out, "PNG")
    client.force_login(owner)
    assert upload(client, selfie_set, "grey.png", out.getvalue()).finish.status_code == 200
    from django.core.files.storage import storages

    with storages["default"].open(Selfie.objects.get().image) as f, Image.open(f) as stored:
        red, _, _ = stored.getpixel((400, 400))
        assert 100 < red < 130  # 30000 of 65535 is mid-grey, not white
