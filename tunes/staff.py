"""What staff do to photoshoots from admin: poll Astria now, retry what failed, stop a tune
with a refund, send the ready e-mail again. Each calls the lifecycle services the product uses.

A retry is on the house: the refund the failure gave stays with the user, and the ledger's
one-refund-per-cause rule means a second failure refunds nothing more.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from uploads.services import storage_objects_delete_after_commit

from . import services
from .models import Photo, Prompt, Tune


class CannotRetry(Exception):
    """A retry that does not apply; the message says why, for the staff member."""


def _prompts_reopen(queryset: QuerySet[Prompt]) -> list[int]:
    """Failed prompts back to waiting, as if never sent; returns their ids.

    Astria de-duplicates prompts by their attributes (CONTRACT §4): one sent again unchanged
    gets its failed self back. So a prompt that reached Astria gets another seed."""
    reopened = []
    for prompt in queryset.filter(status=Prompt.Status.FAILED):
        options = dict(prompt.options)
        if prompt.astria_id is not None:
            seed = options.get("seed")
            options["seed"] = seed + 1 if seed is not None else secrets.randbelow(2**31)
        if Prompt.objects.filter(pk=prompt.pk, status=Prompt.Status.FAILED).update(
            status=Prompt.Status.WAITING,
            waiting_since=timezone.now(),
            options=options,
            failure_reason="",
            astria_id=None,
            text="",
            result_count=None,
            submitted_at=None,
            finished_at=None,
            last_polled_at=None,
        ):
            reopened.append(prompt.pk)
    # Photos of the failed attempts would stand in for the new images at their places.
    photos = Photo.objects.filter(prompt__in=reopened)
    storage_objects_delete_after_commit(
        [name for pair in photos.values_list("image", "thumbnail") for name in pair]
    )
    photos.delete()
    return reopened


def tune_retry(*, tune_id: int) -> str:
    """Take a failed tune up again from where it stopped: not sent → send it; sent but not
    trained → follow its training again (with a fresh deadline); trained → send the scenes
    that failed. Returns the status it went back to; raises CannotRetry if it has not failed."""
    tune = Tune.objects.filter(pk=tune_id, status=Tune.Status.FAILED).first()
    if tune is None:
        raise CannotRetry("Only a failed photoshoot can be retried.")
    if tune.astria_id is None:
        status = Tune.Status.QUEUED
    elif tune.trained_at is None:
        status = Tune.Status.TRAINING
    else:
        status = Tune.Status.GENERATING
    with transaction.atomic():
        reopened = Tune.objects.filter(pk=tune_id, status=Tune.Status.FAILED).update(
            status=status,
            failure_reason="",
            finished_at=None,
            last_polled_at=None,
            submit_claimed_at=None,
            queued_at=timezone.now(),
            # A tune followed again gets a whole training deadline from now.
            submitted_at=timezone.now() if status == Tune.Status.TRAINING else tune.submitted_at,
        )
        if not reopened:
            raise CannotRetry("Only a failed photoshoot can be retried.")
        ids = _prompts_reopen(tune.prompts.all())
        transaction.on_commit(lambda: _resume(tune_id, status, ids))
    return status


def _resume(tune_id: int, status: str, prompt_ids: list[int]) -> None:
    """Queue what takes a retried tune up again from `status`."""
    from .tasks import prompt_submit, tune_submit, tune_sync

    if status == Tune.Status.QUEUED:
        tune_submit.delay(tune_id)
    elif status == Tune.Status.TRAINING:
        tune_sync.delay(tune_id)
    elif prompt_ids:
        for prompt_id in prompt_ids:
            prompt_submit.delay(prompt_id)
    else:
        # Nothing to send again (it failed after its last scene ended): finish it now.
        services.tune_finish_if_done(tune_id=tune_id)


def prompt_retry(*, prompt_id: int) -> None:
    """Send one failed scene of a trained photoshoot again; its photos join the gallery."""
    from .tasks import prompt_submit

    prompt = Prompt.objects.filter(pk=prompt_id).first()
    if prompt is None or prompt.status != Prompt.Status.FAILED:
        raise CannotRetry("Only a failed scene can be retried.")
    with transaction.atomic():
        # Locked as tune_fail locks it: the tune cannot fail between this check and the retry.
        tune = Tune.objects.select_for_update().get(pk=prompt.tune_id)
        if tune.status not in (Tune.Status.GENERATING, Tune.Status.READY):
            raise CannotRetry(
                "Its photoshoot is not running or ready: retry the photoshoot instead."
            )
        if _prompts_reopen(Prompt.objects.filter(pk=prompt_id)):
            transaction.on_commit(lambda: prompt_submit.delay(prompt_id))


def tune_poll_now(*, tune_id: int) -> int:
    """Ask Astria about the tune and its open scenes now instead of waiting for the sweep;
    a tune not yet at Astria is sent again (nothing happens while an attempt is under way:
    see services.tune_submit). Returns how many checks were queued."""
    from .tasks import prompt_sync, tune_submit, tune_sync

    tune = Tune.objects.get(pk=tune_id)
    if tune.status in (Tune.Status.QUEUED, Tune.Status.SUBMITTING) and tune.astria_id is None:
        tune_submit.delay(tune_id)  # does nothing while an attempt is under way
        return 1
    if tune.status == Tune.Status.TRAINING:
        tune_sync.delay(tune_id)
        return 1
    if tune.status != Tune.Status.GENERATING:
        return 0
    submitted = tune.prompts.filter(status=Prompt.Status.SUBMITTED).values_list("pk", flat=True)
    for prompt_id in submitted:
        prompt_sync.delay(prompt_id)
    return len(submitted)


def tune_ready_email_resend(*, tune_id: int) -> bool:
    """Send the "your photos are ready" e-mail again; False unless the tune is ready."""
    tune = Tune.objects.select_related("owner", "pack").filter(pk=tune_id).first()
    if tune is None or tune.status != Tune.Status.READY:
        return False
    services.ready_email_send(tune)
    return True
