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
    ImageColor,
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


# --- Demo pictures ------------------------------------------------------------------------------
# The demo packs' covers and samples, and the demo account's sample photoshoot, are drawn here
# too (tunes/demo.py), since nothing may be downloaded: a scene's words choose its colours, a
# soft light, bokeh and, for a painting, brushstrokes; a silhouette without a face stands for
# the person, and the words themselves are the caption.

# Words of a scene, and the colours they suggest: top of the sky, bottom, and the light.
PALETTES: list[tuple[tuple[str, ...], tuple[str, str, str]]] = [
    (("mars", "red landscape", "dusty"), ("#2b0f0a", "#c4512b", "#ffb36b")),
    (("space station", "floating"), ("#020814", "#0f3d5c", "#7fe7ff")),
    (("astronaut", "earth", "spacesuit"), ("#01030d", "#10275e", "#6fb7ff")),
    (("sunflower", "field"), ("#2a6fb0", "#e2b320", "#fff1a1")),
    (("starry", "night"), ("#0b1645", "#1f4fa3", "#ffd84a")),
    (("straw hat", "orange"), ("#1a3d8f", "#e0782b", "#ffd27a")),
    (("stage", "podium", "conference"), ("#1b0b2e", "#6b2a6e", "#ffb454")),
    (("co-working", "bright", "business casual"), ("#e9e2d4", "#9bb7c9", "#fff8e6")),
    (("office", "windows"), ("#cfe0ee", "#5d7f99", "#ffffff")),
    (("navy", "studio", "grey backdrop"), ("#1c2a3f", "#6d7889", "#e8eef7")),
]
PAINTERLY = ("painting", "van gogh", "brushstroke", "oil")


def _palette(words: str, seed: str) -> tuple[str, str, str]:
    lowered = words.lower()
    for keys, colours in PALETTES:
        if any(key in lowered for key in keys):
            return colours
    digest = hashlib.sha256(seed.encode()).digest()
    return ("#" + digest[0:3].hex(), "#" + digest[3:6].hex(), "#" + digest[6:9].hex())


def _sky(size: tuple[int, int], top: str, bottom: str) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp)


def _glow(image: Image.Image, colour: str, centre: tuple[int, int], radius: int) -> None:
    """A soft round light (a sun, a lamp, a planet's rim) around `centre`."""
    falloff = Image.radial_gradient("L").resize((radius * 2, radius * 2), Image.Resampling.BILINEAR)
    mask = Image.new("L", image.size, 0)
    # Pillow's radial gradient reaches 181 at the middle of an edge (255 in the corners): the
    # light fades to nothing there, not at a square's border.
    light = falloff.point(lambda v: max(0, 181 - v) * 210 // 181)
    mask.paste(light, (centre[0] - radius, centre[1] - radius))
    image.paste(Image.new("RGB", image.size, colour), (0, 0), mask)


def _sparkles(image: Image.Image, colour: str, rng: bytes, *, strokes: bool) -> None:
    """Out-of-focus lights (bokeh), or swirling brushstrokes for a painting."""
    width, height = image.size
    layer = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(layer)
    for i in range(0, 48, 2):
        x, y = rng[i] * width // 256, rng[i + 1] * height // 256
        r = max(4, (rng[i] ^ rng[i + 1]) % (width // 9))
        if strokes:
            draw.arc(
                [x - r * 2, y - r, x + r * 2, y + r],
                rng[i] % 360,
                rng[i] % 360 + 200,
                fill=150,
                width=max(3, width // 90),
            )
        else:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=40 + rng[i] % 60)
    layer = layer.filter(ImageFilter.GaussianBlur(1 if strokes else max(2, width // 160)))
    image.paste(Image.new("RGB", image.size, colour), (0, 0), layer)


def _silhouette(image: Image.Image, shade: tuple[int, int, int]) -> None:
    """A head and shoulders, no face: the place of the person in the picture."""
    width, height = image.size
    mask = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(mask)
    cx, head = width // 2, min(width, height) // 7
    top = height * 30 // 100
    draw.ellipse([cx - head, top, cx + head, top + head * 2 + head // 3], fill=235)
    draw.rounded_rectangle(
        [cx - head * 3, top + head * 2 + head // 2, cx + head * 3, height + head],
        radius=head * 2,
        fill=235,
    )
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, width // 300)))
    image.paste(Image.new("RGB", image.size, shade), (0, 0), mask)


def _fitted(
    draw: ImageDraw.ImageDraw,
    words: list[str],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    room: int,
    sep: str = " ",
) -> list[str]:
    """`words` in lines no wider than `room` pixels, as measured in `font`."""
    lines: list[str] = []
    for word in words:
        candidate = f"{lines[-1]}{sep}{word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= room:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _caption(
    image: Image.Image, headline: str, words: list[str], label: str, *, in_square: bool
) -> None:
    """A dark scrim at the foot, and on it the headline, the scene's other words and a label;
    `in_square`: all of it inside the centred square, which a square thumbnail keeps."""
    width, height = image.size
    side = min(width, height) if in_square else width
    left, bottom = (width - side) // 2, (height + min(side, height)) // 2
    scrim_top = height * 58 // 100
    fade = (
        Image.linear_gradient("L")
        .resize((width, height - scrim_top), Image.Resampling.BILINEAR)
        .point(lambda v: v * 3 // 4)
    )
    image.paste(Image.new("RGB", (width, height - scrim_top), "#000000"), (0, scrim_top), fade)
    draw = ImageDraw.Draw(image)
    margin = side // 18
    room = side - 2 * margin
    big_size, small_size = max(14, side // 15), max(10, side // 32)
    big, small = ImageFont.load_default(size=big_size), ImageFont.load_default(size=small_size)
    lines = _fitted(draw, headline.split(), big, room)[:2]
    subline = _fitted(draw, words, small, room, sep=" · ")[:1]
    y = bottom - margin - len(lines) * big_size * 6 // 5 - small_size * 3 // 2
    for line in lines:
        draw.text((left + margin, y), line, font=big, fill="white")
        y += big_size * 6 // 5
    if subline:
        draw.text((left + margin, y + small_size // 3), subline[0], font=small, fill="#e6e6e6")
    top = (height - min(side, height)) // 2
    draw.text((left + margin, top + margin // 2), label.upper(), font=small, fill="#ffffff")


def scene_render(
    *,
    seed: str,
    headline: str,
    words: list[str],
    size: tuple[int, int],
    label: str,
    in_square: bool = True,
) -> bytes:
    """A JPEG of `size` drawn from a scene's words alone (never from a photo): colours its
    words suggest, a soft light, bokeh or brushstrokes, a faceless silhouette, and the words
    as its caption under `label` ("Sample"), inside the centred square unless not `in_square`
    (a picture always shown whole)."""
    rng = hashlib.sha256(seed.encode()).digest() * 2
    top, bottom, light = _palette(" ".join([headline, *words]), seed)
    # Drawn at half size and enlarged: the gradients and blurs lose nothing, and it is 4× less
    # work; the caption is drawn at full size, sharp.
    half = (max(1, size[0] // 2), max(1, size[1] // 2))
    image = _sky(half, top, bottom)
    _glow(
        image,
        light,
        (rng[0] * half[0] // 256, half[1] // 5 + rng[1] % (half[1] // 4)),
        radius=max(8, min(half) * 2 // 5),
    )
    _sparkles(
        image, light, rng, strokes=any(w in " ".join([headline, *words]).lower() for w in PAINTERLY)
    )
    red, green, blue = ImageColor.getrgb(bottom)[:3]
    _silhouette(image, (red // 3, green // 3, blue // 3))
    image = image.resize(size, Image.Resampling.BILINEAR)
    _caption(image, headline, words, label, in_square=in_square)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=86, optimize=True)
    return out.getvalue()
