"""Pillow work of the sandbox: checking posted photos, rendering results, inspecting.

Two rules, because anyone may hold the development key. An image is opened (which reads its
header only) and refused if it has more pixels than MAX_PIXELS before anything is decoded: a
124 KB PNG of zeros is 256 MB of pixels. And results are drawn from the prompt alone, never
from a tune's photos: their links are public, so a result made from a selfie would hand a copy
of a face to whoever prompts that tune.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import (
    Image,
    ImageDraw,
    ImageFilter,
    ImageFont,
    ImageStat,
    UnidentifiedImageError,
)

# The portal sends photos of at most 2048 px a side (4 MP); this leaves room for a developer's
# camera originals and keeps a decode (4 bytes a pixel for most modes) near 100 MB.
MAX_PIXELS = 25_000_000
INSPECT_SIDE = 1024  # a JPEG is inspected at a reduced DCT scale, no smaller than this

ASPECT_SIZES = {  # Flux-like sizes for Astria's aspect ratios, multiples of 8
    "1:1": (1024, 1024),
    "4:5": (896, 1120),
    "5:4": (1120, 896),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "3:4": (880, 1176),
    "4:3": (1176, 880),
}


class NotAnImage(ValueError):
    """An image the sandbox will not take; the message completes "images[0] (a.jpg) …"."""


@contextmanager
def _opened(content: bytes) -> Iterator[Image.Image]:
    """The image of `content`, opened lazily: only its header has been read, and it has at
    most MAX_PIXELS, or NotAnImage is raised (also for what Pillow fails on later)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise NotAnImage(
                    f"is {width}×{height} pixels; the sandbox takes at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels"
                )
            yield image
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise NotAnImage("is not an image") from None


def image_check(content: bytes) -> tuple[int, int]:
    """Check `content` is an image within MAX_PIXELS without decoding its pixels (Pillow's
    verify reads a PNG's chunks and their checksums); return its size, or raise NotAnImage."""
    with _opened(content) as image:
        size = image.size
        image.verify()
    return size


def result_size(*, w: int | None, h: int | None, aspect_ratio: str | None) -> tuple[int, int]:
    return (w, h) if w and h else ASPECT_SIZES.get(aspect_ratio or "1:1", ASPECT_SIZES["1:1"])


def _backdrop(seed: str, size: tuple[int, int]) -> Image.Image:
    """A gradient between two colours of `seed`'s hash, in a direction it also chooses."""
    digest = hashlib.sha256(seed.encode()).digest()
    ramp = Image.linear_gradient("L").rotate(digest[6] % 4 * 90)
    first, second = (Image.new("RGB", size, tuple(digest[i : i + 3])) for i in (0, 3))
    return Image.composite(first, second, ramp.resize(size))


def result_render(*, seed: str, text: str, size: tuple[int, int], label: str) -> bytes:
    """A JPEG of `size` drawn from the prompt alone: a gradient chosen by `seed`, and a band
    that says "SANDBOX", the label and the prompt, so nobody mistakes it for art or a face."""
    image = _backdrop(seed, size)
    draw = ImageDraw.Draw(image)
    width, height = size
    band = height // 4
    draw.rectangle([0, height - band, width, height], fill=(0, 0, 0))
    big = ImageFont.load_default(size=max(16, width // 12))
    small = ImageFont.load_default(size=max(10, width // 40))
    draw.text((width // 30, height - band + band // 12), "SANDBOX", font=big, fill=(255, 200, 0))
    lines = [label, *textwrap.wrap(text, width=60)[:3]]
    draw.multiline_text(
        (width // 30, height - band + band // 2), "\n".join(lines), font=small, fill="white"
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def image_inspect(content: bytes, *, name: str) -> dict[str, object]:
    """Astria's inspection flags, as far as Pillow can tell: size and sharpness only; raises
    NotAnImage as image_check does, before decoding. Orientation changes neither flag."""
    with _opened(content) as image:
        shortest = min(image.size)
        image.draft("L", (INSPECT_SIDE, INSPECT_SIDE))  # JPEG only: the others ignore it
        gray = image.convert("L")
    edges = ImageStat.Stat(gray.filter(ImageFilter.FIND_EDGES)).var[0]
    return {
        "name": name,
        "age": "",
        "blurry": edges < 100,
        "ethnicity": "",
        "eye_color": "",
        "facial_hair": "",
        "full_body_image_or_longshot": False,
        "funny_face": False,
        "glasses": "",
        "hair_color": "",
        "hair_length": "",
        "hair_style": "",
        "includes_multiple_people": False,
        "is_bald": "",
        "low_resolution": shortest < 512,
        "selfie": True,
        "wearing_hat": False,
        "wearing_sunglasses": False,
    }
