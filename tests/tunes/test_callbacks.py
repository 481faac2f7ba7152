"""Astria's callbacks: only the right secret and ids do anything, and nothing else changes."""

from __future__ import annotations

import json
import uuid

import pytest

from packs.models import Pack
from tunes import services
from tunes.models import CallbackEvent, Prompt, Tune

pytestmark = pytest.mark.django_db


@pytest.fixture
def tune(owner) -> Tune:
    pack = Pack.objects.get(slug="corporate-headshots")
    tune = Tune.objects.create(
        owner=owner,
        pack=pack,
        subject_class="man",
        price=10,
        start_token=uuid.uuid4(),
        status=Tune.Status.TRAINING,
        astria_id=4242,
        callback_secret_hash="",
    )
    tune.callback_secret_hash = services.secret_hash(services.callback_secret("tune", tune.code))
    tune.save()
    return tune


@pytest.fixture
def prompt(tune) -> Prompt:
    prompt = Prompt.objects.create(
        tune=tune,
        template="{subject}",
        num_images=1,
        astria_id=777,
        status=Prompt.Status.SUBMITTED,
        callback_secret_hash="",
    )
    prompt.callback_secret_hash = services.secret_hash(
        services.callback_secret("prompt", prompt.code)
    )
    prompt.save()
    return prompt


def url(kind: str, obj, secret: str | None = None) -> str:
    secret = secret if secret is not None else services.callback_secret(kind, obj.code)
    return f"/callbacks/astria/{kind}/{obj.code}/?secret={secret}"


def post(client, path, body, capture):
    with capture() as queued:
        response = client.post(path, body, content_type="application/json")
    return response, queued


def test_a_valid_callback_is_recorded_and_queues_a_look(
    client, tune, django_capture_on_commit_callbacks
):
    response, queued = post(
        client, url("tune", tune), {"tune": {"id": 4242}}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert len(queued) == 1
    assert CallbackEvent.objects.filter(tune=tune, kind="tune").count() == 1


def test_a_bare_object_is_accepted_too(client, prompt, django_capture_on_commit_callbacks):
    response, queued = post(
        client, url("prompt", prompt), {"id": 777}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200 and len(queued) == 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", 404),
        ("no secret", 404),
        ("another tune's secret", 404),
        ("another object's id", 400),
        ("malformed JSON", 400),
        ("oversized body", 413),
        ("GET", 405),
    ],
)
def test_a_bad_callback_answers_as_specified_and_changes_nothing(
    client, tune, owner, case, expected, settings, django_capture_on_commit_callbacks
):
    other = Tune.objects.create(
        owner=owner,
        pack=tune.pack,
        subject_class="man",
        price=1,
        start_token=uuid.uuid4(),
        callback_secret_hash="x",
    )
    path, body, method = url("tune", tune), json.dumps({"tune": {"id": 4242}}), "post"
    if case == "wrong secret":
        path = url("tune", tune, secret="0" * 64)
    elif case == "no secret":
        path = f"/callbacks/astria/tune/{tune.code}/"
    elif case == "another tune's secret":
        path = url("tune", tune, secret=services.callback_secret("tune", other.code))
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
    tune.refresh_from_db()
    assert tune.status == Tune.Status.TRAINING


def test_a_prompt_secret_does_not_open_the_tune_callback(client, tune, prompt):
    prompt_secret = services.callback_secret("prompt", prompt.code)
    path = f"/callbacks/astria/tune/{tune.code}/?secret={prompt_secret}"
    assert client.post(path, {"id": 4242}, content_type="application/json").status_code == 404


def test_secrets_are_stored_only_as_hashes(tune, prompt):
    for kind, obj in (("tune", tune), ("prompt", prompt)):
        secret = services.callback_secret(kind, obj.code)
        assert secret not in obj.callback_secret_hash
        assert services.secret_matches(secret, obj.callback_secret_hash)


def test_the_callback_url_keeps_its_secret_out_of_the_path(tune, settings):
    url = services.callback_url("tune", tune.code)
    path, _, query = url.removeprefix(settings.PUBLIC_BASE_URL).partition("?")
    assert path == f"/callbacks/astria/tune/{tune.code}/"
    assert query == f"secret={services.callback_secret('tune', tune.code)}"


def test_a_content_length_that_is_not_a_number_is_a_400(client, tune):
    response = client.post(
        url("tune", tune), b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert not CallbackEvent.objects.exists()
