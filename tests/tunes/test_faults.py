"""The photoshoot when Astria misbehaves: the sandbox's faults, and the poller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CreditEntry
from tests.conftest import wait_until
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photo, Prompt, Tune
from tunes.services import overdue_poll


def astria_tunes(portal) -> int:
    return sum(1 for r in portal.requests_log() if (r["method"], r["path"]) == ("POST", "/tunes"))


@pytest.mark.parametrize("status", [500, 429])
def test_a_failed_submit_is_retried_and_one_tune_is_trained(portal, funded_owner, pack, status):
    portal.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "status": status, "times": 1}],
    )
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    statuses = [
        r["status"]
        for r in portal.requests_log()
        if r["path"] == "/tunes" and r["method"] == "POST"
    ]
    assert statuses == [status, 201]
    assert tune.submit_attempts == 2


def test_a_submit_answered_504_after_saving_trains_exactly_one_tune(portal, funded_owner, pack):
    portal.configure(
        train_seconds=0,
        generate_seconds=0,
        faults=[{"method": "POST", "path": "^/tunes$", "status": 504, "times": 1}],
    )
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    assert astria_tunes(portal) == 1  # looked up by title, never posted again
    assert [t.title for t in portal.client().tunes_list()] == [tune.astria_title]


def test_a_scene_ending_in_user_error_is_refunded_and_the_rest_kept(portal, funded_owner, pack):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    failed = Prompt.objects.get(tune=tune, status="failed")
    assert "by the sea" in failed.template and "injected user_error" in failed.failure_reason
    assert Photo.objects.filter(tune=tune).count() == 4
    # 9 credits for 6 images; the failed scene had 2 of them: 9 × 2 ÷ 6 = 3 back.
    refund = CreditEntry.objects.get(kind="refund")
    assert refund.amount == 3 and refund.cause == failed
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9 + 3


def test_every_scene_failing_fails_the_tune_with_a_full_refund(portal, funded_owner, pack):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error=1)
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "failed"
    assert tune.failure_reason == "None of the scenes could be made."
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20  # 3 × 3 for the scenes, then the 0 left for the tune
    assert sum(CreditEntry.objects.filter(kind="refund").values_list("amount", flat=True)) == 9


def test_a_training_that_never_ends_fails_at_the_deadline_with_a_full_refund(
    portal, funded_owner, pack, settings
):
    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "training"

    overdue_poll()  # not overdue yet: nothing changes
    tune.refresh_from_db()
    assert tune.status == "training"

    Tune.objects.filter(pk=tune.pk).update(
        submitted_at=timezone.now() - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    overdue_poll()
    tune.refresh_from_db()
    assert tune.status == "failed"
    assert "stopped waiting" in tune.failure_reason
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20
    from django.core import mail

    assert [m.subject for m in mail.outbox] == [
        "[PhotoShoot] Your Studio photoshoot could not be made"
    ]
    assert "Your credits have been refunded." in mail.outbox[0].body
    assert CreditEntry.objects.filter(kind="refund").count() == 1


def test_duplicated_callbacks_make_no_duplicate_photos(portal, funded_owner, pack):
    portal.configure(train_seconds=0, generate_seconds=0, callbacks={"duplicate": 1})
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    assert Photo.objects.filter(tune=tune).count() == 6
    callbacks = [r for r in portal.requests_log() if r["kind"] == "callback"]
    assert len(callbacks) == 8  # every callback twice: 1 tune + 3 prompts


# --- With a real worker, real timers and lost callbacks ----------------------------------------


@pytest.fixture
def worker_env(portal, live_server):
    return {
        "PUBLIC_BASE_URL": live_server.url,
        "ASTRIA_BASE_URL": portal.url,
        "ASTRIA_API_KEY": "sd_sandbox",
        "ASTRIA_RETRY_SECONDS": "1",
        "POLL_AFTER_SECONDS": "1",
    }


@pytest.mark.postgres
@pytest.mark.redis
def test_with_every_callback_dropped_the_poller_finishes_the_job(
    portal, funded_owner, pack, celery_worker, settings
):
    settings.POLL_AFTER_SECONDS = 1
    portal.configure(train_seconds=2, generate_seconds=1, callbacks={"drop": 1})
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)

    def ready() -> bool:
        overdue_poll()  # what beat runs every minute
        return Tune.objects.get(pk=tune.pk).status in ("ready", "failed")

    wait_until(ready, timeout=60, interval=1)
    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    assert Photo.objects.filter(tune=tune).count() == 6
    assert [r for r in portal.requests_log() if r["kind"] == "callback"] == []
    assert astria_tunes(portal) == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_duplicated_and_reordered_callbacks_make_no_duplicate_photos(
    portal, funded_owner, pack, celery_worker
):
    portal.configure(train_seconds=1, generate_seconds=1, callbacks={"duplicate": 1, "reorder": 3})
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    wait_until(
        lambda: Tune.objects.get(pk=tune.pk).status in ("ready", "failed"), timeout=60, interval=1
    )
    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    assert Photo.objects.filter(tune=tune).count() == 6
    assert Photo.objects.values("prompt", "index").distinct().count() == 6
    wait_until(lambda: len([r for r in portal.requests_log() if r["kind"] == "callback"]) == 8)


# --- Work whose task was lost ------------------------------------------------------------------


def lost_tune(owner, pack, *, age: timedelta) -> Tune:
    """A tune started `age` ago whose tune_submit task the broker lost: queued, debited."""
    from accounts.credits import credits_debit
    from tests import factories
    from tunes.services import callback_secret, secret_hash

    tune = factories.TuneFactory(
        owner=owner, pack=pack, selfie_set=ready_selfie_set(owner), price=pack.price
    )
    Tune.objects.filter(pk=tune.pk).update(
        queued_at=timezone.now() - age,
        callback_secret_hash=secret_hash(callback_secret("tune", tune.code)),
    )
    for order, pack_prompt in enumerate(pack.prompts.all()):
        prompt = factories.PromptFactory(
            tune=tune,
            pack_prompt=pack_prompt,
            template=pack_prompt.template,
            num_images=pack_prompt.num_images,
            options=pack_prompt.astria_options(),
            order=order,
        )
        Prompt.objects.filter(pk=prompt.pk).update(
            callback_secret_hash=secret_hash(callback_secret("prompt", prompt.code))
        )
    credits_debit(user=owner, amount=pack.price, reason="Studio photoshoot", cause=tune)
    return tune


def test_a_tune_whose_submit_task_was_lost_is_sent_by_the_sweep(
    portal, funded_owner, pack, settings
):
    resend = timedelta(seconds=10 * settings.POLL_AFTER_SECONDS)
    tune = lost_tune(funded_owner, pack, age=resend - timedelta(seconds=5))
    overdue_poll()
    assert Tune.objects.get(pk=tune.pk).status == "queued"  # not late enough to send again

    Tune.objects.filter(pk=tune.pk).update(queued_at=timezone.now() - resend)
    overdue_poll()
    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    assert Photo.objects.filter(tune=tune).count() == 6
    assert astria_tunes(portal) == 1


def test_a_copy_of_a_submit_task_does_nothing_while_an_attempt_is_under_way(
    portal, funded_owner, pack, settings
):
    from tunes import services

    tune = lost_tune(funded_owner, pack, age=timedelta(seconds=1))
    # Another worker is posting it right now (it has claimed the tune).
    Tune.objects.filter(pk=tune.pk).update(status="submitting", submit_claimed_at=timezone.now())
    services.tune_submit(tune_id=tune.pk)
    assert astria_tunes(portal) == 0
    assert Tune.objects.get(pk=tune.pk).status == "submitting"

    # That worker was killed: once its attempt cannot be running any more, the tune is taken
    # up again.
    lapsed = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    Tune.objects.filter(pk=tune.pk).update(submit_claimed_at=lapsed)
    services.tune_submit(tune_id=tune.pk)
    tune.refresh_from_db()
    assert tune.status == "ready", tune.failure_reason
    assert tune.submit_claimed_at is None
    assert astria_tunes(portal) == 1


def test_a_tune_whose_attempt_was_killed_after_posting_is_found_not_posted_again(
    portal, funded_owner, pack, settings
):
    from tunes import services

    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "ready"
    # As if the worker died after Astria took the tune but before its id was saved.
    lapsed = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    Tune.objects.filter(pk=tune.pk).update(
        status="submitting", astria_id=None, submit_claimed_at=lapsed
    )
    services.tune_submit(tune_id=tune.pk)
    assert astria_tunes(portal) == 1  # looked up by its title, not posted again
    assert Tune.objects.get(pk=tune.pk).astria_id is not None


def test_scenes_whose_submit_tasks_were_lost_are_sent_by_the_sweep(
    portal, funded_owner, pack, settings
):
    from sandbox.models import SandboxTune

    portal.configure(train_seconds=0, generate_seconds=0, never_train=True)
    tune = start(funded_owner, ready_selfie_set(funded_owner), pack)
    tune.refresh_from_db()
    assert tune.status == "training"
    # Training ends and the tune moves on, but its prompt_submit tasks never arrive.
    trained = timezone.now() - timedelta(seconds=10 * settings.POLL_AFTER_SECONDS)
    SandboxTune.objects.filter(pk=tune.astria_id).update(trained_at=trained)
    Tune.objects.filter(pk=tune.pk).update(status="generating", trained_at=trained)
    portal.configure(train_seconds=0, generate_seconds=0)

    overdue_poll()
    tune.refresh_from_db()
    assert tune.status == "ready"
    assert Photo.objects.filter(tune=tune).count() == 6


def test_a_tune_never_sent_fails_at_the_deadline_with_a_full_refund(
    portal, funded_owner, pack, settings
):
    tune = lost_tune(
        funded_owner, pack, age=timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS + 1)
    )
    overdue_poll()
    tune.refresh_from_db()
    assert tune.status == "failed"
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20
    assert astria_tunes(portal) == 0
