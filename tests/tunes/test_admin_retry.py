"""Staff act on real photoshoots against the sandbox (tasks run eagerly, timers at zero)."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry

from accounts.models import CreditEntry
from tests.conftest import free_port
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import AstriaCall, Photo, Photoshoot, Prompt, TrainedModel


def act(client, action: str, *objects, url: str = "/admin/tunes/photoshoot/"):
    return client.post(
        url, {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True
    )


def test_staff_retries_a_photoshoot_whose_training_failed_and_it_completes(
    portal, funded_owner, pack, staff, client, settings
):
    selfie_set = ready_selfie_set(funded_owner)
    # The portal's public address is wrong, so Astria cannot fetch the selfies: 422.
    good_address = settings.PUBLIC_BASE_URL
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{free_port()}"
    photoshoot = start(funded_owner, selfie_set, pack)
    photoshoot.refresh_from_db()
    model = photoshoot.model
    assert photoshoot.status == "failed", photoshoot.status
    assert photoshoot.failure_reason.startswith("Astria refused the photos")
    assert model.status == "failed" and model.astria_id is None
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20

    settings.PUBLIC_BASE_URL = good_address  # fixed; staff retry from admin
    client.force_login(staff)
    response = act(client, "retry", photoshoot)
    assert "Done for 1 of 1." in response.content.decode()

    photoshoot.refresh_from_db()
    model.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert photoshoot.failure_reason == ""
    # The same model trained, once: no second model for the set.
    assert model.status == "ready" and model.failure_reason == ""
    assert TrainedModel.objects.count() == 1
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    assert list(photoshoot.prompts.values_list("status", flat=True)) == ["done"] * 3
    # The retry is on the house: one debit, one refund, no more.
    assert list(CreditEntry.objects.order_by("id").values_list("kind", "amount")) == [
        ("grant", 20),
        ("debit", -9),
        ("refund", 9),
    ]
    assert LogEntry.objects.get(object_id=str(photoshoot.pk)).get_change_message() == (
        "Retried: back to training"
    )
    # Every call made for the model is on its admin page: the refused one first.
    calls = list(AstriaCall.objects.filter(model=model).order_by("id"))
    assert (calls[0].method, calls[0].path, calls[0].status) == ("POST", "/tunes", 422)
    assert ("POST", "/tunes", 201) in [(c.method, c.path, c.status) for c in calls]
    page = client.get(f"/admin/tunes/trainedmodel/{model.pk}/change/").content.decode()
    assert calls[0].error in page
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    assert log.count(("POST", "/tunes/1504944/prompts")) == 3


def test_staff_retries_a_failed_scene_and_its_photos_join_the_gallery(
    portal, funded_owner, pack, staff, client
):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    failed = Prompt.objects.get(photoshoot=photoshoot, status="failed")
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 4
    old_code = failed.code

    portal.configure(train_seconds=0, generate_seconds=0)  # Astria works again
    client.force_login(staff)
    act(client, "retry", failed, url="/admin/tunes/prompt/")

    failed.refresh_from_db()
    assert failed.status == "done"
    # A new code, so a new callback URL: the failed prompt at Astria is not taken for it.
    assert failed.code != old_code
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    assert CreditEntry.objects.filter(kind="refund").count() == 1  # the scene's, kept
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    assert log.count(("POST", "/tunes")) == 1  # the model was not trained again
    assert log.count(("POST", "/tunes/1504944/prompts")) == 4


def test_poll_now_moves_a_photoshoot_whose_models_callback_was_lost(
    portal, funded_owner, pack, staff, client
):
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "training"
    assert photoshoot.model.status == "training"
    # Training ends at Astria while the callback is lost on the way.
    from django.utils import timezone

    from sandbox.models import SandboxTune

    SandboxTune.objects.filter(pk=photoshoot.model.astria_id).update(trained_at=timezone.now())

    client.force_login(staff)
    act(client, "poll_now", photoshoot)

    photoshoot.refresh_from_db()
    assert photoshoot.model.status == TrainedModel.Status.READY
    assert photoshoot.status == Photoshoot.Status.READY
    assert LogEntry.objects.get(object_id=str(photoshoot.pk)).get_change_message() == (
        "Polled Astria now (1 checks)"
    )


def test_a_photoshoot_retried_after_its_training_failed_refunds_nothing_more_when_a_scene_fails(
    portal, funded_owner, pack, staff, client, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from sandbox.models import SandboxTune
    from tunes.sweep import overdue_poll

    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    TrainedModel.objects.filter(pk=photoshoot.model_id).update(
        submitted_at=timezone.now() - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.status == "failed"
    assert photoshoot.model.status == "failed"

    # Astria finishes the training after all; staff retry; one scene then fails.
    SandboxTune.objects.filter(pk=photoshoot.model.astria_id).update(trained_at=timezone.now())
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    client.force_login(staff)
    act(client, "retry", photoshoot)

    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert photoshoot.model.status == "ready"
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 4
    assert list(CreditEntry.objects.order_by("id").values_list("kind", "amount")) == [
        ("grant", 20),
        ("debit", -9),
        ("refund", 9),
    ]
    assert LogEntry.objects.get(object_id=str(photoshoot.pk)).get_change_message() == (
        "Retried: back to training"
    )
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    assert log.count(("POST", "/tunes")) == 1  # followed again, not trained again


def test_a_retried_scene_replaces_the_photos_of_its_failed_attempt(
    portal, funded_owner, pack, staff, client
):
    from django.core.files.storage import storages

    from tests import factories

    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    failed = Prompt.objects.get(photoshoot=photoshoot, status="failed")
    # One image of the failed attempt had been copied before it failed.
    stale = factories.PhotoFactory(prompt=failed, index=0)
    storages["default"].save(stale.image, __import__("io").BytesIO(b"old"))

    portal.configure(train_seconds=0, generate_seconds=0)
    client.force_login(staff)
    act(client, "retry", failed, url="/admin/tunes/prompt/")

    failed.refresh_from_db()
    assert failed.status == "done"
    assert not Photo.objects.filter(pk=stale.pk).exists()
    assert not storages["default"].exists(stale.image)
    assert sorted(failed.photos.values_list("index", flat=True)) == [0, 1]
