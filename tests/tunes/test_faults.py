"""The photoshoot when Astria misbehaves: the sandbox's faults, and the poller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CreditEntry
from operations import leases
from tests.conftest import wait_until
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photo, Photoshoot, Prompt, TrainedModel
from tunes.sweep import overdue_poll

FLUX = 1504944


def posts(portal, path: str) -> int:
    return [(r["method"], r["path"]) for r in portal.requests_log()].count(("POST", path))


def astria_tunes(portal) -> int:
    return posts(portal, "/tunes")


def scenes_at_astria(portal) -> list[str]:
    """The callback URL of every prompt at Astria: our scenes' codes are in them."""
    return [p.callback or "" for p in portal.client().prompts_list(FLUX)]


def one_prompt_per_scene(portal, photoshoot: Photoshoot) -> bool:
    at_astria = scenes_at_astria(portal)
    return len(at_astria) == photoshoot.prompts.count() and all(
        sum(str(code) in url for url in at_astria) == 1
        for code in photoshoot.prompts.values_list("code", flat=True)
    )


@pytest.mark.parametrize("status", [500, 429])
def test_a_failed_submit_is_retried_and_one_model_is_trained(portal, funded_owner, pack, status):
    portal.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "status": status, "times": 1}],
    )
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    statuses = [
        r["status"]
        for r in portal.requests_log()
        if r["path"] == "/tunes" and r["method"] == "POST"
    ]
    assert statuses == [status, 201]
    assert photoshoot.model.submit_attempts == 2
    assert len(list(portal.client().tunes_list())) == 1


def test_a_submit_answered_504_after_saving_trains_exactly_one_model(portal, funded_owner, pack):
    portal.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "status": 504, "times": 1}],
    )
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    # A fresh account has no title idempotency: the model was looked up by its title, never
    # posted again.
    assert astria_tunes(portal) == 1
    assert [t.title for t in portal.client().tunes_list()] == [photoshoot.model.astria_title]
    assert one_prompt_per_scene(portal, photoshoot)


def test_a_scene_answered_504_after_saving_is_made_once(portal, funded_owner, pack):
    portal.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": f"^/tunes/{FLUX}/prompts$", "status": 504, "times": 1}],
    )
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert photoshoot.photos.count() == 6
    # No prompt idempotency either: the scene Astria saved was found by its callback URL.
    assert posts(portal, f"/tunes/{FLUX}/prompts") == 3
    assert one_prompt_per_scene(portal, photoshoot)


def test_a_scene_ending_in_user_error_is_refunded_and_the_rest_kept(portal, funded_owner, pack):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    failed = Prompt.objects.get(photoshoot=photoshoot, status="failed")
    assert "by the sea" in failed.template and "injected user_error" in failed.failure_reason
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 4
    # 9 credits for 6 images; the failed scene had 2 of them: 9 × 2 ÷ 6 = 3 back.
    refund = CreditEntry.objects.get(kind="refund")
    assert refund.amount == 3 and refund.cause == failed
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9 + 3


def test_every_scene_failing_fails_the_photoshoot_with_a_full_refund(portal, funded_owner, pack):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error=1)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "failed"
    assert photoshoot.failure_reason == "None of the scenes could be made."
    # The model trained fine: the next pack runs on it.
    assert photoshoot.model.status == "ready"
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20  # 3 × 3 for the scenes, then the 0 left for the photoshoot
    assert sum(CreditEntry.objects.filter(kind="refund").values_list("amount", flat=True)) == 9


def test_a_training_that_never_ends_fails_at_the_deadline_with_a_full_refund(
    portal, funded_owner, pack, settings
):
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "training"

    overdue_poll()  # not overdue yet: nothing changes
    photoshoot.refresh_from_db()
    assert photoshoot.status == "training" and photoshoot.model.status == "training"

    TrainedModel.objects.filter(pk=photoshoot.model_id).update(
        submitted_at=timezone.now() - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.model.status == "failed"
    assert "stopped waiting" in photoshoot.model.failure_reason
    assert photoshoot.status == "failed"
    assert "stopped waiting" in photoshoot.failure_reason
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20
    from django.core import mail

    assert [m.subject for m in mail.outbox] == [
        "[PhotoShoot] Your Studio photoshoot could not be made"
    ]
    assert "Your credits have been refunded." in mail.outbox[0].body
    assert CreditEntry.objects.filter(kind="refund").count() == 1


def test_a_model_that_fails_takes_every_photoshoot_waiting_on_it_down_with_refunds(
    portal, funded_owner, pack, settings
):
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    selfie_set = ready_selfie_set(funded_owner)
    first = start(funded_owner, selfie_set, pack)
    second = start(funded_owner, selfie_set, pack)  # waits for the same model
    assert second.model_id == first.model_id

    TrainedModel.objects.filter(pk=first.model_id).update(
        submitted_at=timezone.now() - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    assert list(Photoshoot.objects.values_list("status", flat=True)) == ["failed"] * 2
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20
    assert astria_tunes(portal) == 1


def test_duplicated_callbacks_make_no_duplicate_photos(portal, funded_owner, pack):
    portal.configure(train_seconds=0, generate_seconds=0, callbacks={"duplicate": 1})
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    callbacks = [r for r in portal.requests_log() if r["kind"] == "callback"]
    assert len(callbacks) == 8  # every callback twice: 1 tune + 3 prompts


# --- With a real worker, real timers and lost callbacks ----------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
def test_with_every_callback_dropped_the_poller_finishes_the_job(
    portal, funded_owner, pack, celery_worker, settings
):
    settings.POLL_AFTER_SECONDS = 1
    portal.configure(train_seconds=2, generate_seconds=1, callbacks={"drop": 1})
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)

    def ended() -> bool:
        overdue_poll()  # what beat runs every minute
        return Photoshoot.objects.get(pk=photoshoot.pk).status in ("ready", "failed")

    wait_until(ended, timeout=60, interval=1)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    assert [r for r in portal.requests_log() if r["kind"] == "callback"] == []
    assert astria_tunes(portal) == 1
    assert one_prompt_per_scene(portal, photoshoot)


@pytest.mark.postgres
@pytest.mark.redis
def test_duplicated_and_reordered_callbacks_make_no_duplicate_photos(
    portal, funded_owner, pack, celery_worker
):
    portal.configure(train_seconds=1, generate_seconds=1, callbacks={"duplicate": 1, "reorder": 3})
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    wait_until(
        lambda: Photoshoot.objects.get(pk=photoshoot.pk).status in ("ready", "failed"),
        timeout=60,
        interval=1,
    )
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    assert Photo.objects.values("prompt", "index").distinct().count() == 6
    wait_until(lambda: len([r for r in portal.requests_log() if r["kind"] == "callback"]) == 8)


# --- Work whose task was lost ------------------------------------------------------------------


def lost_start(owner, pack, *, age: timedelta) -> Photoshoot:
    """A photoshoot started `age` ago whose model_submit task the broker lost: its model
    queued, its scenes waiting, the price debited."""
    from accounts.credits import credits_debit
    from tests import factories
    from tunes.callbacks import callback_secret, secret_hash

    model = factories.TrainedModelFactory(owner=owner, selfie_set=ready_selfie_set(owner))
    TrainedModel.objects.filter(pk=model.pk).update(
        queued_at=timezone.now() - age,
        callback_secret_hash=secret_hash(callback_secret("tune", model.code)),
    )
    photoshoot = factories.PhotoshootFactory(
        owner=owner, model=model, pack=pack, price=pack.price, with_training=True
    )
    for order, pack_prompt in enumerate(pack.prompts.all()):
        prompt = factories.PromptFactory(
            photoshoot=photoshoot,
            pack_prompt=pack_prompt,
            template=pack_prompt.template,
            num_images=pack_prompt.num_images,
            options=pack_prompt.astria_options(),
            order=order,
        )
        Prompt.objects.filter(pk=prompt.pk).update(
            callback_secret_hash=secret_hash(callback_secret("prompt", prompt.code))
        )
    credits_debit(user=owner, amount=pack.price, reason="Studio photoshoot", cause=photoshoot)
    return photoshoot


def test_a_model_whose_submit_task_was_lost_is_sent_by_the_sweep(
    portal, funded_owner, pack, settings
):
    resend = timedelta(seconds=10 * settings.POLL_AFTER_SECONDS)
    photoshoot = lost_start(funded_owner, pack, age=resend - timedelta(seconds=5))
    overdue_poll()
    # Not late enough to send again.
    assert TrainedModel.objects.get(pk=photoshoot.model_id).status == "queued"

    TrainedModel.objects.filter(pk=photoshoot.model_id).update(queued_at=timezone.now() - resend)
    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.model.status == "ready"
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    assert astria_tunes(portal) == 1


def test_a_copy_of_a_submit_task_does_nothing_while_an_attempt_is_under_way(
    portal, funded_owner, pack, settings
):
    from tunes import training

    photoshoot = lost_start(funded_owner, pack, age=timedelta(seconds=1))
    model_id = photoshoot.model_id
    # Another worker is posting it right now (it has claimed the model).
    TrainedModel.objects.filter(pk=model_id).update(
        status="submitting", submit_claimed_at=timezone.now()
    )
    training.model_submit(model_id=model_id)
    assert astria_tunes(portal) == 0
    assert TrainedModel.objects.get(pk=model_id).status == "submitting"

    # That worker was killed: once its lease is no longer renewed, the model is taken up again.
    lapsed = leases.lapsed_before() - timedelta(seconds=1)
    TrainedModel.objects.filter(pk=model_id).update(submit_claimed_at=lapsed)
    training.model_submit(model_id=model_id)
    model = TrainedModel.objects.get(pk=model_id)
    assert model.status == "ready", model.failure_reason
    assert model.submit_claimed_at is None
    assert Photoshoot.objects.get(pk=photoshoot.pk).status == "ready"
    assert astria_tunes(portal) == 1


def test_the_resume_check_hands_a_dead_workers_submit_on_at_once_and_leaves_live_ones(
    portal, funded_owner, pack
):
    from tunes.sweep import claims_lapsed_resume

    photoshoot = lost_start(funded_owner, pack, age=timedelta(seconds=1))
    model_id = photoshoot.model_id
    # A live attempt renews its claim: the resume check leaves it alone.
    TrainedModel.objects.filter(pk=model_id).update(
        status="submitting", submit_claimed_at=timezone.now()
    )
    assert claims_lapsed_resume() == 0
    assert astria_tunes(portal) == 0
    # Its worker was killed a lease ago: the next check (every WORK_RESUME_SECONDS) sends it,
    # long before the sweep's resend of lost tasks would.
    TrainedModel.objects.filter(pk=model_id).update(
        submit_claimed_at=leases.lapsed_before() - timedelta(seconds=1)
    )
    assert claims_lapsed_resume() == 1
    model = TrainedModel.objects.get(pk=model_id)
    assert model.status == "ready", model.failure_reason
    assert astria_tunes(portal) == 1
    assert claims_lapsed_resume() == 0


def test_a_model_whose_attempt_was_killed_after_posting_is_found_not_posted_again(
    portal, funded_owner, pack, settings
):
    from tunes import training

    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    astria_id = photoshoot.model.astria_id
    # As if the worker died after Astria took the tune but before its id was saved.
    lapsed = leases.lapsed_before() - timedelta(seconds=1)
    TrainedModel.objects.filter(pk=photoshoot.model_id).update(
        status="submitting", astria_id=None, submit_claimed_at=lapsed
    )
    training.model_submit(model_id=photoshoot.model_id)
    assert astria_tunes(portal) == 1  # looked up by its title, not posted again
    model = TrainedModel.objects.get(pk=photoshoot.model_id)
    assert model.astria_id == astria_id and model.status == "ready"


def test_scenes_whose_submit_tasks_were_lost_are_sent_by_the_sweep(
    portal, funded_owner, pack, settings
):
    from sandbox.models import SandboxTune

    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "training"
    # Training ends and the photoshoot moves on, but its prompt_submit tasks never arrive.
    trained = timezone.now() - timedelta(seconds=10 * settings.POLL_AFTER_SECONDS)
    SandboxTune.objects.filter(pk=photoshoot.model.astria_id).update(trained_at=trained)
    TrainedModel.objects.filter(pk=photoshoot.model_id).update(
        status="ready", trained_at=trained, expires_at=trained + timedelta(days=30)
    )
    Photoshoot.objects.filter(pk=photoshoot.pk).update(status="generating")
    photoshoot.prompts.update(waiting_since=trained)
    portal.configure(train_seconds=0, generate_seconds=0)

    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6
    assert one_prompt_per_scene(portal, photoshoot)


def test_a_photoshoot_whose_generate_task_was_lost_is_started_by_the_sweep(
    portal, funded_owner, pack, settings
):
    from sandbox.models import SandboxTune

    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "training"
    # The model trained, but the photoshoot's photoshoot_generate task never arrived.
    trained = timezone.now() - timedelta(seconds=2 * settings.POLL_AFTER_SECONDS)
    SandboxTune.objects.filter(pk=photoshoot.model.astria_id).update(trained_at=trained)
    TrainedModel.objects.filter(pk=photoshoot.model_id).update(
        status="ready", trained_at=trained, expires_at=trained + timedelta(days=30)
    )
    Photoshoot.objects.filter(pk=photoshoot.pk).update(created_at=trained)
    portal.configure(train_seconds=0, generate_seconds=0)

    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready", photoshoot.failure_reason
    assert Photo.objects.filter(photoshoot=photoshoot).count() == 6


def test_a_model_never_sent_fails_at_the_deadline_with_a_full_refund(
    portal, funded_owner, pack, settings
):
    photoshoot = lost_start(
        funded_owner, pack, age=timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    photoshoot.refresh_from_db()
    assert photoshoot.model.status == "failed"
    assert photoshoot.status == "failed"
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20
    assert astria_tunes(portal) == 0
