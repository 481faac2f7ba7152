"""The client against the sandbox over HTTP: every call, every error class."""

from __future__ import annotations

import io
import logging

import pytest
import requests
from PIL import Image

from astria.client import AstriaClient, ImageFile
from astria.errors import AstriaError
from astria.schemas import PromptCreate, TuneCreate
from sandbox.models import SandboxImage, SandboxTune
from tests.astria.conftest import OTHER_KEY, SANDBOX_KEY
from tests.conftest import free_port
from tests.images import photo_bytes

FLUX = 1504944


def flux_tune(loopback, **fields) -> TuneCreate:
    return TuneCreate(
        title=fields.pop("title", "Ann - UUID - 0b7e4c1e"),
        name="woman",
        base_tune_id=FLUX,
        model_type="lora",
        preset="flux-lora-portrait",
        callback=f"{loopback.url}/callbacks/tune?secret=t1",
        image_urls=[f"{loopback.url}/photo-{n}.jpeg" for n in range(4)],
        **fields,
    )


def portrait(tune_id: int, loopback, **fields) -> PromptCreate:
    return PromptCreate(
        text=f"<lora:{tune_id}:1> ohwx woman in a navy suit, studio light",
        num_images=fields.pop("num_images", 2),
        callback=f"{loopback.url}/callbacks/prompt?secret=p1",
        **fields,
    )


def raised(call, *args, **kwargs) -> AstriaError:
    with pytest.raises(AstriaError) as info:
        call(*args, **kwargs)
    return info.value


# --- Every call -------------------------------------------------------------------------------


def test_it_creates_a_tune_from_image_urls_as_json(sandbox, loopback):
    tune = sandbox.client().tune_create(flux_tune(loopback))
    assert tune.title == "Ann - UUID - 0b7e4c1e"
    assert (tune.name, tune.base_tune_id, tune.model_type) == ("woman", FLUX, "lora")
    assert SandboxImage.objects.filter(tune_id=tune.id).count() == 4
    # Astria answers before a worker takes the tune; the timers are at zero: trained at once,
    # expiring 30 days later.
    assert tune.started_training_at is None and not tune.is_training
    fetched = sandbox.client().tune_get(tune.id)
    assert fetched.is_trained and not fetched.is_training
    assert fetched.started_training_at is not None
    assert (fetched.expires_at - fetched.trained_at).days == 30


def test_it_creates_a_tune_from_files_as_multipart(sandbox, loopback):
    files = [ImageFile(f"{n}.jpg", photo_bytes(seed=n)) for n in range(3)]
    tune = sandbox.client().tune_create(
        TuneCreate(
            title="Bob - UUID - 2",
            name="man",
            base_tune_id=FLUX,
            model_type="lora",
            characteristics={"eye_color": "blue eyes"},
            face_crop=True,
        ),
        images=files,
    )
    kept = SandboxImage.objects.filter(tune_id=tune.id).order_by("index")
    assert [bytes(image.content) for image in kept] == [f.content for f in files]


def test_it_lists_every_tune_page_by_page(sandbox):
    owner = SandboxTune.objects.create  # rows of the sandbox account, made directly
    from sandbox.services import account_of

    for n in range(130):
        owner(owner=account_of(SANDBOX_KEY), title=f"t{n}", name="man", base_url=sandbox.url)
    owner(owner=account_of(OTHER_KEY), title="not mine", name="man", base_url=sandbox.url)

    titles = [t.title for t in sandbox.client().tunes_list()]

    assert titles == [f"t{n}" for n in reversed(range(130))]
    # 120, then 10, then an empty page that says there is no more.
    listed = [r for r in sandbox.requests_log() if r["path"] == "/tunes"]
    assert [r["status"] for r in listed] == [200, 200, 200]


def test_it_deletes_a_tune(sandbox, loopback):
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    client.tune_delete(tune.id)
    error = raised(client.tune_get, tune.id)
    assert (error.status, error.permanent, error.not_found) == (404, True, True)


def test_it_prompts_a_lora_through_the_base_tune_and_fetches_the_results(sandbox, loopback):
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))

    created = client.prompt_create(FLUX, portrait(tune.id, loopback, seed=42, aspect_ratio="4:5"))
    prompt = client.prompt_get(FLUX, created.id)

    assert prompt.tune_id == FLUX
    assert prompt.is_done and not prompt.is_failed
    assert len(prompt.images) == 2
    response = requests.get(prompt.images[0], timeout=10)
    assert [r.status_code for r in response.history] == [302]  # Astria's redirecting links
    assert response.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (896, 1120)


def test_it_lists_likes_and_deletes_prompts(sandbox, loopback):
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    first = client.prompt_create(FLUX, portrait(tune.id, loopback, seed=1))
    second = client.prompt_create(FLUX, portrait(tune.id, loopback, seed=2))
    other = sandbox.client(OTHER_KEY)
    other.prompt_create(FLUX, PromptCreate(text="a lighthouse at dusk", num_images=1))

    assert [p.id for p in client.prompts_list(FLUX)] == [second.id, first.id]

    client.prompt_like(first.id)
    liked = requests.get(
        f"{sandbox.url}/prompts/{first.id}.json",
        headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
        timeout=10,
    )
    assert liked.json()["liked"] is True
    client.prompt_delete(second.id)
    assert [p.id for p in client.prompts_list(FLUX)] == [first.id]
    assert raised(client.prompt_get, FLUX, second.id).not_found


def test_it_inspects_an_image(sandbox):
    inspection = sandbox.client().image_inspect(
        name="man", image=ImageFile("small.jpg", photo_bytes((400, 300)))
    )
    assert inspection.name == "man"
    assert inspection.low_resolution is True
    assert inspection.includes_multiple_people is False


def test_a_prompt_that_ends_with_user_error_is_failed(sandbox, loopback):
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    sandbox.configure(train_seconds=0, generate_seconds=0, prompt_user_error=1)
    prompt = client.prompt_get(FLUX, client.prompt_create(FLUX, portrait(tune.id, loopback)).id)
    assert prompt.is_failed and not prompt.is_done
    assert "failed" in prompt.user_error


# --- Every error class ------------------------------------------------------------------------


def test_a_refused_request_is_a_permanent_422_with_astrias_message(sandbox, loopback):
    error = raised(sandbox.client().tune_create, flux_tune(loopback, title=""))
    assert (error.status, error.permanent) == (422, True)
    assert error.message == "title can't be blank"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"num_images": 9}, "num_images must be between 1 and 8"),
        ({"w": 1001, "h": 1024}, "w must be a positive multiple of 8"),
        ({"inpaint_faces": True}, "inpaint_faces requires super_resolution"),
    ],
)
def test_an_invalid_prompt_is_refused(sandbox, loopback, fields, message):
    client = sandbox.client()
    tune = client.tune_create(flux_tune(loopback))
    error = raised(client.prompt_create, FLUX, portrait(tune.id, loopback, **fields))
    assert (error.status, error.message) == (422, message)


def test_an_image_url_that_is_not_an_image_is_refused(sandbox, loopback):
    tune = flux_tune(loopback).model_copy(
        update={"image_urls": [f"{loopback.url}/photo-0.jpeg", f"{loopback.url}/not-an-image.jpeg"]}
    )
    error = raised(sandbox.client().tune_create, tune)
    assert (error.status, error.message) == (422, "image_urls[1] is not an image")
    missing = flux_tune(loopback).model_copy(update={"image_urls": [f"{loopback.url}/nope.jpeg"]})
    error = raised(sandbox.client().tune_create, missing)
    assert error.message == "image_urls[0] could not be downloaded (HTTP 404)"
    assert not SandboxTune.objects.filter(is_public=False).exists()


def test_a_lora_of_another_account_is_refused(sandbox, loopback):
    theirs = sandbox.client(OTHER_KEY).tune_create(flux_tune(loopback))
    error = raised(sandbox.client().prompt_create, FLUX, portrait(theirs.id, loopback))
    assert (error.status, error.permanent) == (422, True)
    assert error.message == f"LoRA {theirs.id} is not one of your tunes"
    assert raised(sandbox.client().tune_get, theirs.id).not_found


def test_a_wrong_key_is_a_permanent_401_and_the_key_is_never_shown(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "sd_wrong_and_secret_42"
    error = raised(sandbox.client(secret).tune_get, 1)
    assert (error.status, error.permanent) == (401, True)
    for text in (str(error), repr(error), error.message, caplog.text, repr(sandbox.client(secret))):
        assert secret not in text


@pytest.mark.parametrize("status", [429, 500])
def test_429_and_500_are_transient_and_change_nothing(sandbox, loopback, status):
    sandbox.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "status": status, "times": 1}],
    )
    client = sandbox.client()
    error = raised(client.tune_create, flux_tune(loopback))
    assert (error.status, error.permanent, error.may_have_been_processed) == (status, False, False)
    assert list(client.tunes_list()) == []
    # The fault was used up: the same call now succeeds.
    assert client.tune_create(flux_tune(loopback)).id


def test_a_504_is_transient_and_the_tune_was_probably_saved(sandbox, loopback):
    sandbox.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "status": 504, "times": 1}],
    )
    client = sandbox.client()
    error = raised(client.tune_create, flux_tune(loopback, title="Ann - UUID - 504"))
    assert (error.status, error.permanent, error.may_have_been_processed) == (504, False, True)
    # Look it up by its title instead of creating it again.
    assert [t.title for t in client.tunes_list()] == ["Ann - UUID - 504"]


def test_a_title_seen_before_returns_the_same_tune_when_the_account_is_idempotent(
    sandbox, loopback
):
    sandbox.configure(train_seconds=0, generate_seconds=0, idempotent_titles=True)
    client = sandbox.client()
    first = client.tune_create(flux_tune(loopback))
    again = client.tune_create(flux_tune(loopback))
    assert again.id == first.id
    assert len(list(client.tunes_list())) == 1


def test_a_slow_answer_times_out_as_transient(sandbox, loopback):
    sandbox.configure(faults=[{"method": "GET", "path": "^/tunes/", "delay": 2, "times": 1}])
    error = raised(sandbox.client(read_timeout=0.5).tune_get, FLUX)
    assert (error.status, error.permanent) == (None, False)
    assert error.may_have_been_processed is False  # a GET changes nothing
    assert "did not answer within 0.5 s" in error.message


def test_a_slow_post_may_have_been_processed(sandbox, loopback):
    sandbox.configure(faults=[{"method": "POST", "path": "^/tunes$", "delay": 2, "times": 1}])
    error = raised(sandbox.client(read_timeout=0.5).tune_create, flux_tune(loopback))
    assert (error.status, error.may_have_been_processed) == (None, True)


def test_no_server_is_a_transient_connection_error():
    client = AstriaClient(api_key="sd_x", base_url=f"http://127.0.0.1:{free_port()}")
    error = raised(client.tune_get, 1)
    assert (error.status, error.permanent) == (None, False)
    assert error.message == "could not connect to Astria"


class _Misbehaving:
    """A loopback server that answers every request with `reply` (None: hang up unanswered)."""

    def __init__(self, reply: bytes | None) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)  # the request arrived…
                if self.reply is not None:
                    conn.sendall(self.reply)
                # …and the connection closes, answered or not.

    def close(self) -> None:
        self.sock.close()


def test_a_connection_that_breaks_after_sending_may_have_created_the_tune(loopback):
    server = _Misbehaving(reply=None)
    try:
        client = AstriaClient(api_key="sd_x", base_url=server.url)
        error = raised(client.tune_create, flux_tune(loopback))
        assert (error.status, error.permanent, error.may_have_been_processed) == (None, False, True)
        assert error.message == "the connection to Astria broke"
        assert raised(client.tune_get, 1).may_have_been_processed is False
    finally:
        server.close()


def test_an_object_that_does_not_parse_is_an_astria_error():
    body = b'{"id": "not-a-number"}'
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    server = _Misbehaving(reply=reply)
    try:
        error = raised(AstriaClient(api_key="sd_x", base_url=server.url).tune_get, 1)
        assert error.message == "Astria sent a Tune that does not parse (id)"
    finally:
        server.close()
