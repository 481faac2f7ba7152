"""What reaches Sentry holds no secret: an exception raised inside Astria's callback (and inside a
Celery task), with the callback's secret, a signed URL, the API key, a password and a customer's
e-mail address in its message, its locals and the request, leaves an event with none of them.

The SDK is the real one, initialised as settings do it; only its transport is replaced, by one
that keeps the envelopes in this process (the edge of the outside world: nothing is sent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sentry_sdk
from django.conf import settings as django_settings
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from storages.backends.s3 import S3Storage

from operations.sentry import sentry_init
from tests import factories
from tests.conftest import BASE_DIR, subprocess_env
from tunes import callbacks, tasks, training
from tunes.models import TrainedModel
from uploads.storage import new_key, private_url

pytestmark = pytest.mark.django_db

API_KEY = "sd_live_7Hq2xPzR4vKm9wLs"
BROKER_PASSWORD = "br0ker-pa55-Zq81"
FORM_PASSWORD = "hunter2-correct-horse"
CUSTOMER = "jane.customer@example.com"


class Kept(Transport):
    """Envelopes stay here instead of going to Sentry."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event" and item.payload.json
        ]

    def text(self) -> str:
        """Every event as JSON, as it would travel."""
        return json.dumps(self.events())


@pytest.fixture
def sentry(settings: Any) -> Iterator[Kept]:
    settings.ASTRIA_API_KEY = API_KEY
    kept = Kept()
    sentry_init(
        dsn="http://public@127.0.0.1:9/1", environment="test", traces_sample_rate=0, transport=kept
    )
    yield kept
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture
def model(owner) -> TrainedModel:
    owner.email = CUSTOMER
    owner.save()
    model = factories.TrainedModelFactory(
        owner=owner, status=TrainedModel.Status.TRAINING, astria_id=4242
    )
    model.callback_secret_hash = callbacks.secret_hash(
        callbacks.callback_secret("tune", model.code)
    )
    model.save()
    return model


@pytest.fixture
def signed_urls(s3_bucket: dict[str, str], owner) -> dict[str, str]:
    """A SigV4-signed S3 URL and a local signed URL, each with its secret part."""
    s3 = S3Storage(
        **{**django_settings.S3_STORAGE_OPTIONS, **s3_bucket, "addressing_style": "path"}
    )
    s3_url = s3.url("u/0123/photos/result.jpg")
    local_url = private_url(new_key(owner, "selfies", ".jpg"), owner=owner)
    return {
        "s3": s3_url,
        "signature": parse_qs(urlsplit(s3_url).query)["X-Amz-Signature"][0],
        "local": local_url,
        "token": parse_qs(urlsplit(local_url).query)["t"][0],
    }


def failing(*, callback_url: str, signed: dict[str, str]) -> Exception:
    """The kind of error a careless line raises: everything secret in its message."""
    broker = f"redis://portal:{BROKER_PASSWORD}@127.0.0.1:6379/0"
    return RuntimeError(
        f"could not handle {callback_url} for {CUSTOMER} with key {API_KEY}: "
        f"photos {signed['s3']} and {signed['local']}, broker {broker}, password={FORM_PASSWORD}"
    )


def secrets_of(model: TrainedModel, signed: dict[str, str]) -> list[str]:
    return [
        callbacks.callback_secret("tune", model.code),
        API_KEY,
        django_settings.SECRET_KEY,
        signed["signature"],
        signed["token"],
        BROKER_PASSWORD,
        FORM_PASSWORD,
        CUSTOMER,
        "@example.com",
    ]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_secret_of_a_failing_callback_out_of_the_event(
    sentry, model, signed_urls, monkeypatch, live_server
):
    def body_read(request: Any, root: str) -> dict[str, Any]:
        # Locals as a careless function holds them: each must be scrubbed from the frame.
        callback_url = request.build_absolute_uri()
        customer_email = model.owner.email  # noqa: F841
        key_in_use = django_settings.ASTRIA_API_KEY  # noqa: F841
        account_password = FORM_PASSWORD  # noqa: F841
        photo_url = signed_urls["s3"]  # noqa: F841
        raise failing(callback_url=callback_url, signed=signed_urls)

    monkeypatch.setattr(callbacks, "_callback_body", body_read)
    path = callbacks.callback_url("tune", model.code).removeprefix(django_settings.PUBLIC_BASE_URL)
    body = {"tune": {"id": 4242, "callback": f"{live_server.url}{path}", "user_email": CUSTOMER}}

    # A real request to a real server: the SDK sees the URL, query string and headers too.
    response = requests.post(
        f"{live_server.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Cookie": f"sessionid={API_KEY}"},
        timeout=10,
    )

    assert response.status_code == 500
    [event] = sentry.events()
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"].startswith("could not handle")
    request = event["request"]
    assert request["url"] == f"{live_server.url}/callbacks/astria/tune/{model.code}/"
    assert request["data"]["tune"]["id"] == 4242
    assert "Authorization" in request["headers"]
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "body_read"
    assert {"callback_url", "customer_email", "photo_url"} <= set(frame["vars"])
    text = sentry.text()
    for secret in secrets_of(model, signed_urls):
        assert secret not in text, secret


def test_it_keeps_every_secret_of_a_failing_task_out_of_the_event(
    sentry, model, signed_urls, monkeypatch
):
    def sync(*, model_id: int) -> None:
        callback_url = callbacks.callback_url("tune", model.code)
        raise failing(callback_url=callback_url, signed=signed_urls)

    monkeypatch.setattr(training, "model_sync", sync)

    with pytest.raises(RuntimeError):
        tasks.model_sync.delay(model.pk)

    [event] = sentry.events()
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["mechanism"]["type"] == "celery"
    assert event["extra"]["celery-job"]["task_name"] == "tunes.tasks.model_sync"
    assert any(
        "callback_url" in frame.get("vars", {}) for frame in exception["stacktrace"]["frames"]
    )
    text = sentry.text()
    for secret in secrets_of(model, signed_urls):
        assert secret not in text, secret


SETTINGS_SCRIPT = """
import json, sentry_sdk
from django.conf import settings
client = sentry_sdk.get_client()
print(json.dumps({"active": client.is_active(), "dsn": settings.SENTRY_DSN,
                  "pii": client.should_send_default_pii(),
                  "user_info": (client.options.get("data_collection") or {}).get("user_info"),
                  "environment": client.options["environment"],
                  "before_send": getattr(client.options["before_send"], "__name__", None),
                  "integrations": sorted(client.integrations)}))
"""


@pytest.mark.parametrize("dsn", ["", "http://public@127.0.0.1:9/1"])
def test_settings_turn_it_on_only_with_a_dsn(dsn):
    # A child process, as a server starts: settings read SENTRY_DSN once, at start.
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SETTINGS_SCRIPT],
        cwd=BASE_DIR,
        env=subprocess_env(SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["active"] is bool(dsn)
    if dsn:
        assert seen["pii"] is False
        assert seen["user_info"] is False
        assert seen["environment"] == "staging"
        assert seen["before_send"] == "event_scrub"
        assert {"django", "celery"} <= set(seen["integrations"])


def test_it_keeps_a_password_reset_link_s_key_out_of_the_event(
    sentry, owner, monkeypatch, live_server
):
    """allauth's reset and confirmation links carry their key in the path, not the query."""
    from allauth.account import views as account_views
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from django.urls import reverse

    def dispatch(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"could not open {request.path}")

    monkeypatch.setattr(account_views.PasswordResetFromKeyView, "dispatch", dispatch)
    key = default_token_generator.make_token(owner)
    uid = user_pk_to_url_str(owner)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": uid, "key": key})

    assert requests.get(f"{live_server.url}{path}", timeout=10).status_code == 500

    [event] = sentry.events()
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    assert "/accounts/password/reset/key/" in event["request"]["url"]
    token_part = key.rsplit("-", 1)[-1]
    assert token_part not in sentry.text()
    assert key not in sentry.text()
