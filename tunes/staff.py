"""What staff do to photoshoots from admin: poll Astria now, retry what failed, stop one with a
refund, send the ready e-mail again. Each calls the engine's services the product uses.

A retry is on the house: the refund the failure gave stays with the user, and the ledger's
one-refund-per-cause rule means a second failure refunds nothing more.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from uploads.services import storage_objects_delete_after_commit

from .callbacks import callback_secret, secret_hash
from .emails import ready_email_send
from .models import Photo, Photoshoot, Prompt, TrainedModel
from .photoshoots import photoshoot_finish_if_done


class CannotRetry(Exception):
    """A retry that does not apply; the message says why, for the staff member."""


def _prompts_reopen(queryset: QuerySet[Prompt]) -> list[int]:
    """Failed scenes back to waiting, as new Astria prompts; returns their ids.

    One that Astria made and failed gets a new code (so a new callback URL, by which lookups
    know it: the failed prompt at Astria is never taken for it) and another seed, as an
    account with Astria's idempotency on would hand the failed prompt back for the same
    attributes (CONTRACT §4)."""
    reopened = []
    for prompt in queryset.filter(status=Prompt.Status.FAILED):
        options = dict(prompt.options)
        code, attempts = prompt.code, prompt.submit_attempts
        if prompt.astria_id is not None:
            seed = options.get("seed")
            options["seed"] = seed + 1 if seed is not None else secrets.randbelow(2**31)
            code, attempts = uuid.uuid4(), 0
        # Without an id, a post that was under way when it failed may have reached Astria:
        # the same code, attempts and first send make the retry look it up before posting.
        if Prompt.objects.filter(pk=prompt.pk, status=Prompt.Status.FAILED).update(
            status=Prompt.Status.WAITING,
            code=code,
            callback_secret_hash=secret_hash(callback_secret("prompt", code)),
            waiting_since=timezone.now(),
            first_sent_at=None if prompt.astria_id is not None else prompt.first_sent_at,
            options=options,
            failure_reason="",
            astria_id=None,
            submit_attempts=attempts,
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


def _model_reopen(model: TrainedModel) -> str | None:
    """A failed model back to where it stopped: not sent → queued again; sent but not trained
    → followed again with a fresh deadline. Returns the status, or None if it needs nothing."""
    if model.status != TrainedModel.Status.FAILED:
        return None
    status = TrainedModel.Status.QUEUED if model.astria_id is None else TrainedModel.Status.TRAINING
    now = timezone.now()
    TrainedModel.objects.filter(pk=model.pk, status=TrainedModel.Status.FAILED).update(
        status=status,
        failure_reason="",
        last_polled_at=None,
        # An attempt still under way keeps its claim (it lapses by itself), so this retry
        # cannot post a second training beside it.
        queued_at=now,
        submitted_at=now if status == TrainedModel.Status.TRAINING else model.submitted_at,
    )
    return status


def photoshoot_retry(*, photoshoot_id: int) -> str:
    """Take a failed photoshoot up again from where it stopped: its model's training if that
    failed, else the scenes that failed. Returns the status it went back to; raises
    CannotRetry if it has not failed or its model has expired."""
    photoshoot = (
        Photoshoot.objects.select_related("model")
        .filter(pk=photoshoot_id, status=Photoshoot.Status.FAILED)
        .first()
    )
    if photoshoot is None:
        raise CannotRetry("Only a failed photoshoot can be retried.")
    model = photoshoot.model
    if model.status == TrainedModel.Status.EXPIRED:
        raise CannotRetry(
            "Its model has expired at Astria: starting the pack again trains a new one."
        )
    trained = model.status == TrainedModel.Status.READY
    status = Photoshoot.Status.GENERATING if trained else Photoshoot.Status.TRAINING
    with transaction.atomic():
        if not Photoshoot.objects.filter(pk=photoshoot_id, status=Photoshoot.Status.FAILED).update(
            status=status, failure_reason="", finished_at=None
        ):
            raise CannotRetry("Only a failed photoshoot can be retried.")
        model_status = None if trained else _model_reopen(model)
        ids = _prompts_reopen(photoshoot.prompts.all())
        transaction.on_commit(lambda: _resume(photoshoot_id, model.pk, model_status, ids))
    return status


def _resume(photoshoot_id: int, model_id: int, model_status: str | None, ids: list[int]) -> None:
    """Queue what takes a retried photoshoot up again."""
    from .tasks import model_submit, model_sync, prompt_submit

    if model_status == TrainedModel.Status.QUEUED:
        model_submit.delay(model_id)
    elif model_status == TrainedModel.Status.TRAINING:
        model_sync.delay(model_id)
    elif model_status is None and ids:
        for prompt_id in ids:
            prompt_submit.delay(prompt_id)
    elif model_status is None:
        # Nothing to send again (it failed after its last scene ended): finish it now.
        photoshoot_finish_if_done(photoshoot_id=photoshoot_id)


def prompt_retry(*, prompt_id: int) -> None:
    """Send one failed scene of a generating or ready photoshoot again; its photos join the
    gallery."""
    from .tasks import prompt_submit

    prompt = Prompt.objects.filter(pk=prompt_id).first()
    if prompt is None or prompt.status != Prompt.Status.FAILED:
        raise CannotRetry("Only a failed scene can be retried.")
    with transaction.atomic():
        # Locked as photoshoot_fail locks it: it cannot fail between this check and the retry.
        photoshoot = Photoshoot.objects.select_for_update().get(pk=prompt.photoshoot_id)
        if photoshoot.status not in (Photoshoot.Status.GENERATING, Photoshoot.Status.READY):
            raise CannotRetry(
                "Its photoshoot is not running or ready: retry the photoshoot instead."
            )
        if _prompts_reopen(Prompt.objects.filter(pk=prompt_id)):
            transaction.on_commit(lambda: prompt_submit.delay(prompt_id))


def photoshoot_poll_now(*, photoshoot_id: int) -> int:
    """Ask Astria about the photoshoot's model and open scenes now instead of waiting for the
    sweep; a model not yet at Astria is sent again (nothing happens while an attempt is under
    way: see engine.submit_claim). Returns how many checks were queued."""
    from .tasks import model_submit, model_sync, prompt_sync

    photoshoot = Photoshoot.objects.select_related("model").get(pk=photoshoot_id)
    model = photoshoot.model
    if photoshoot.status == Photoshoot.Status.TRAINING:
        if model.astria_id is None and model.status in (
            TrainedModel.Status.QUEUED,
            TrainedModel.Status.SUBMITTING,
        ):
            model_submit.delay(model.pk)  # does nothing while an attempt is under way
            return 1
        if model.status == TrainedModel.Status.TRAINING:
            model_sync.delay(model.pk)
            return 1
        return 0
    if photoshoot.status != Photoshoot.Status.GENERATING:
        return 0
    submitted = photoshoot.prompts.filter(status=Prompt.Status.SUBMITTED).values_list(
        "pk", flat=True
    )
    for prompt_id in submitted:
        prompt_sync.delay(prompt_id)
    return len(submitted)


def ready_email_resend(*, photoshoot_id: int) -> bool:
    """Send the "your photos are ready" e-mail again; False unless it is a ready customer's."""
    photoshoot = Photoshoot.objects.select_related("owner", "pack").filter(pk=photoshoot_id).first()
    if photoshoot is None or photoshoot.status != Photoshoot.Status.READY:
        return False
    if photoshoot.kind != Photoshoot.Kind.CUSTOMER:
        return False
    ready_email_send(photoshoot)
    return True
