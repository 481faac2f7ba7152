"""Astria's callbacks while the database cannot be reached: a plain 503 at once, one warning
line in the log and nothing else (no page, no traceback, no secret)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest
from django.db import connection

from tests import factories
from tests.conftest import free_port
from tunes import callbacks
from tunes.models import CallbackEvent, TrainedModel

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_unreachable() -> Iterator[None]:
    """Every new connection of this process fails for real: PostgreSQL's on a port where
    nothing listens (refused), SQLite's on a file in a folder that does not exist."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    else:
        connection.settings_dict["NAME"] = "/nonexistent-folder/photoshoot.sqlite3"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def training_model() -> TrainedModel:
    model = factories.TrainedModelFactory(status=TrainedModel.Status.TRAINING, astria_id=4242)
    secret = callbacks.callback_secret("tune", model.code)
    model.callback_secret_hash = callbacks.secret_hash(secret)
    model.save()
    return model


def test_it_answers_503_in_plain_text_and_logs_one_line_without_the_secret(client, caplog):
    model = training_model()
    secret = callbacks.callback_secret("tune", model.code)
    caplog.set_level(logging.INFO)  # (Celery logs the code of its task proxies at DEBUG)
    caplog.clear()
    with database_unreachable():
        response = client.post(
            f"/callbacks/astria/tune/{model.code}/?secret={secret}",
            {"tune": {"id": 4242}},
            content_type="application/json",
        )

    assert response.status_code == 503
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Retry-After"] == "60"
    assert b"<" not in response.content  # no HTML page
    assert b"polled" in response.content
    lines = [(r.name, r.levelname, r.getMessage(), r.exc_info) for r in caplog.records]
    assert lines == [
        (
            "tunes.callbacks",
            "WARNING",
            f"Astria's tune callback for {model.code} answered 503: the database is "
            "unreachable (OperationalError); the sweep will poll it.",
            None,
        )
    ]
    assert secret not in caplog.text
    assert "?" not in caplog.text
    # The database is back: nothing was recorded, the model waits for the sweep's poll.
    assert not CallbackEvent.objects.exists()
    assert TrainedModel.objects.get(pk=model.pk).status == TrainedModel.Status.TRAINING


def test_it_answers_a_prompt_callback_alike(client, caplog):
    prompt = factories.PromptFactory(astria_id=777, status="submitted")
    secret = callbacks.callback_secret("prompt", prompt.code)
    caplog.set_level(logging.INFO)  # (Celery logs the code of its task proxies at DEBUG)
    caplog.clear()
    with database_unreachable():
        response = client.post(
            f"/callbacks/astria/prompt/{prompt.code}/?secret={secret}",
            {"prompt": {"id": 777}},
            content_type="application/json",
        )

    assert response.status_code == 503
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert secret not in caplog.text


def test_it_still_answers_as_before_when_the_database_is_up(client):
    model = training_model()
    secret = callbacks.callback_secret("tune", model.code)

    response = client.post(
        f"/callbacks/astria/tune/{model.code}/?secret={secret}",
        {"tune": {"id": 4242}},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert CallbackEvent.objects.filter(model=model).count() == 1


def test_a_callback_with_a_session_cookie_is_answered_503_where_staff_need_two_factor(
    client, settings
):
    # The two-factor middleware reads the signed-in user for admin's paths only: a callback
    # that carries a session cookie is answered by the view, not by a database error before it.
    settings.STAFF_REQUIRE_MFA = True
    model = training_model()
    client.force_login(factories.StaffFactory())
    secret = callbacks.callback_secret("tune", model.code)
    with database_unreachable():
        response = client.post(
            f"/callbacks/astria/tune/{model.code}/?secret={secret}",
            {"tune": {"id": 4242}},
            content_type="application/json",
        )
    assert response.status_code == 503
    assert response["Content-Type"] == "text/plain; charset=utf-8"
