"""The whole photoshoot against the sandbox, tasks run eagerly (timers at zero)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.storage import storages
from PIL import Image

from accounts.models import CreditEntry
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import CallbackEvent, Photo, Photoshoot, Prompt, TrainedModel


def test_a_photoshoot_trains_generates_and_collects_every_photo(portal, funded_owner, pack):
    selfie_set = ready_selfie_set(funded_owner)

    photoshoot = start(funded_owner, selfie_set, pack)

    photoshoot.refresh_from_db()
    model = photoshoot.model
    assert photoshoot.status == Photoshoot.Status.READY, photoshoot.failure_reason
    assert photoshoot.finished_at and photoshoot.with_training
    assert model.status == TrainedModel.Status.READY and model.astria_id and model.trained_at
    assert model.expires_at == model.trained_at + __import__("datetime").timedelta(days=30)
    prompts = list(photoshoot.prompts.all())
    assert [p.status for p in prompts] == ["done"] * 3
    assert prompts[0].text == f"<lora:{model.astria_id}:1> ohwx woman in a navy suit"
    photos = Photo.objects.filter(photoshoot=photoshoot)
    assert photos.count() == 6
    with storages["default"].open(photos[0].image) as f, Image.open(f) as image:
        assert image.format == "JPEG"
    # Charged once, the e-mail sent, callbacks recorded.
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 11
    assert CreditEntry.objects.filter(kind="debit").count() == 1
    assert [m.subject for m in mail.outbox] == ["[PhotoShoot] Your Studio photos are ready"]
    assert f"/photoshoots/{photoshoot.code}/" in mail.outbox[0].body
    assert CallbackEvent.objects.filter(model=model, kind="tune").exists()
    # Astria trained one tune from the four selfies, and ran three prompts on Flux.
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    assert log.count(("POST", "/tunes")) == 1
    assert log.count(("POST", "/tunes/1504944/prompts")) == 3


def test_the_same_start_token_starts_one_photoshoot(portal, funded_owner, pack):
    import uuid

    from tunes import photoshoots

    selfie_set = ready_selfie_set(funded_owner)
    token = uuid.uuid4()
    first = photoshoots.photoshoot_start(
        user=funded_owner, selfie_set=selfie_set, pack=pack, start_token=token, price_seen=9
    )
    again = photoshoots.photoshoot_start(
        user=funded_owner, selfie_set=selfie_set, pack=pack, start_token=token, price_seen=9
    )
    assert first.pk == again.pk
    assert Photoshoot.objects.count() == 1 and TrainedModel.objects.count() == 1
    assert CreditEntry.objects.filter(kind="debit").count() == 1


def test_a_set_with_too_few_photos_cannot_start(portal, funded_owner, pack):
    from tunes.photoshoots import CannotStart

    selfie_set = ready_selfie_set(funded_owner, count=2)
    with pytest.raises(CannotStart, match="add at least 2 more"):
        start(funded_owner, selfie_set, pack)
    assert not Photoshoot.objects.exists() and not TrainedModel.objects.exists()


def test_without_enough_credits_nothing_starts(portal, owner, pack):
    from accounts.credits import InsufficientCredits

    selfie_set = ready_selfie_set(owner)
    with pytest.raises(InsufficientCredits):
        start(owner, selfie_set, pack)
    assert not Photoshoot.objects.exists() and not Prompt.objects.exists()
    assert not TrainedModel.objects.exists()
    assert portal.requests_log() == []
