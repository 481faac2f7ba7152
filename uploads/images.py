"""Selfie verification and normalisation with Pillow: bytes in, a clean JPEG out, or a reason.

Nothing the browser says is trusted: the bytes are sniffed, the header is checked before any
pixel is decoded (a decompression bomb is refused unopened), then the whole image is decoded,
turned upright, converted to sRGB, shrunk to at most 2048 px and written as a JPEG that
carries no metadata at all: no EXIF, GPS, XMP, ICC profile or comment.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image, ImageCms, ImageFilter, ImageOps, ImageStat, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
LONGEST_SIDE = 2048
THUMBNAIL_SIDE = 384
ACTION = "Please upload a JPEG, PNG, WebP or HEIC photo."

# What a file really is, by its first bytes, for the plain sentence a rejected one gets.
SIGNATURES = [
    (b"GIF8", "GIF images (often animations) are not supported."),
    (b"II*\x00", "TIFF images are not supported."),
    (b"MM\x00*", "TIFF images are not supported."),
    (b"%PDF", "This is a PDF document, not a photo."),
    (b"<svg", "SVG drawings are not supported."),
    (b"<?xml", "SVG drawings are not supported."),
    (b"<!doc", "This is a web page, not a photo."),
    (b"<html", "This is a web page, not a photo."),
]


HINTS = {
    "low_resolution": "Low resolution: a sharper, larger original gives a better likeness.",
    "blurry": "Looks blurry: choose a photo where your face is in focus.",
    "near_duplicate": "Almost the same as another photo: varied shots teach the model more.",
    "too_dark": "Too dark: a photo in good light works better.",
    "too_bright": "Too bright: a photo without glare works better.",
}


class RejectedImage(Exception):
    """A file that will not become a selfie; `reason` is the sentence the user sees."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NormalisedSelfie:
    image: bytes  # JPEG, sRGB, upright, no metadata, longest side <= 2048
    thumbnail: bytes
    width: int
    height: int
    dhash: str
    hints: list[str] = field(default_factory=list)


def _sniffed_reason(head: bytes) -> str | None:
    start = head.lstrip()[:5].lower()
    for signature, reason in SIGNATURES:
        if start.startswith(signature.lower()):
            return f"{reason} {ACTION}"
    return None


def _too_many_pixels(size: str) -> RejectedImage:
    megapixels = settings.UPLOAD_MAX_PIXELS // 1_000_000
    return RejectedImage(
        f"This image claims {size} pixels, more than the {megapixels} megapixels we accept. "
        "Please upload an ordinary photo."
    )


def _open(content: bytes) -> Image.Image:
    """Open the header only, and refuse what is empty, not a photo, or too many pixels."""
    if not content:
        raise RejectedImage(f"The file is empty. {ACTION}")
    try:
        image = Image.open(io.BytesIO(content), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise _too_many_pixels("too many") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, RuntimeError, EOFError):
        reason = _sniffed_reason(content[:64]) or f"This file is not a photo we can read. {ACTION}"
        raise RejectedImage(reason) from None
    width, height = image.size
    if width * height > settings.UPLOAD_MAX_PIXELS:
        raise _too_many_pixels(f"{width}×{height}")
    if min(width, height) < settings.UPLOAD_MIN_SIDE:
        raise RejectedImage(
            f"This photo is only {width}×{height} pixels. Photos need at least "
            f"{settings.UPLOAD_MIN_SIDE} pixels on the shorter side: please use the original "
            "from your camera, not a screenshot or a thumbnail."
        )
    return image


def _decoded(image: Image.Image) -> Image.Image:
    """Decode every pixel (a JPEG far over 2048 px at a reduced DCT scale: the whole stream is
    still read, in a fraction of the memory)."""
    if image.format == "JPEG" and max(image.size) > 2 * LONGEST_SIDE:
        image.draft("RGB", (2 * LONGEST_SIDE, 2 * LONGEST_SIDE))
    try:
        image.load()
    except Exception:
        raise RejectedImage(
            "This photo is incomplete or damaged (the upload may have been cut off). "
            "Please try it again."
        ) from None
    return image


def _srgb(image: Image.Image) -> Image.Image:
    """Upright RGB in sRGB: the camera's rotation applied, its colour profile converted (from
    the image's own mode: RGB, CMYK or grey), 16-bit grey scaled, transparency laid on white."""
    icc = image.info.get("icc_profile")
    # In place: an upright photo is not copied (12 megapixels are 36 MB to copy).
    ImageOps.exif_transpose(image, in_place=True)
    upright = image
    if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
        upright = upright.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if icc and upright.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            return ImageCms.profileToProfile(upright, source, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken or unusable profile: keep the pixels as they are
    if upright.mode in ("RGBA", "LA", "PA", "P") and (
        "A" in upright.mode or "transparency" in upright.info
    ):
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, "white")
        upright.paste(rgba, mask=rgba.getchannel("A"))
    return upright if upright.mode == "RGB" else upright.convert("RGB")


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    """Encode without any metadata: a fresh image carries no EXIF, XMP, ICC or comment."""
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def dhash(image: Image.Image) -> str:
    """A 64-bit difference hash: compare with `hamming` to find near-duplicate photos."""
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = list(small.get_flattened_data())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def quality_hints(image: Image.Image, *, original_size: tuple[int, int]) -> list[str]:
    """Advice that does not block: low resolution, blurry, too dark, too bright.

    (Near-duplicates need the rest of the set: see services.)
    """
    hints = []
    if min(original_size) < settings.UPLOAD_GOOD_SIDE:
        hints.append("low_resolution")
    gray = image.convert("L")
    gray.thumbnail((512, 512))
    # Sharpness: the spread of the Laplacian; a blurry photo has few strong edges.
    laplacian = gray.filter(ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], 1, 128))
    if ImageStat.Stat(laplacian).stddev[0] < settings.UPLOAD_BLUR_THRESHOLD:
        hints.append("blurry")
    brightness = ImageStat.Stat(gray).mean[0]
    if brightness < 50:
        hints.append("too_dark")
    elif brightness > 205:
        hints.append("too_bright")
    return hints


def selfie_normalise(content: bytes) -> NormalisedSelfie:
    """Verify `content` and return the normalised selfie, or raise RejectedImage."""
    image = _decoded(_open(content))
    original_size = image.size
    upright = _srgb(image)
    # Bicubic, Pillow's default: shrinking a camera photo by less than 2× it looks the same as
    # Lanczos, in two thirds of the time (bench: selfie processing).
    upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.BICUBIC)
    thumb = upright.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return NormalisedSelfie(
        image=_jpeg(upright, quality=90),
        thumbnail=_jpeg(thumb, quality=80),
        width=upright.width,
        height=upright.height,
        dhash=dhash(thumb),
        hints=quality_hints(upright, original_size=original_size),
    )
