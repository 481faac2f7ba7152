"""Garbage at the endpoints that take outside input: Astria's callbacks and the end of an
upload. Whatever arrives, the answer is a clear 4xx (never a 5xx) and nothing changes."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.images import photo_bytes
from tests.tunes.conftest import ready_selfie_set
from tunes.callbacks import callback_secret, secret_hash
from tunes.models import CallbackEvent, Photoshoot, Prompt, TrainedModel
from uploads import services as uploads
from uploads.models import Selfie

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=2048),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"tune": JSON, "id": JSON}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"prompt": st.fixed_dictionaries({"id": st.integers()})}).map(
        lambda v: json.dumps(v).encode()
    ),
)


@pytest.fixture
def photoshoot() -> Photoshoot:
    """A model at Astria training, and a scene of a photoshoot on it being generated (both
    kinds of callback have an object to be about)."""
    model = factories.TrainedModelFactory(status="training", astria_id=4242)
    TrainedModel.objects.filter(pk=model.pk).update(
        callback_secret_hash=secret_hash(callback_secret("tune", model.code))
    )
    photoshoot = factories.PhotoshootFactory(owner=model.owner, model=model, status="generating")
    prompt = factories.PromptFactory(photoshoot=photoshoot, status="submitted", astria_id=777)
    Prompt.objects.filter(pk=prompt.pk).update(
        callback_secret_hash=secret_hash(callback_secret("prompt", prompt.code))
    )
    return photoshoot


def _state() -> tuple[object, ...]:
    return (
        list(TrainedModel.objects.values_list("status", "astria_id")),
        list(Photoshoot.objects.values_list("status")),
        list(Prompt.objects.values_list("status", "astria_id")),
        CallbackEvent.objects.count(),
    )


@FUZZ
@given(
    kind=st.sampled_from(["tune", "prompt"]),
    right_secret=st.booleans(),
    secret=st.text(max_size=80),
    body=BODIES,
    content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data"]),
)
def test_callbacks_answer_garbage_with_a_4xx_and_change_nothing(
    client, photoshoot, kind, right_secret, secret, body, content_type
):
    target = photoshoot.model if kind == "tune" else photoshoot.prompts.get()
    if right_secret:
        secret = callback_secret(kind, target.code)
        # The one body that is not garbage names the object's own id; keep to garbage.
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            inner = parsed.get(kind) if isinstance(parsed.get(kind), dict) else parsed
            if str(inner.get("id")) == str(target.astria_id):
                body = b"[]"
    before = _state()
    response = client.post(
        f"/callbacks/astria/{kind}/{target.code}/?secret={secret}",
        body,
        content_type=content_type,
    )
    assert response.status_code in (400, 404, 413), response.content
    assert _state() == before


@pytest.fixture
def selfie_set(owner, settings):
    # One user finishes 150 uploads in a row here: more than the per-user rate allows.
    settings.UPLOAD_FINISH_RATE = "1000/m"
    return ready_selfie_set(owner)


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=4096),
        st.binary(min_size=1, max_size=64).map(lambda b: photo_bytes()[:512] + b),
        st.integers(min_value=1, max_value=4000).map(lambda n: photo_bytes()[:n]),
    ),
    form=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3),
)
def test_finishing_an_upload_of_garbage_is_a_422_that_leaves_nothing_behind(
    client, owner, selfie_set, content, form
):
    selfie, _ = uploads.selfie_upload_start(
        # The browser may declare one size and send anything at all.
        selfie_set=selfie_set,
        filename="x.jpg",
        content_type="image/jpeg",
        size=1000,
    )
    storages["default"].save(selfie.upload_key, ContentFile(content))
    ready_before = list(Selfie.objects.filter(status="ready").values_list("pk", "image"))
    client.force_login(owner)
    response = client.post(f"/sets/{selfie_set.code}/uploads/{selfie.code}/finish/", form)
    assert response.status_code == 422, response.content
    assert response.json()["error"]
    assert not Selfie.objects.filter(pk=selfie.pk).exists()
    assert not storages["default"].exists(selfie.upload_key)
    assert list(Selfie.objects.filter(status="ready").values_list("pk", "image")) == ready_before
