"""The development sandbox is no port scanner and no leak: it downloads `image_urls` only from
the portal's own storage and calls back only the portal, refusing anything else (422, like
Astria) before connecting; nothing the well-known sandbox key can read (its answers, its
request log, its results) shows a callback secret, a signed URL's signature or a copy of a
selfie; and no image posted with that key is decoded beyond its header when it has more pixels
than the sandbox takes."""

from __future__ import annotations

import functools
import io
import json
import math
import struct
import subprocess
import sys
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image, ImageDraw, ImageOps

from astria.client import ImageFile
from astria.errors import AstriaError
from astria.schemas import PromptCreate, TuneCreate
from sandbox.models import SandboxImage, SandboxTune
from tests.astria.conftest import OTHER_KEY, SANDBOX_KEY, loopback, sandbox  # noqa: F401 - fixtures
from tests.astria.test_client_contract import FLUX, flux_tune, portrait
from tests.conftest import BASE_DIR, subprocess_env
from tests.images import photo_bytes
from tests.security.listener import listener  # noqa: F401 - fixture
from uploads import storage

AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}


def tune_post(sandbox, **fields) -> requests.Response:  # noqa: F811
    tune = {"title": "Ann - UUID - 1", "name": "woman", "base_tune_id": FLUX, **fields}
    return requests.post(f"{sandbox.url}/tunes", json={"tune": tune}, headers=AUTH, timeout=30)


def stored_photo(seed: int = 0) -> str:
    return storages["default"].save(f"selfies/{seed}.jpg", ContentFile(photo_bytes(seed=seed)))


@pytest.fixture
def portal_storage(settings, live_server):
    """The portal on the live server, with no stand-in hosts: only its own storage counts."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ASTRIA_SANDBOX_OUTBOUND_HOSTS = []


# --- Where it downloads from ------------------------------------------------------------------


def test_image_urls_on_another_loopback_port_are_refused_unfetched(
    sandbox,  # noqa: F811
    portal_storage,
    listener,  # noqa: F811
):
    good = storage.fetch_url(stored_photo())
    response = tune_post(sandbox, image_urls=[good, f"{listener.url}/photo.jpeg"])

    assert response.status_code == 422
    assert response.json() == {
        "error": "image_urls[1] must be a URL of the portal's own storage; "
        "the sandbox downloads nothing else"
    }
    assert listener.connections() == 0
    assert not SandboxTune.objects.filter(owner__gt="").exists()


def test_a_redirect_away_from_the_storage_is_refused_before_it_is_followed(
    sandbox,  # noqa: F811
    loopback,  # noqa: F811
    listener,  # noqa: F811
):
    # The loopback photo server stands in for the storage (tests.astria.conftest allows it).
    loopback.redirects["/hop.jpeg"] = f"{listener.url}/photo.jpeg"
    response = tune_post(sandbox, image_urls=[f"{loopback.url}/hop.jpeg"])

    assert response.status_code == 422
    assert "image_urls[0] must be a URL of the portal's own storage" in response.json()["error"]
    assert listener.connections() == 0


def test_the_portals_local_signed_urls_are_downloaded(sandbox, portal_storage):  # noqa: F811
    response = tune_post(sandbox, image_urls=[storage.fetch_url(stored_photo(n)) for n in (1, 2)])
    assert response.status_code == 201, response.text
    assert SandboxImage.objects.filter(tune_id=response.json()["id"]).count() == 2


def test_the_portals_s3_urls_are_downloaded(sandbox, portal_storage, s3_storage):  # noqa: F811
    # moto's server on its random port is allowed because the storage's own URLs name it.
    url = storage.fetch_url(stored_photo(3))
    assert url.startswith(s3_storage["endpoint_url"] + "/")
    response = tune_post(sandbox, image_urls=[url])
    assert response.status_code == 201, response.text


# --- Whom it calls back -----------------------------------------------------------------------


def test_a_callback_outside_the_portal_is_refused_and_never_called(
    sandbox,  # noqa: F811
    portal_storage,
    listener,  # noqa: F811
):
    image = storage.fetch_url(stored_photo())
    response = tune_post(sandbox, image_urls=[image], callback=f"{listener.url}/cb?secret=x")

    assert response.status_code == 422
    assert response.json() == {
        "error": "callback must be a URL of the portal (PUBLIC_BASE_URL); "
        "the sandbox calls nothing else back"
    }
    assert listener.connections() == 0


# --- What it shows ----------------------------------------------------------------------------


def everything_the_key_reads(sandbox, tune_id: int, prompt_id: int) -> str:  # noqa: F811
    paths = [
        "/tunes",
        f"/tunes/{tune_id}",
        f"/tunes/{FLUX}/prompts",
        f"/tunes/{FLUX}/prompts/{prompt_id}",
        f"/prompts/{prompt_id}",
        "/_sandbox/requests",
    ]
    answers = [requests.get(f"{sandbox.url}{p}", headers=AUTH, timeout=10) for p in paths]
    assert [a.status_code for a in answers] == [200] * len(paths)
    return "\n".join(json.dumps(a.json()) for a in answers)


def test_no_answer_and_no_request_log_line_shows_a_secret(
    sandbox,  # noqa: F811
    loopback,  # noqa: F811
    settings,
    live_server,
):
    settings.PUBLIC_BASE_URL = live_server.url
    signed = storage.fetch_url(stored_photo())
    signature = parse_qs(urlsplit(signed).query)["t"][0]
    client = sandbox.client()
    tune = client.tune_create(
        flux_tune(loopback).model_copy(
            update={
                "image_urls": [signed],
                "callback": f"{loopback.url}/callbacks/tune?secret=tune-secret-4f1c",
            }
        )
    )
    prompt = client.prompt_create(
        FLUX,
        portrait(tune.id, loopback).model_copy(
            update={"callback": f"{loopback.url}/callbacks/prompt?secret=prompt-secret-9a2e"}
        ),
    )
    assert len(loopback.received) == 2  # the callbacks themselves still carry their secrets

    shown = everything_the_key_reads(sandbox, tune.id, prompt.id)

    assert f"{loopback.url}/callbacks/tune" in shown  # the callbacks are shown, redacted
    for secret in ("tune-secret-4f1c", "prompt-secret-9a2e", signature):
        assert secret not in shown


def test_the_selfies_a_tune_was_sent_are_never_handed_back(sandbox):  # noqa: F811
    selfies = [photo_bytes(seed=n) for n in range(3)]
    client = sandbox.client()
    created = client.tune_create(
        TuneCreate(title="Cy - UUID - 3", name="man", base_tune_id=FLUX, model_type="lora"),
        images=[ImageFile(f"{n}.jpg", content) for n, content in enumerate(selfies)],
    )
    tunes = [created, client.tune_get(created.id), *client.tunes_list()]
    links = [url for tune in tunes for url in tune.orig_images]
    assert not any(requests.get(url, timeout=10).content in selfies for url in links)

    kept = SandboxImage.objects.filter(tune_id=created.id).order_by("index")
    assert [bytes(i.content) for i in kept] == selfies  # kept, as Astria keeps them, only
    for image in kept:
        response = requests.get(f"{sandbox.url}/files/{image.token}.jpg", timeout=10)
        assert response.status_code == 404


def test_a_refused_tune_is_an_astria_error_for_the_client(sandbox, listener):  # noqa: F811
    with pytest.raises(AstriaError) as info:
        sandbox.client().tune_create(
            TuneCreate(title="Di - UUID - 4", name="man", image_urls=[f"{listener.url}/a.jpg"])
        )
    assert (info.value.status, info.value.permanent) == (422, True)
    assert listener.connections() == 0


# --- Where its result links lead --------------------------------------------------------------


def result_link(sandbox) -> str:  # noqa: F811
    prompt = requests.post(
        f"{sandbox.url}/tunes/1504944/prompts",
        json={"prompt": {"text": "a lighthouse at dusk", "num_images": 1}},
        headers=AUTH,
        timeout=30,
    ).json()
    got = requests.get(f"{sandbox.url}/prompts/{prompt['id']}", headers=AUTH, timeout=30)
    [link] = got.json()["images"]
    return link


def test_a_result_redirects_only_to_the_servers_other_loopback_name(sandbox):  # noqa: F811
    """Results are served on another host than the API's (as Astria's storage is), chosen from
    the request's own Host: the other loopback name of an allowed host, never one a caller
    makes up (that is a 400 before any redirect)."""
    link = result_link(sandbox)
    port = urlsplit(link).port
    for host, other in (("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")):
        response = requests.get(
            link, headers={"Host": f"{host}:{port}"}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).netloc == f"{other}:{port}"
    forged = requests.get(
        link, headers={"Host": f"attacker.example:{port}"}, allow_redirects=False, timeout=10
    )
    assert forged.status_code == 400 and "Location" not in forged.headers


def test_another_account_can_neither_delete_nor_expire_a_tune(sandbox, loopback):  # noqa: F811
    tune_id = tune_post(sandbox, image_urls=[f"{loopback.url}/photo-0.jpeg"]).json()["id"]
    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    deleted = requests.delete(f"{sandbox.url}/tunes/{tune_id}", headers=other, timeout=10)
    expired = requests.post(
        f"{sandbox.url}/_sandbox/tunes/{tune_id}/expire", headers=other, timeout=10
    )
    assert (deleted.status_code, expired.status_code) == (404, 403)
    shown = requests.get(f"{sandbox.url}/tunes/{tune_id}", headers=AUTH, timeout=10)
    assert shown.status_code == 200 and shown.json()["expires_at"] > shown.json()["trained_at"]


# --- What its results are made of -------------------------------------------------------------

GREEN, MAGENTA = (0, 255, 0), (255, 0, 255)


def checkerboard(size: tuple[int, int] = (768, 1024), square: int = 32) -> Image.Image:
    """A training "photo" nothing else looks like: 32 px squares of pure green and magenta."""
    image = Image.new("RGB", size, GREEN)
    draw = ImageDraw.Draw(image)
    for top in range(0, size[1], square):
        for left in range(0, size[0], square):
            if (left // square + top // square) % 2:
                draw.rectangle([left, top, left + square - 1, top + square - 1], fill=MAGENTA)
    return image


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def correlation(a: Image.Image, b: Image.Image) -> float:
    """Pearson's r of two images' green channels (255 on the board's green, 0 on its magenta),
    compared a quarter of their size (squares stay 8 px across, so the pattern survives)."""
    size = (a.width // 4, a.height // 4)
    xs, ys = (
        list(i.getchannel("G").resize(size, Image.Resampling.BOX).get_flattened_data())
        for i in (a, b)
    )
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    spread = math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
    return cov / spread if spread else 0.0


def test_a_result_shows_nothing_of_the_photos_its_tune_was_trained_on(sandbox):  # noqa: F811
    """Anyone with the key may prompt `<lora:ID:1>` for any tune of the key's account and fetch
    the results by their public links, so a result must not be made from the training photos.

    What this checks: the tune is trained on one checkerboard photo, and the result's green
    channel is uncorrelated (|r| < 0.1) with that photo both cut to the result's shape (as
    `ImageOps.fit` does) and stretched to it; a result drawn over the photo, even faded, shows
    its squares (r = 0.62 for the photo at 65% under a tint, as results used to be made). It
    does not prove that no pixel of the photo was used in some other way: for that, the
    renderer takes no photo at all (sandbox/render.py).
    """
    board = checkerboard()
    client = sandbox.client()
    tune = client.tune_create(
        TuneCreate(title="Ed - UUID - 5", name="man", base_tune_id=FLUX, model_type="lora"),
        images=[ImageFile("board.jpg", jpeg(board))],
    )
    created = client.prompt_create(
        FLUX, PromptCreate(text=f"<lora:{tune.id}:1> ohwx man", num_images=1, aspect_ratio="4:5")
    )
    [link] = client.prompt_get(FLUX, created.id).images

    response = requests.get(link, timeout=10)  # no key: Astria's result links are public

    assert response.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as result:
        assert (result.format, result.size) == ("JPEG", (896, 1120))
        result = result.convert("RGB")
    for photo in (ImageOps.fit(board, result.size), board.resize(result.size)):
        assert abs(correlation(result, photo)) < 0.1


# --- What it decodes --------------------------------------------------------------------------

BOMB_SIZE = (8000, 8000)  # 64 MP: under Pillow's own bomb limit, 256 MB once decoded as LA


@functools.cache
def zero_png() -> bytes:
    """An 8000×8000 grey-and-alpha PNG of zeros, 124 KB, written row by row so that making it
    holds no pixels here: the file of hole 4, which took a web process to ~870 MB."""
    width, height = BOMB_SIZE
    row = bytes(1 + 2 * width)  # filter byte 0, then grey and alpha of each pixel
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 4, 0, 0, 0)  # 8-bit, colour type 4: LA
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


TOO_MANY = "is 8000×8000 pixels; the sandbox takes at most 25 megapixels"


def test_a_zero_png_sent_as_a_tune_photo_is_refused(sandbox):  # noqa: F811
    response = requests.post(
        f"{sandbox.url}/tunes",
        data={"tune[title]": "Fa - UUID - 6", "tune[name]": "man"},
        files=[("tune[images][]", ("zeros.png", zero_png(), "image/png"))],
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 422
    assert response.json() == {"error": f"images[0] (zeros.png) {TOO_MANY}"}
    assert not SandboxTune.objects.filter(owner__gt="").exists()


def test_a_zero_png_behind_an_image_url_is_refused(sandbox, loopback):  # noqa: F811
    loopback.files["/zeros.png"] = (zero_png(), "image/png")
    response = tune_post(sandbox, image_urls=[f"{loopback.url}/zeros.png"])
    assert response.status_code == 422
    assert response.json() == {"error": f"image_urls[0] {TOO_MANY}"}
    assert not SandboxTune.objects.filter(owner__gt="").exists()


def test_a_zero_png_sent_to_be_inspected_is_refused(sandbox):  # noqa: F811
    response = requests.post(
        f"{sandbox.url}/images/inspect",
        data={"name": "man"},
        files={"file": ("zeros.png", zero_png(), "image/png")},
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 422
    assert response.json() == {"error": f"file {TOO_MANY}"}


DECODING = """
import json, resource, sys
from PIL import Image
from sandbox import render
Image.init()  # every plugin imported: part of an idle web process, not of one request

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

def outcome(check, content):
    try:
        check(content)
    except render.NotAnImage as refused:
        return str(refused)
    return "accepted"

idle = peak()
with open(sys.argv[1], "rb") as f:
    content = f.read()
outcomes = [
    outcome(render.image_check, content),
    outcome(lambda c: render.image_inspect(c, name="man"), content),
]
print(json.dumps({"outcomes": outcomes, "held": peak() - idle}))
"""
# Linux carries ru_maxrss over fork and exec: started by a bare Python, the child begins small.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:], check=False).returncode)"


def test_the_checks_refuse_a_zero_png_without_decoding_it(tmp_path):
    """The checks the views run (of a tune's photos and `image_urls`, and of an inspection), on
    the file above, in a fresh process: both refuse it, and the process holds no more than
    16 MB above its idle size, where decoding it would hold 256 MB."""
    source = tmp_path / "zeros.png"
    source.write_bytes(zero_png())
    child = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", DECODING, str(source)],
        cwd=BASE_DIR,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    measured = json.loads(child.stdout.strip().splitlines()[-1])

    assert measured["outcomes"] == [TOO_MANY, TOO_MANY]
    assert measured["held"] < 16 * 1024 * 1024
