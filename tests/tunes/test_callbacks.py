"""Astria's callbacks: only the right secret and ids do anything, and nothing else changes."""

from __future__ import annotations

import json

import pytest

from packs.models import Pack
from tests import factories
from tunes import callbacks
from tunes.models import CallbackEvent, Prompt, TrainedModel

pytestmark = pytest.mark.django_db


def with_secret(obj, kind: str):
    obj.callback_secret_hash = callbacks.secret_hash(callbacks.callback_secret(kind, obj.code))
    obj.save()
    return obj


@pytest.fixture
def model(owner) -> TrainedModel:
    """A model in training at Astria (its tune is 4242)."""
    model = factories.TrainedModelFactory(
        owner=owner, subject_class="man", status=TrainedModel.Status.TRAINING, astria_id=4242
    )
    return with_secret(model, "tune")


@pytest.fixture
def prompt(model) -> Prompt:
    photoshoot = factories.PhotoshootFactory(
        owner=model.owner,
        model=model,
        pack=Pack.objects.get(slug="corporate-headshots"),
        status="generating",
    )
    prompt = factories.PromptFactory(
        photoshoot=photoshoot,
        template="{subject}",
        num_images=1,
        astria_id=777,
        status=Prompt.Status.SUBMITTED,
    )
    return with_secret(prompt, "prompt")


def url(kind: str, obj, secret: str | None = None) -> str:
    secret = secret if secret is not None else callbacks.callback_secret(kind, obj.code)
    return f"/callbacks/astria/{kind}/{obj.code}/?secret={secret}"


def post(client, path, body, capture):
    with capture() as queued:
        response = client.post(path, body, content_type="application/json")
    return response, queued


def test_a_valid_tune_callback_is_recorded_against_the_model_and_queues_a_look(
    client, model, django_capture_on_commit_callbacks
):
    response, queued = post(
        client, url("tune", model), {"tune": {"id": 4242}}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert len(queued) == 1
    event = CallbackEvent.objects.get()
    assert (event.kind, event.model, event.prompt, event.astria_id) == ("tune", model, None, 4242)


def test_a_valid_prompt_callback_is_recorded_against_the_scene(
    client, prompt, django_capture_on_commit_callbacks
):
    response, queued = post(
        client, url("prompt", prompt), {"prompt": {"id": 777}}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200 and len(queued) == 1
    event = CallbackEvent.objects.get()
    assert (event.kind, event.model, event.prompt, event.astria_id) == ("prompt", None, prompt, 777)


def test_a_bare_object_is_accepted_too(client, prompt, django_capture_on_commit_callbacks):
    response, queued = post(
        client, url("prompt", prompt), {"id": 777}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200 and len(queued) == 1


def test_a_callback_before_the_models_id_was_saved_is_recorded_and_looked_at(
    client, owner, django_capture_on_commit_callbacks
):
    # Astria may call back before our create's answer was saved: nothing to compare yet.
    model = with_secret(factories.TrainedModelFactory(owner=owner, status="submitting"), "tune")
    response, queued = post(
        client, url("tune", model), {"tune": {"id": 31337}}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200 and len(queued) == 1
    assert CallbackEvent.objects.get().astria_id is None


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", 404),
        ("no secret", 404),
        ("another model's secret", 404),
        ("unknown code", 404),
        ("another object's id", 400),
        ("malformed JSON", 400),
        ("oversized body", 413),
        ("GET", 405),
    ],
)
def test_a_bad_callback_answers_as_specified_and_changes_nothing(
    client, model, owner, case, expected, settings, django_capture_on_commit_callbacks
):
    other = factories.TrainedModelFactory(owner=owner, callback_secret_hash="x")
    path, body, method = url("tune", model), json.dumps({"tune": {"id": 4242}}), "post"
    if case == "wrong secret":
        path = url("tune", model, secret="0" * 64)
    elif case == "no secret":
        path = f"/callbacks/astria/tune/{model.code}/"
    elif case == "another model's secret":
        path = url("tune", model, secret=callbacks.callback_secret("tune", other.code))
    elif case == "unknown code":
        path = url("tune", factories.PhotoshootFactory(owner=owner, model=model))
    elif case == "another object's id":
        body = json.dumps({"tune": {"id": 9999}})
    elif case == "malformed JSON":
        body = "{not json"
    elif case == "oversized body":
        settings.CALLBACK_MAX_BYTES = 1000
        body = json.dumps({"tune": {"id": 4242, "pad": "x" * 2000}})
    elif case == "GET":
        method = "get"

    with django_capture_on_commit_callbacks() as queued:
        if method == "get":
            response = client.get(path)
        else:
            response = client.post(path, body, content_type="application/json")

    assert response.status_code == expected
    assert queued == []
    assert not CallbackEvent.objects.exists()
    model.refresh_from_db()
    assert model.status == TrainedModel.Status.TRAINING


def test_a_prompt_secret_does_not_open_the_tune_callback(client, model, prompt):
    prompt_secret = callbacks.callback_secret("prompt", prompt.code)
    path = f"/callbacks/astria/tune/{model.code}/?secret={prompt_secret}"
    assert client.post(path, {"id": 4242}, content_type="application/json").status_code == 404


def test_a_models_secret_does_not_open_a_prompt_callback(client, model, prompt):
    model_secret = callbacks.callback_secret("tune", model.code)
    path = f"/callbacks/astria/prompt/{prompt.code}/?secret={model_secret}"
    assert client.post(path, {"id": 777}, content_type="application/json").status_code == 404
    assert not CallbackEvent.objects.exists()


def test_secrets_are_stored_only_as_hashes(model, prompt):
    for kind, obj in (("tune", model), ("prompt", prompt)):
        secret = callbacks.callback_secret(kind, obj.code)
        assert secret not in obj.callback_secret_hash
        assert callbacks.secret_matches(secret, obj.callback_secret_hash)


def test_the_models_own_secret_is_made_when_it_is_created(owner):
    from tunes.training import model_create

    selfie_set = factories.SelfieSetFactory(owner=owner)
    model = model_create(owner=owner, selfie_set=selfie_set)
    secret = callbacks.callback_secret("tune", model.code)
    assert callbacks.secret_matches(secret, model.callback_secret_hash)


def test_the_callback_url_keeps_its_secret_out_of_the_path(model, settings):
    url = callbacks.callback_url("tune", model.code)
    path, _, query = url.removeprefix(settings.PUBLIC_BASE_URL).partition("?")
    assert path == f"/callbacks/astria/tune/{model.code}/"
    assert query == f"secret={callbacks.callback_secret('tune', model.code)}"


def test_a_content_length_that_is_not_a_number_is_a_400(client, model):
    response = client.post(
        url("tune", model), b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert not CallbackEvent.objects.exists()
