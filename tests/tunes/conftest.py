"""A photoshoot against the sandbox on the live server: settings, a ready selfie set, a pack."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.files.storage import storages

from accounts.credits import credits_grant
from packs.models import Pack, PackPrompt
from tests.astria.conftest import SANDBOX_KEY, Sandbox, loopback, sandbox  # noqa: F401 - fixtures used here
from tests.images import photo_bytes
from tunes import photoshoots
from tunes.models import Photoshoot
from uploads import services as uploads
from uploads.models import Selfie, SelfieSet


def ready_selfie_set(owner, count: int = 4, subject_class: str = "woman") -> SelfieSet:
    """A set of `count` verified photos, uploaded through the real upload services."""
    selfie_set = SelfieSet.objects.create(owner=owner, name="Me", subject_class=subject_class)
    for seed in range(count):
        content = photo_bytes((900, 1100), seed=seed + 20)
        selfie, _ = uploads.selfie_upload_start(
            selfie_set=selfie_set,
            filename=f"{seed}.jpg",
            content_type="image/jpeg",
            size=len(content),
        )
        storages["default"].save(selfie.upload_key, __import__("io").BytesIO(content))
        uploads.selfie_finish_upload(selfie=selfie)
    assert selfie_set.selfies.filter(status=Selfie.Status.READY).count() == count
    return selfie_set


@pytest.fixture
def portal(sandbox: Sandbox, live_server: Any, settings: Any) -> Sandbox:  # noqa: F811
    """The portal and the sandbox on one live server, as in `make run`."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ASTRIA_BASE_URL = sandbox.url
    settings.ASTRIA_API_KEY = SANDBOX_KEY
    settings.ASTRIA_RETRY_SECONDS = 0
    return sandbox


@pytest.fixture
def pack() -> Pack:
    return pack_create()


def pack_create() -> Pack:
    """A pack of three scenes of two images each, for women and men, at 9 credits."""
    pack = Pack.objects.create(
        title="Studio", slug=f"studio-{uuid.uuid4().hex[:6]}", price=9, classes=["woman", "man"]
    )
    for order, template in enumerate(
        ["{subject} in a navy suit", "{subject} smiling, studio light", "{subject} by the sea"]
    ):
        PackPrompt.objects.create(
            pack=pack, template=template, num_images=2, order=order, seed=order
        )
    return pack


@pytest.fixture
def funded_owner(owner):
    credits_grant(user=owner, amount=20, reason="Test credits")
    return owner


def start(owner, selfie_set, pack) -> Photoshoot:
    """Start `pack` on the set at the price the page would show; the photoshoot as it is
    once the (eager) tasks have run, its model included."""
    photoshoot = photoshoots.photoshoot_start(
        user=owner,
        selfie_set=selfie_set,
        pack=pack,
        start_token=uuid.uuid4(),
        price_seen=photoshoots.quote(selfie_set=selfie_set, pack=pack).price,
    )
    return Photoshoot.objects.select_related("model").get(pk=photoshoot.pk)


@pytest.fixture
def worker_env(portal: Sandbox, live_server: Any) -> dict[str, str]:
    """What a real worker process needs to reach this test's sandbox and portal."""
    return {
        "PUBLIC_BASE_URL": live_server.url,
        "ASTRIA_BASE_URL": portal.url,
        "ASTRIA_API_KEY": SANDBOX_KEY,
        "ASTRIA_RETRY_SECONDS": "1",
        "POLL_AFTER_SECONDS": "1",
    }
