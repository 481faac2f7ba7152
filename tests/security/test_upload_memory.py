"""No upload, accepted or refused, makes a process hold more than 256 MB above its idle size.

Each adversarial file goes through `selfie_normalise` (what finishing an upload runs) in a fresh
Python process, which reports the peak of its resident size (`ru_maxrss`) above what it held once
Django, Pillow and pillow-heif were loaded; the file is read after that, so its bytes count. The
files are made here, into tmp_path: zero-filled PNGs (a few KB that decode to hundreds of MB),
JPEGs at the pixel limit, WebPs, and the largest HEICs allowed; and four at once, in threads of
one process, as gunicorn runs them. What is accepted must come out as a correct normalised JPEG;
what is refused, with a sentence a person can act on.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.conftest import BASE_DIR, subprocess_env
from tests.uploads.conftest import selfie_set, stored, upload  # noqa: F401 - fixture
from uploads.models import Selfie

# The module's children start together for every case it holds (the `normalising` fixture):
# under pytest-xdist the whole module runs in one process, so they start once.
pytestmark = pytest.mark.xdist_group("upload_memory")

LIMIT = 256 * 1024 * 1024  # bytes above idle, for any process

CHILD = """
import json, resource, sys
from concurrent.futures import ThreadPoolExecutor
import django
django.setup()
from PIL import Image
from uploads.images import RejectedImage, VerifierBusy, selfie_normalise
Image.init()  # every plugin imported: part of an idle web process, not of one upload

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

def normalise(content):
    for _ in range(100):  # a check refused as busy is asked again, as the upload page does
        try:
            return selfie_normalise(content)
        except VerifierBusy:
            continue
        except RejectedImage as refused:
            return refused
    raise SystemExit("still busy after 100 tries")

idle = peak()
at_once = int(sys.argv[3])  # threads, as gunicorn's run requests side by side
contents = []
for _ in range(at_once):  # a copy each, as each request reads its own
    with open(sys.argv[1], "rb") as f:
        contents.append(f.read())
with ThreadPoolExecutor(at_once) as pool:
    outcomes = list(pool.map(normalise, contents))
if all(isinstance(outcome, RejectedImage) for outcome in outcomes):
    result = {"refused": outcomes[0].reason}
elif any(isinstance(outcome, RejectedImage) for outcome in outcomes):
    result = {"mixed": [getattr(outcome, "reason", "accepted") for outcome in outcomes]}
else:
    with open(sys.argv[2], "wb") as f:
        f.write(outcomes[0].image)
    result = {"accepted": [outcomes[0].width, outcomes[0].height]}
result.update(idle=idle, held=peak() - idle)
print(json.dumps(result))
"""

# Linux carries ru_maxrss over fork and exec: started by pytest (hundreds of MB while it makes
# the files), the child would begin at pytest's peak. Started by a bare Python, it begins small.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:], check=False).returncode)"

BACKGROUND, FACE = (120, 80, 60), (224, 172, 140)
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
SAMPLE = (800, 600)
Size = tuple[int, int]
Colours = tuple[tuple[float, float, tuple[int, int, int]], ...]  # at (x, y) fractions
# Quick to make: x265 takes half a minute for 33 MP otherwise, zlib and libwebp seconds.
FAST = {"preset": "ultrafast"}
FASTEST: dict[str, dict[str, object]] = {"PNG": {"compress_level": 1}, "WEBP": {"method": 0}}


# --- The files --------------------------------------------------------------------------------


def photo(size: Size) -> Image.Image:
    """A plain background with an oval "face" in the middle: colours a test can look for."""
    image = Image.new("RGB", size, BACKGROUND)
    w, h = size
    ImageDraw.Draw(image).ellipse([w * 0.3, h * 0.2, w * 0.7, h * 0.65], fill=FACE)
    return image


def zeros(mode: str, fmt: str, **options: object) -> Callable[[Size], bytes]:
    def make(size: Size) -> bytes:
        out = io.BytesIO()
        Image.new(mode, size, 0).save(out, fmt, **options, **FASTEST.get(fmt, {}))
        return out.getvalue()

    return make


def jpeg(**options: object) -> Callable[[Size], bytes]:
    def make(size: Size) -> bytes:
        out = io.BytesIO()
        photo(size).save(out, "JPEG", quality=90, **options)
        return out.getvalue()

    return make


def heic(size: Size) -> bytes:
    """What phones write: 8-bit, 4:2:0, no alpha."""
    import pillow_heif

    out = io.BytesIO()
    pillow_heif.from_pillow(photo(size)).save(out, quality=60, enc_params=FAST)
    return out.getvalue()


def heic_10_bit_444_alpha(size: Size) -> bytes:
    """The HEIC that costs libheif the most per pixel: 10-bit, 4:4:4, with (opaque) alpha."""
    import pillow_heif

    w, h = size
    pixel = b"".join(v.to_bytes(2, "little") for v in (120 << 8, 80 << 8, 60 << 8, 65535))
    out = io.BytesIO()
    heif = pillow_heif.from_bytes("RGBA;16", size, pixel * (w * h))
    heif.save(out, quality=60, chroma=444, enc_params=FAST)
    return out.getvalue()


def largest(make: Callable[[Size], bytes]) -> Callable[[], bytes]:
    """The largest 4:3 file of `make`'s kind the portal takes. For a JPEG the limit depends on
    the size (the DCT scale it is read at), so it is asked again of each file made."""
    from uploads.images import pixel_limit

    def limit(content: bytes) -> int:
        with Image.open(io.BytesIO(content)) as image:
            return pixel_limit(image, content)

    def made() -> bytes:
        content, size = make(SAMPLE), SAMPLE
        for _ in range(4):
            unit = math.isqrt(limit(content) // 12) // 2 * 2  # even sides for HEVC's 4:2:0
            wanted = (4 * unit, 3 * unit)
            if wanted == size:
                return content
            content, size = make(wanted), wanted
        raise AssertionError(f"no stable size under the limit, last {size}")

    return made


def fixed(make: Callable[[Size], bytes], size: Size) -> Callable[[], bytes]:
    return lambda: make(size)


@dataclass(frozen=True)
class Case:
    make: Callable[[], bytes]
    accepted: bool
    colours: Colours = ()
    size: Size = (2048, 1536)  # normalised
    at_least: int = 0  # pixels: the limit still takes such photos
    at_once: int = 1  # the same file normalised by this many threads of one process


def everywhere(colour: tuple[int, int, int]) -> Colours:
    return ((0.5, 0.5, colour), (0.05, 0.05, colour), (0.95, 0.95, colour))


A_FACE = ((0.5, 0.4, FACE), (0.05, 0.05, BACKGROUND), (0.95, 0.95, BACKGROUND))
SQUARE = (2048, 2048)

CASES = {
    # 64 megapixels, the pixel limit: 124 KB that decode to 256 MB (LA, RGBA) or 128 MB (I;16).
    "LA PNG 8000×8000 zeros": Case(fixed(zeros("LA", "PNG"), (8000, 8000)), False),
    "RGBA PNG 8000×8000 zeros": Case(fixed(zeros("RGBA", "PNG"), (8000, 8000)), False),
    "I;16 PNG 8000×8000 zeros": Case(
        fixed(zeros("I;16", "PNG"), (8000, 8000)), True, everywhere(BLACK), SQUARE
    ),
    "P PNG 8000×8000 zeros": Case(
        fixed(zeros("P", "PNG"), (8000, 8000)), True, everywhere(BLACK), SQUARE
    ),
    # The largest LA and RGBA may be: fully transparent, so white once laid on white.
    "LA PNG zeros at its limit": Case(
        largest(zeros("LA", "PNG")), True, everywhere(WHITE), at_least=24_000_000
    ),
    "RGBA PNG zeros at its limit": Case(
        largest(zeros("RGBA", "PNG")), True, everywhere(WHITE), at_least=24_000_000
    ),
    # Gunicorn runs 4 threads a process (WEB_THREADS): four finishing together.
    "four LA PNGs at their limit at once": Case(
        largest(zeros("LA", "PNG")), True, everywhere(WHITE), at_once=4
    ),
    "four 12 MP JPEGs at once": Case(fixed(jpeg(), (4000, 3000)), True, A_FACE, at_once=4),
    "RGBA PNG 4000×3000 zeros": Case(
        fixed(zeros("RGBA", "PNG"), (4000, 3000)), True, everywhere(WHITE)
    ),
    # A camera's 64 MP JPEG is read at a quarter scale; a progressive one keeps every DCT
    # coefficient at full size until its last scan.
    "JPEG 9216×6912": Case(fixed(jpeg(), (9216, 6912)), True, A_FACE),
    "progressive JPEG 9216×6912": Case(fixed(jpeg(progressive=True), (9216, 6912)), False),
    "progressive 4:4:4 JPEG at its limit": Case(
        largest(jpeg(progressive=True, subsampling=0)), True, A_FACE, at_least=16_000_000
    ),
    # libwebp's animation decoder holds several full canvases: 2.5 KB became 1.3 GB.
    "WebP 8000×8000 zeros": Case(fixed(zeros("RGBA", "WEBP", lossless=True), (8000, 8000)), False),
    "WebP zeros at its limit": Case(
        largest(zeros("RGBA", "WEBP", lossless=True)), True, everywhere(WHITE), at_least=8_000_000
    ),
    # The largest HEIC allowed, which must take an iPhone's 24 MP (5712×4284); and the largest
    # of the kind that costs the most per pixel.
    "largest HEIC allowed": Case(largest(heic), True, A_FACE, at_least=5712 * 4284),
    "largest 10-bit 4:4:4 HEIC with alpha allowed": Case(
        largest(heic_10_bit_444_alpha), True, everywhere(BACKGROUND), at_least=6_000_000
    ),
}


# --- Children ---------------------------------------------------------------------------------


@dataclass
class Normalising:
    """`selfie_normalise` of one file, in a child process of its own (and its own session)."""

    process: subprocess.Popen[str]
    pixels: int
    normalised: Path

    @classmethod
    def start(cls, content: bytes, folder: Path, *, at_once: int) -> Normalising:
        source, normalised = folder / "upload", folder / "normalised.jpg"
        source.write_bytes(content)
        with Image.open(source) as image:
            pixels = image.width * image.height
        command = [sys.executable, "-c", CHILD, str(source), str(normalised), str(at_once)]
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *command],
            cwd=BASE_DIR,
            env=subprocess_env(DJANGO_SETTINGS_MODULE="photoshoot.settings", DJANGO_ENV="test"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return cls(process, pixels, normalised)

    def result(self) -> dict[str, object]:
        out, err = self.process.communicate(timeout=300)
        assert self.process.returncode == 0, err[-3000:]
        return json.loads(out.strip().splitlines()[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def normalising(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Normalising]]:
    """A child for each selected case, started as soon as its file is made: they work side by
    side while the next files are made (a minute one after the other, a few seconds so)."""
    chosen = [
        item.callspec.params["name"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    ]
    started: dict[str, Normalising] = {}
    try:
        for name in dict.fromkeys(chosen):
            case, folder = CASES[name], tmp_path_factory.mktemp("case")
            started[name] = Normalising.start(case.make(), folder, at_once=case.at_once)
        yield started
    finally:
        for child in started.values():
            child.stop()


@pytest.mark.parametrize("name", CASES)
def test_it_holds_at_most_256_mb_for_any_upload(name, normalising):
    case, child = CASES[name], normalising[name]

    result = child.result()

    held = int(result["held"])  # type: ignore[call-overload]
    assert held <= LIMIT, f"{name}: held {held / 2**20:.0f} MB above idle: {result}"
    assert child.pixels >= case.at_least, f"{name}: the limit is {child.pixels} pixels"
    if not case.accepted:
        assert "refused" in result, f"{name} was accepted: {result}"
        assert_plain(str(result["refused"]))
        return
    assert "accepted" in result, f"{name} was refused: {result}"
    assert_normalised(child.normalised, case)


def assert_plain(reason: str) -> None:
    """A sentence for a person: what is wrong and what to do, no exception text."""
    assert reason[0].isupper() and reason.endswith("."), reason
    assert "Please" in reason and "megapixels" in reason, reason
    assert not any(word in reason for word in ("Error", "Traceback", "bytes", "mode")), reason
    assert len(reason) < 250, reason


def assert_normalised(path: Path, case: Case) -> None:
    with Image.open(path) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", case.size)
        assert not image.info.get("exif") and not image.info.get("icc_profile")
        w, h = image.size
        for fx, fy, expected in case.colours:
            actual = image.getpixel((int(fx * (w - 1)), int(fy * (h - 1))))
            assert all(abs(a - e) <= 12 for a, e in zip(actual, expected, strict=True)), (
                f"at {fx},{fy}: {actual}, expected {expected}"
            )


# --- In the portal ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_zero_png_at_the_finish_and_keeps_nothing(client, owner, selfie_set):  # noqa: F811
    client.force_login(owner)

    result = upload(client, selfie_set, "zeros.png", zeros("LA", "PNG")((8000, 8000)), "image/png")

    assert result.finish.status_code == 422
    assert result.finish.json()["error"] == (
        "This PNG image has 8000×8000 pixels, more than the 41 megapixels we can process in one "
        "like it. Please upload a smaller copy, or a photo straight from your camera."
    )
    assert not Selfie.objects.exists()
    assert not stored(result.key)


def test_it_resamples_band_by_band_without_seams():
    """The bands make one image: the very pixels of Pillow resampling the whole at once (so
    the very bytes, once written as the portal writes its JPEGs)."""
    from uploads.images import selfie_normalise

    size = (3000, 2250)
    noise = Image.frombytes("RGB", size, random.Random(4).randbytes(size[0] * size[1] * 3))
    png, whole = io.BytesIO(), io.BytesIO()
    noise.save(png, "PNG", compress_level=1)
    resized = noise.resize((2048, 1536), Image.Resampling.BICUBIC)
    resized.save(whole, "JPEG", quality=90, optimize=True)

    assert selfie_normalise(png.getvalue()).image == whole.getvalue()


def test_it_turns_a_heic_upright_once():
    """A HEIC's pixels are read from libheif in place, which has turned them already: the
    stored copy is upright, not turned twice."""
    from uploads.images import selfie_normalise

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    out = io.BytesIO()
    photo((1200, 800)).save(out, "HEIF", exif=exif.tobytes(), quality=80)

    normalised = selfie_normalise(out.getvalue())

    assert (normalised.width, normalised.height) == (800, 1200)


def test_it_asks_to_try_again_when_the_process_holds_all_it_may(monkeypatch):
    from uploads import images

    monkeypatch.setattr(images, "WAIT_SECONDS", 0.2)
    photo_jpeg = jpeg()((1200, 900))
    # Another thread's verification of an upload at every limit (reached into: no thread
    # could be made to hold it at just the right moment otherwise).
    held = images._memory.held(images._Memory.capacity())
    with held, pytest.raises(images.VerifierBusy) as refused:
        images.selfie_normalise(photo_jpeg)

    assert str(refused.value) == (
        "We are checking a lot of photos right now; this one will be checked in a moment."
    )
    assert images.selfie_normalise(photo_jpeg).width == 1200  # once it is done
