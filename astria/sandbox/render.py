"""Pillow work of the sandbox: checking downloaded photos, rendering results, inspecting."""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import (
    Image,
    ImageDraw,
    ImageFilter,
    ImageFont,
    ImageOps,
    ImageStat,
    UnidentifiedImageError,
)

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
    pass


def image_check(content: bytes) -> tuple[int, int]:
    """Decode `content` fully; return its size, or raise NotAnImage."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            return image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise NotAnImage(str(exc)) from None


def result_size(*, w: int | None, h: int | None, aspect_ratio: str | None) -> tuple[int, int]:
    if w and h:
        return w, h
    return ASPECT_SIZES.get(aspect_ratio or "1:1", ASPECT_SIZES["1:1"])


def _tint(text: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(text.encode()).digest()
    return digest[0], digest[1], digest[2]


def result_render(*, source: bytes | None, text: str, size: tuple[int, int], label: str) -> bytes:
    """A JPEG of `size` made from a training photo (or a gradient) tinted by the prompt text,
    with a band that says "SANDBOX", the label and the prompt, so nobody mistakes it for art."""
    if source:
        with Image.open(io.BytesIO(source)) as photo:
            base = ImageOps.fit(ImageOps.exif_transpose(photo).convert("RGB"), size)
    else:
        base = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.blend(base, Image.new("RGB", size, _tint(text)), 0.35)
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
    """Astria's inspection flags, as far as Pillow can tell: size and sharpness only."""
    with Image.open(io.BytesIO(content)) as image:
        gray = ImageOps.exif_transpose(image).convert("L")
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
        "low_resolution": min(gray.size) < 512,
        "selfie": True,
        "wearing_hat": False,
        "wearing_sunglasses": False,
    }
