"""Staff act on real photoshoots against the sandbox (tasks run eagerly, timers at zero)."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry

from accounts.models import CreditEntry
from tests.conftest import free_port
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import AstriaCall, Photo, Prompt, Tune


def act(client, action: str, *objects, url: str = "/admin/tunes/tune/"):
    return client.post(
        url, {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True
    )


def test_staff_retries_a_failed_tune_and_it_completes(
    portal, funded_owner, pack, staff, client, settings
):
    selfie_set = ready_selfie_set(funded_owner)
    # The portal's public address is wrong, so Astria cannot fetch the selfies: 422.
    good_address = settings.PUBLIC_BASE_URL
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{free_port()}"
    tune = start(funded_owner, selfie_set, pack)
    tune.refresh_from_db()
    assert tune.status == "failed", tune.status
    assert tune.failure_reason.startswith("Astria refused the photos")
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20

    settings.PUBLIC_BASE_URL = good_address  # fixed; staff retry from admin
    client.force_login(staff)
    response = act(client, "retry", tune)
    assert "Done for 1 of 1." in response.content.decode()

    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    assert tune.failure_reason == ""
    assert Photo.objects.filter(tune=tune).count() == 6
    assert list(tune.prompts.values_list("status", flat=True)) == ["done"] * 3
    # The retry is on the house: one debit, one refund, no more.
    assert list(CreditEntry.objects.order_by("id").values_list("kind", "amount")) == [
        ("grant", 20),
        ("debit", -9),
        ("refund", 9),
    ]
    assert LogEntry.objects.get(object_id=str(tune.pk)).get_change_message() == (
        "Retried: back to queued"
    )
    # Every call made for the tune is on its admin page: the refused one first.
    calls = list(AstriaCall.objects.filter(tune=tune).order_by("id"))
    assert (calls[0].method, calls[0].path, calls[0].status) == ("POST", "/tunes", 422)
    assert ("POST", "/tunes", 201) in [(c.method, c.path, c.status) for c in calls]
    page = client.get(f"/admin/tunes/tune/{tune.pk}/change/").content.decode()
    assert calls[0].error in page


def test_staff_retries_a_failed_scene_and_its_photos_join_the_gallery(
    portal, funded_owner, pack, staff, client
):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    failed = Prompt.objects.get(tune=tune, status="failed")
    assert Photo.objects.filter(tune=tune).count() == 4

    portal.configure(train_seconds=0, generate_seconds=0)  # Astria works again
    client.force_login(staff)
    act(client, "retry", failed, url="/admin/tunes/prompt/")

    failed.refresh_from_db()
    assert failed.status == "done"
    assert Photo.objects.filter(tune=tune).count() == 6
    tune.refresh_from_db()
    assert tune.status == "ready"
    assert CreditEntry.objects.filter(kind="refund").count() == 1  # the scene's, kept


def test_poll_now_moves_a_tune_whose_callback_was_lost(portal, funded_owner, pack, staff, client):
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "training"
    # Training ends at Astria while the callback is lost on the way.
    from django.utils import timezone

    from sandbox.models import SandboxTune

    SandboxTune.objects.filter(pk=tune.astria_id).update(trained_at=timezone.now())

    client.force_login(staff)
    act(client, "poll_now", tune)

    tune.refresh_from_db()
    assert tune.status == Tune.Status.READY
    assert LogEntry.objects.get(object_id=str(tune.pk)).get_change_message() == (
        "Polled Astria now (1 checks)"
    )


def test_a_tune_retried_after_its_training_failed_refunds_nothing_more_when_a_scene_fails(
    portal, funded_owner, pack, staff, client, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from sandbox.models import SandboxTune
    from tunes.services import overdue_poll

    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    Tune.objects.filter(pk=tune.pk).update(
        submitted_at=timezone.now() - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    tune.refresh_from_db()
    assert tune.status == "failed"

    # Astria finishes the training after all; staff retry; one scene then fails.
    SandboxTune.objects.filter(pk=tune.astria_id).update(trained_at=timezone.now())
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    client.force_login(staff)
    act(client, "retry", tune)

    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    assert Photo.objects.filter(tune=tune).count() == 4
    assert list(CreditEntry.objects.order_by("id").values_list("kind", "amount")) == [
        ("grant", 20),
        ("debit", -9),
        ("refund", 9),
    ]
    assert LogEntry.objects.get(object_id=str(tune.pk)).get_change_message() == (
        "Retried: back to training"
    )


def test_a_retried_scene_replaces_the_photos_of_its_failed_attempt(
    portal, funded_owner, pack, staff, client
):
    from django.core.files.storage import storages

    from tests import factories

    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    failed = Prompt.objects.get(tune=tune, status="failed")
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
