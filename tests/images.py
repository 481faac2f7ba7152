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
