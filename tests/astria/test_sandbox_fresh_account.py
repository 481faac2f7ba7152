"""The sandbox behaves as a fresh real Astria account does (CONTRACT §8): no idempotency unless
a test switches it on, training that starts after the create, results on another host,
deletion, and expiry 30 days after training."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone

from sandbox.control import SandboxConfig
from sandbox.models import SandboxImage, SandboxPrompt, SandboxTune
from tests.astria.conftest import OTHER_KEY, SANDBOX_KEY
from tests.conftest import BASE_DIR, subprocess_env
from tests.images import photo_bytes

AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}
FLUX = 1504944


def tune_post(sandbox, loopback, title: str = "Ann - UUID - 1", **fields) -> requests.Response:
    body = {
        "tune": {
            "title": title,
            "name": "woman",
            "base_tune_id": FLUX,
            "model_type": "lora",
            "image_urls": [f"{loopback.url}/photo-0.jpeg"],
            **fields,
        }
    }
    return requests.post(f"{sandbox.url}/tunes", json=body, headers=AUTH, timeout=10)


def prompt_post(sandbox, text: str = "a lighthouse at dusk", **fields) -> requests.Response:
    body = {"prompt": {"text": text, "num_images": 1, **fields}}
    return requests.post(
        f"{sandbox.url}/tunes/1504944/prompts", json=body, headers=AUTH, timeout=10
    )


def get(sandbox, path: str, key: str = SANDBOX_KEY) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return requests.get(sandbox.url + path, headers=headers, timeout=10)


def delete(sandbox, path: str, key: str = SANDBOX_KEY) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return requests.delete(sandbox.url + path, headers=headers, timeout=10)


# --- Idempotency: an account setting, off unless its owner turns it on ------------------------


def test_both_idempotency_knobs_are_off_by_default(sandbox):
    assert SandboxConfig().idempotent_titles is False
    assert SandboxConfig().idempotent_prompts is False
    response = requests.delete(f"{sandbox.url}/_sandbox/config", headers=AUTH, timeout=10)
    assert response.json()["idempotent_titles"] is False
    assert response.json()["idempotent_prompts"] is False


def test_a_title_seen_before_makes_a_second_tune_on_a_fresh_account(sandbox, loopback):
    first = tune_post(sandbox, loopback, title="Ann - UUID - twice")
    again = tune_post(sandbox, loopback, title="Ann - UUID - twice")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] != again.json()["id"]
    assert [t["title"] for t in get(sandbox, "/tunes").json()] == ["Ann - UUID - twice"] * 2


def test_equal_prompts_are_two_paid_prompts_on_a_fresh_account(sandbox):
    first = prompt_post(sandbox, seed=7, cfg_scale=3)
    again = prompt_post(sandbox, seed=7, cfg_scale=3)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] != again.json()["id"]
    assert len(get(sandbox, "/tunes/1504944/prompts").json()) == 2


def test_a_504_after_the_prompt_was_saved_then_a_retry_makes_two_prompts(sandbox):
    sandbox.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes/1504944/prompts$", "status": 504, "times": 1}],
    )
    assert prompt_post(sandbox, seed=1).status_code == 504
    retried = prompt_post(sandbox, seed=1)
    assert retried.status_code == 201
    listed = get(sandbox, "/tunes/1504944/prompts").json()
    assert [p["text"] for p in listed] == ["a lighthouse at dusk"] * 2
    assert retried.json()["id"] == listed[0]["id"]


def test_with_idempotent_prompts_a_retry_after_a_504_returns_the_saved_prompt(sandbox):
    sandbox.configure(
        train_seconds=0,
        generate_seconds=0,
        idempotent_prompts=True,
        faults=[{"method": "POST", "path": "^/tunes/1504944/prompts$", "status": 504, "times": 1}],
    )
    assert prompt_post(sandbox, seed=1).status_code == 504
    retried = prompt_post(sandbox, seed=1)
    [saved] = get(sandbox, "/tunes/1504944/prompts").json()
    assert (retried.status_code, retried.json()["id"]) == (201, saved["id"])


@pytest.mark.parametrize(
    "change",
    [
        {"text": "a lighthouse at dawn"},
        {"seed": 8},
        {"callback": "{loopback}/callbacks/other"},
        {"num_images": 2},
        {"w": 512, "h": 512},
        {"cfg_scale": 4},
        {"steps": 20},
        {"super_resolution": True},
        {"face_correct": True},
        {"super_resolution": True, "inpaint_faces": True},
    ],
)
def test_with_idempotent_prompts_each_documented_attribute_makes_another_prompt(
    sandbox, loopback, change
):
    sandbox.configure(train_seconds=0, generate_seconds=0, idempotent_prompts=True)
    base = {"seed": 7, "callback": f"{loopback.url}/callbacks/p", "steps": 10}
    if "callback" in change:
        change = {"callback": change["callback"].format(loopback=loopback.url)}
    first = prompt_post(sandbox, **base).json()["id"]
    assert prompt_post(sandbox, **base).json()["id"] == first
    fields = {**base, **change}
    text = fields.pop("text", "a lighthouse at dusk")
    assert prompt_post(sandbox, text, **fields).json()["id"] != first


def test_idempotent_prompts_are_per_account(sandbox):
    sandbox.configure(train_seconds=0, generate_seconds=0, idempotent_prompts=True)
    mine = prompt_post(sandbox, seed=3).json()["id"]
    theirs = requests.post(
        f"{sandbox.url}/tunes/1504944/prompts",
        json={"prompt": {"text": "a lighthouse at dusk", "num_images": 1, "seed": 3}},
        headers={"Authorization": f"Bearer {OTHER_KEY}"},
        timeout=10,
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != mine


# --- Training starts after the create ---------------------------------------------------------


def test_started_training_at_is_null_in_the_create_answer_and_set_once_training_starts(
    sandbox, loopback
):
    created = tune_post(sandbox, loopback).json()
    assert created["started_training_at"] is None and created["trained_at"] is None
    assert created["eta"] is not None
    fetched = get(sandbox, f"/tunes/{created['id']}").json()
    assert fetched["created_at"] <= fetched["started_training_at"] <= fetched["trained_at"]


def test_a_tune_that_never_finishes_has_started_but_is_not_trained(sandbox, loopback):
    sandbox.configure(train_seconds=0, generate_seconds=0, never_train=True)
    created = tune_post(sandbox, loopback).json()
    fetched = get(sandbox, f"/tunes/{created['id']}").json()
    assert fetched["started_training_at"] is not None and fetched["trained_at"] is None


def test_a_tune_whose_timers_were_lost_with_a_worker_trains_when_asked_about(sandbox, loopback):
    # Astria's work goes on whatever happens to ours: the sandbox's timers run on the portal's
    # broker and workers, which the fault suite kills; a lost one still goes off when asked.
    created = tune_post(sandbox, loopback).json()
    tune = SandboxTune.objects.filter(pk=created["id"])
    now = timezone.now()

    def asked() -> dict:
        return get(sandbox, f"/tunes/{created['id']}").json()

    # Its start was lost: not yet late, nothing; late, it starts (and, eager here, trains).
    tune.update(created_at=now, started_training_at=None, trained_at=None)
    assert asked()["started_training_at"] is None
    tune.update(created_at=now - timedelta(seconds=30))
    assert asked()["started_training_at"] is not None
    # Its training timer was lost: before its ETA, nothing; well past it, it is trained.
    tune.update(started_training_at=now, eta=now + timedelta(minutes=5), trained_at=None)
    assert asked()["trained_at"] is None
    tune.update(eta=now - timedelta(seconds=30))
    assert asked()["trained_at"] is not None


def test_training_starts_once_when_its_start_is_delivered_twice(sandbox, loopback):
    from sandbox import services

    tune_id = tune_post(sandbox, loopback).json()["id"]
    started = SandboxTune.objects.get(pk=tune_id).started_training_at
    services.tune_start(tune_id=tune_id)
    assert SandboxTune.objects.get(pk=tune_id).started_training_at == started


# --- Results on another host than the API's ---------------------------------------------------


def test_a_result_link_redirects_to_another_loopback_host_on_the_same_port(sandbox):
    prompt = prompt_post(sandbox).json()
    [link] = get(sandbox, f"/prompts/{prompt['id']}").json()["images"]
    api, result = urlsplit(sandbox.url), urlsplit(link)
    assert (result.hostname, result.port) == (api.hostname, api.port)  # Astria's own link

    redirect = requests.get(link, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    storage = urlsplit(redirect.headers["Location"])
    assert storage.hostname != api.hostname
    assert {storage.hostname, api.hostname} == {"127.0.0.1", "localhost"}
    assert storage.port == api.port

    served = requests.get(redirect.headers["Location"], timeout=10)
    assert (served.status_code, served.headers["Content-Type"]) == (200, "image/jpeg")
    assert served.content == bytes(SandboxImage.objects.get(prompt_id=prompt["id"]).content)


def test_the_portal_copies_a_result_only_with_the_storage_host_on_its_allow_list(sandbox, settings):
    from tunes.ingest import IngestError, result_fetch

    settings.ASTRIA_BASE_URL = sandbox.url
    prompt = prompt_post(sandbox).json()
    [link] = get(sandbox, f"/prompts/{prompt['id']}").json()["images"]
    assert result_fetch(link).content  # the sandbox fixture lists the storage host

    settings.ASTRIA_IMAGE_HOSTS = []  # only the API's own origin
    with pytest.raises(IngestError) as refused:
        result_fetch(link)
    assert refused.value.transient is False
    storage = urlsplit(requests.get(link, allow_redirects=False, timeout=10).headers["Location"])
    assert str(refused.value) == f"refused to fetch from http://{storage.hostname}:{storage.port}"


def image_hosts(**env: str) -> list[str]:
    """ASTRIA_IMAGE_HOSTS as a process started with `env` reads it."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.ASTRIA_IMAGE_HOSTS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=subprocess_env(DJANGO_SETTINGS_MODULE="photoshoot.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_default_settings_let_the_portal_copy_from_the_sandboxs_storage_host():
    # make run: the portal and the sandbox on one server, reached as 127.0.0.1.
    hosts = image_hosts(DJANGO_ENV="development", PUBLIC_BASE_URL="http://127.0.0.1:8123")
    assert "http://localhost:8123" in hosts and "api.astria.ai" in hosts
    hosts = image_hosts(DJANGO_ENV="development", PUBLIC_BASE_URL="http://localhost:8123")
    assert "http://127.0.0.1:8123" in hosts
    # Real Astria: its own hosts only.
    hosts = image_hosts(DJANGO_ENV="development", ASTRIA_SANDBOX="0", ASTRIA_API_KEY="sd_x")
    assert hosts == ["api.astria.ai", "sdbooth2-production.s3.amazonaws.com", "mp.astria.ai"]


# --- Deletion ---------------------------------------------------------------------------------


def test_a_deleted_tune_is_404_unlisted_and_refused_as_a_lora(sandbox, loopback):
    tune_id = tune_post(sandbox, loopback).json()["id"]
    response = delete(sandbox, f"/tunes/{tune_id}")
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Tune successfully deleted"},
    )

    assert get(sandbox, f"/tunes/{tune_id}").status_code == 404
    assert get(sandbox, f"/tunes/{tune_id}.json").status_code == 404
    assert get(sandbox, "/tunes").json() == []
    assert delete(sandbox, f"/tunes/{tune_id}").status_code == 404
    refused = prompt_post(sandbox, f"<lora:{tune_id}:1> ohwx woman in a navy suit")
    assert (refused.status_code, refused.json()) == (
        422,
        {"error": f"LoRA {tune_id} is not one of your tunes"},
    )
    assert not SandboxImage.objects.filter(tune_id=tune_id).exists()  # its photos went with it


def test_another_accounts_tune_cannot_be_deleted(sandbox, loopback):
    tune_id = tune_post(sandbox, loopback).json()["id"]
    assert delete(sandbox, f"/tunes/{tune_id}", key=OTHER_KEY).status_code == 404
    assert delete(sandbox, "/tunes/1504944").status_code == 404  # the gallery's base model
    assert get(sandbox, f"/tunes/{tune_id}").status_code == 200


@pytest.mark.parametrize("path", ["/prompts/{id}", "/tunes/1504944/prompts/{id}"])
def test_a_deleted_prompt_is_404_on_both_paths_and_its_images_are_gone(sandbox, path):
    prompt = prompt_post(sandbox).json()
    [link] = get(sandbox, f"/prompts/{prompt['id']}").json()["images"]

    response = delete(sandbox, path.format(id=prompt["id"]))

    assert (response.status_code, response.json()) == (
        200,
        {"message": "Prompt successfully deleted"},
    )
    assert get(sandbox, f"/prompts/{prompt['id']}").status_code == 404
    assert get(sandbox, f"/tunes/1504944/prompts/{prompt['id']}").status_code == 404
    assert get(sandbox, "/tunes/1504944/prompts").json() == []
    assert requests.get(link, timeout=10).status_code == 404
    assert delete(sandbox, path.format(id=prompt["id"])).status_code == 404


def test_a_prompt_is_deleted_only_through_its_own_tune_and_account(sandbox, loopback):
    tune_id = tune_post(sandbox, loopback).json()["id"]
    prompt_id = prompt_post(sandbox).json()["id"]
    assert delete(sandbox, f"/tunes/{tune_id}/prompts/{prompt_id}").status_code == 404
    assert delete(sandbox, f"/prompts/{prompt_id}", key=OTHER_KEY).status_code == 404
    assert SandboxPrompt.objects.filter(pk=prompt_id).exists()


# --- Expiry: 30 days after training -----------------------------------------------------------


def test_expires_at_is_30_days_after_trained_at(sandbox, loopback):
    tune_id = tune_post(sandbox, loopback).json()["id"]
    tune = SandboxTune.objects.get(pk=tune_id)
    assert tune.expires_at - tune.trained_at == timedelta(days=30)


def assert_gone(sandbox, tune_id: int) -> None:
    assert get(sandbox, f"/tunes/{tune_id}").status_code == 404
    assert get(sandbox, f"/tunes/{tune_id}/prompts").status_code == 404
    assert tune_id not in [t["id"] for t in get(sandbox, "/tunes").json()]
    refused = prompt_post(sandbox, f"<lora:{tune_id}:1> ohwx woman by the sea")
    assert (refused.status_code, refused.json()) == (
        422,
        {"error": f"LoRA {tune_id} is not one of your tunes"},
    )


def test_a_tune_expired_by_the_control_is_gone(sandbox, loopback):
    tune_id = tune_post(sandbox, loopback).json()["id"]
    assert prompt_post(sandbox, f"<lora:{tune_id}:1> ohwx woman").status_code == 201

    expired = sandbox.expire(tune_id)

    tune = SandboxTune.objects.get(pk=tune_id)
    assert timezone.now() - tune.trained_at >= timedelta(days=31)
    assert tune.expires_at - tune.trained_at == timedelta(days=30)
    assert expired["id"] == tune_id and expired["expires_at"] < expired["updated_at"]
    assert_gone(sandbox, tune_id)


def test_a_tune_is_gone_once_the_clock_passes_its_expiry(sandbox, loopback, monkeypatch):
    tune_id = tune_post(sandbox, loopback).json()["id"]
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=29, hours=23))
    assert get(sandbox, f"/tunes/{tune_id}").status_code == 200

    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=30, minutes=1))
    assert_gone(sandbox, tune_id)


def test_an_expired_title_makes_a_new_tune_even_when_titles_are_idempotent(sandbox, loopback):
    sandbox.configure(train_seconds=0, generate_seconds=0, idempotent_titles=True)
    first = tune_post(sandbox, loopback, title="Ann - UUID - again").json()["id"]
    assert tune_post(sandbox, loopback, title="Ann - UUID - again").json()["id"] == first
    sandbox.expire(first)
    assert tune_post(sandbox, loopback, title="Ann - UUID - again").json()["id"] != first


def test_the_expire_control_needs_the_main_key_and_a_trained_tune_of_the_sandbox(sandbox, loopback):
    url = f"{sandbox.url}/_sandbox/tunes/{{}}/expire"
    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    tune_id = tune_post(sandbox, loopback).json()["id"]
    assert requests.post(url.format(tune_id), timeout=10).status_code == 401
    assert requests.post(url.format(tune_id), headers=other, timeout=10).status_code == 403
    assert requests.get(url.format(tune_id), headers=AUTH, timeout=10).status_code == 405
    missing = requests.post(url.format(999_999), headers=AUTH, timeout=10)
    assert missing.status_code == 404
    assert requests.post(url.format(FLUX), headers=AUTH, timeout=10).status_code == 404

    sandbox.configure(train_seconds=0, generate_seconds=0, never_train=True)
    untrained = tune_post(sandbox, loopback, title="Bob - UUID - 2").json()["id"]
    refused = requests.post(url.format(untrained), headers=AUTH, timeout=10)
    assert refused.status_code == 422
    assert refused.json() == {"error": f"tune {untrained} is not trained yet, so it cannot expire"}
    assert get(sandbox, f"/tunes/{tune_id}").status_code == 200  # nothing else changed


# --- Training photos as files -----------------------------------------------------------------


def test_training_photos_sent_as_multipart_file_parts_are_kept_and_trained_on(sandbox):
    photos = [photo_bytes(seed=n) for n in range(3)]
    response = requests.post(
        f"{sandbox.url}/tunes",
        data={
            "tune[title]": "Cy - UUID - 3",
            "tune[name]": "man",
            "tune[base_tune_id]": "1504944",
            "tune[model_type]": "lora",
            "tune[face_crop]": "true",
        },
        files=[("tune[images][]", (f"{n}.jpg", p, "image/jpeg")) for n, p in enumerate(photos)],
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["title"], created["name"], created["face_crop"]) == (
        "Cy - UUID - 3",
        "man",
        True,
    )
    kept = SandboxImage.objects.filter(tune_id=created["id"]).order_by("index")
    assert [bytes(image.content) for image in kept] == photos
    assert get(sandbox, f"/tunes/{created['id']}").json()["trained_at"] is not None


def test_file_parts_and_image_urls_together_are_all_kept(sandbox, loopback):
    response = requests.post(
        f"{sandbox.url}/tunes",
        data={
            "tune[title]": "Di - UUID - 4",
            "tune[name]": "woman",
            "tune[image_urls][]": [f"{loopback.url}/photo-1.jpeg", f"{loopback.url}/photo-2.jpeg"],
        },
        files=[("tune[images][]", ("0.jpg", photo_bytes(seed=0), "image/jpeg"))],
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert SandboxImage.objects.filter(tune_id=response.json()["id"]).count() == 3
