"""After a whole photoshoot, the logs hold no secret: no callback secret, no signed URL token,
no API key, no SECRET_KEY. Every logger of the process is listened to while its views and
(eager) tasks run the photoshoot; the request log's filter has a test of its own, since the
test server writes no request lines (gunicorn is told to log paths only)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from tests.astria.conftest import SANDBOX_KEY, loopback, sandbox  # noqa: F401 - fixtures
from tests.tunes.conftest import (  # noqa: F401 - fixtures
    funded_owner,
    pack,
    portal,
    ready_selfie_set,
    start,
)
from tunes.callbacks import callback_secret
from tunes.models import Prompt, TrainedModel


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Everything]:
    handler = Everything()
    # django.server (the request log) does not propagate to the root logger.
    loggers = [logging.getLogger(), logging.getLogger("django.server")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_whole_photoshoot_leaves_no_secret_in_the_logs(
    portal,  # noqa: F811
    funded_owner,  # noqa: F811
    pack,  # noqa: F811
    client,
    logs,
):
    selfie_set = ready_selfie_set(funded_owner)
    first = start(funded_owner, selfie_set, pack)
    # A second pack on the model trained for the first: a photoshoot that only generates.
    second = start(funded_owner, selfie_set, pack)
    client.force_login(funded_owner)
    for photoshoot in (first, second):
        photoshoot.refresh_from_db()
        assert photoshoot.status == "ready", photoshoot.failure_reason
        # Signed photo URLs, on the page and in what it refreshes itself with.
        assert client.get(f"/photoshoots/{photoshoot.code}/").status_code == 200
        assert client.get(f"/photoshoots/{photoshoot.code}/status/").status_code == 200
    assert client.get("/models/").status_code == 200
    text = "\n".join(logs.lines)
    assert "astria POST /tunes -> 201" in text  # the logs were listened to
    assert text.count("astria POST /tunes -> 201") == 1  # trained once, shot twice

    secrets = [callback_secret("tune", m.code) for m in TrainedModel.objects.all()]
    secrets += [callback_secret("prompt", p.code) for p in Prompt.objects.all()]
    for secret in [*secrets, SANDBOX_KEY, django_settings.SECRET_KEY]:
        assert secret not in text
    for marker in ("secret=", "?t=", "&t=", "Bearer", "X-Amz-Signature", "Signature="):
        assert marker not in text, [line for line in logs.lines if marker in line][:3]


def test_the_development_servers_request_log_keeps_paths_only(logs):
    # Django's runserver logs each request line through django.server, exactly like this.
    server = logging.getLogger("django.server")
    server.info('"%s" %s %s', "POST /callbacks/astria/tune/abc/?secret=s3cr3t HTTP/1.1", 200, 11)
    server.info('"%s" %s %s', "GET /private/?t=signed.token HTTP/1.1", 200, 5120)
    assert logs.lines[-2:] == [
        'django.server INFO "POST /callbacks/astria/tune/abc/?… HTTP/1.1" 200 11',
        'django.server INFO "GET /private/?… HTTP/1.1" 200 5120',
    ]
