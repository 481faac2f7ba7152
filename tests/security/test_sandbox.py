"""The development sandbox is no port scanner and no leak: it downloads `image_urls` only from
the portal's own storage and calls back only the portal, refusing anything else (422, like
Astria) before connecting; and nothing the well-known sandbox key can read (its answers, its
request log) shows a callback secret, a signed URL's signature or a copy of a selfie."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from astria.client import ImageFile
from astria.errors import AstriaError
from astria.sandbox.models import SandboxImage, SandboxTune
from astria.schemas import TuneCreate
from tests.astria.conftest import SANDBOX_KEY, loopback, sandbox  # noqa: F401 - fixtures
from tests.astria.test_client_contract import FLUX, flux_tune, portrait
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
    assert [bytes(i.content) for i in kept] == selfies  # kept to render results from, only
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
