"""Test photos, made with Pillow at test time (nothing is downloaded or checked in)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def photo_bytes(
    size: tuple[int, int] = (768, 1024), *, seed: int = 0, fmt: str = "JPEG", **save: object
) -> bytes:
    """A photo-like picture: a coloured background with an oval "face" and some noise."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse([w * 0.3, h * 0.2, w * 0.7, h * 0.65], fill=(224, 172, 140), outline=(60, 40, 30))
    for _ in range(400):
        x, y = rng.randrange(w), rng.randrange(h)
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def exif_rotated_jpeg(size: tuple[int, int] = (1200, 800)) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90°": upright, it is portrait."""
    image = Image.open(io.BytesIO(photo_bytes(size)))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def jpeg_with_private_metadata(size: tuple[int, int] = (1024, 768)) -> bytes:
    """A JPEG carrying what a phone writes: EXIF with GPS, XMP, an ICC profile, a comment."""
    from PIL import ImageCms

    image = Image.open(io.BytesIO(photo_bytes(size)))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (2.0, 17.0, 40.0)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        b' photoshop:City="Paris"/></rdf:RDF></x:xmpmeta>'
    )
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=xmp, icc_profile=icc, comment=b"secret comment")
    return out.getvalue()


def png_bomb_header(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny real PNG whose header claims `width`×`height` pixels (a decompression bomb)."""
    import struct
    import zlib

    small = io.BytesIO()
    Image.new("RGB", (8, 8)).save(small, "PNG")
    data = bytearray(small.getvalue())
    # IHDR starts at byte 8: length(4) "IHDR"(4) width(4) height(4) ... then its CRC.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def heic_bytes(size: tuple[int, int] = (1024, 768)) -> bytes:
    import pillow_heif

    image = Image.open(io.BytesIO(photo_bytes(size)))
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=80)
    return out.getvalue()


def jpeg_segments(content: bytes) -> list[bytes]:
    """The markers of a JPEG's header segments, up to the image data (APPn, COM, DQT, …)."""
    markers, at = [], 2
    while at < len(content) and content[at] == 0xFF:
        marker = content[at + 1]
        if marker == 0xDA:  # start of scan: pixels follow
            break
        length = int.from_bytes(content[at + 2 : at + 4], "big")
        markers.append(content[at : at + 2] + content[at + 4 : at + 9])
        at += 2 + length
    return markers
