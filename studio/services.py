"""Sample subjects and pack previews, through the one Astria client.

Previews are for staff, so nothing here waits for a callback: each object is polled by its own
task, PREVIEW_POLL_SECONDS apart, until it is done or past the lifecycle's deadlines. A preview
spends no credits and never touches a customer's photos.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from astria.client import get_client
from astria.errors import AstriaError
from packs.models import Pack
from packs.templating import TRIGGER_WORD, TemplateError, prompt_render, prompt_text_check
from tunes import ingest
from tunes.services import lora_tune_request, prompt_request, tune_find_by_title
from uploads import storage
from uploads.models import Selfie
from uploads.services import storage_objects_delete_after_commit

from .models import PackPreview, PreviewShot, PreviewSubject

logger = logging.getLogger(__name__)


class CannotPreview(Exception):
    """A subject that cannot train or a preview that cannot run; the message says why."""


# --- Sample subjects --------------------------------------------------------------------------


def subject_train(*, subject: PreviewSubject) -> None:
    """Train the subject (again: after a failure, or once Astria has deleted its LoRA) on the
    photos of its set; the submission is queued once this commits."""
    from .tasks import subject_submit

    selfie_set = subject.selfie_set
    if not selfie_set.owner.is_staff:
        raise CannotPreview("Sample photos must be in a staff account's set, never a customer's.")
    ready = selfie_set.selfies.filter(status=Selfie.Status.READY).count()
    if ready < settings.SELFIES_MIN:
        raise CannotPreview(f"“{selfie_set}” has {ready} photos; it needs {settings.SELFIES_MIN}.")
    with transaction.atomic():
        claimed = PreviewSubject.objects.exclude(status=PreviewSubject.Status.TRAINING).filter(
            pk=subject.pk
        )
        if not claimed.update(
            status=PreviewSubject.Status.TRAINING,
            subject_class=selfie_set.subject_class,
            trainings=F("trainings") + 1,
            astria_id=None,
            failure_reason="",
            submitted_at=timezone.now(),  # the training deadline counts from here
            trained_at=None,
        ):
            raise CannotPreview(f"{subject.name} is training already.")
        transaction.on_commit(lambda: subject_submit.delay(subject.pk))


def subject_submit(*, subject_id: int) -> None:
    """Post the subject's LoRA to Astria (looked up by title first after a 504), keep its id.
    Transient errors propagate (the task retries); permanent ones fail it."""
    subject = (
        PreviewSubject.objects.select_related("selfie_set")
        .filter(pk=subject_id, status=PreviewSubject.Status.TRAINING, astria_id=None)
        .first()
    )
    if subject is None:
        return
    request = lora_tune_request(
        title=subject.astria_title,
        selfie_set=subject.selfie_set,
        subject_class=subject.subject_class,
        callback=None,  # previews poll (see above)
    )
    try:
        found = get_client().tune_create(request)
    except AstriaError as exc:
        if exc.permanent:
            subject_fail(subject_id, f"Astria refused the photos: {exc.message}")
            return
        recovered = (
            tune_find_by_title(subject.astria_title) if exc.may_have_been_processed else None
        )
        if recovered is None:
            raise
        found = recovered
    PreviewSubject.objects.filter(pk=subject_id, astria_id=None).update(astria_id=found.id)


def subject_sync(*, subject_id: int) -> bool:
    """Ask Astria whether the subject is trained; True while it is still training."""
    subject = PreviewSubject.objects.filter(
        pk=subject_id, status=PreviewSubject.Status.TRAINING
    ).first()
    if subject is None:
        return False
    if subject.astria_id is None:
        return False  # not at Astria: its submission retries, or the deadline ends it
    if _past(subject.submitted_at, settings.TRAINING_DEADLINE_SECONDS):
        subject_fail(subject_id, "Training took far longer than it should; we stopped waiting.")
        return False
    try:
        found = get_client().tune_get(subject.astria_id)
    except AstriaError as exc:
        if not exc.permanent:
            return True
        subject_fail(subject_id, f"Astria lost the model: {exc.message}")
        return False
    if not found.is_trained:
        return True
    PreviewSubject.objects.filter(pk=subject_id, status=PreviewSubject.Status.TRAINING).update(
        status=PreviewSubject.Status.READY, trained_at=found.trained_at or timezone.now()
    )
    return False


def subject_fail(subject_id: int, reason: str) -> None:
    PreviewSubject.objects.filter(pk=subject_id, status=PreviewSubject.Status.TRAINING).update(
        status=PreviewSubject.Status.FAILED, failure_reason=reason
    )
    logger.info("preview subject %s failed: %s", subject_id, reason)


def _past(since: datetime | None, seconds: int) -> bool:
    return since is not None and since < timezone.now() - timedelta(seconds=seconds)


# --- Previews ---------------------------------------------------------------------------------


def preview_start(*, pack: Pack, subject: PreviewSubject, user: User) -> PackPreview:
    """Render the pack's prompts, as they are now, for a trained subject and queue each one."""
    from .tasks import shot_submit

    if subject.status != PreviewSubject.Status.READY or subject.astria_id is None:
        raise CannotPreview(f"{subject.name} is not trained yet: pick a subject that is ready.")
    # Inactive packs too: creatives preview a pack before it goes on sale.
    pack_prompts = pack.prompts_for(subject.subject_class)
    if subject.subject_class not in pack.classes or not pack_prompts:
        raise CannotPreview(
            f"“{pack.title}” has no prompts for a {subject.subject_class}: "
            "pick a subject of a class the pack is for."
        )
    try:
        texts = [
            prompt_render(
                pack_prompt.template,
                tune_id=subject.astria_id,
                token=TRIGGER_WORD,
                subject_class=subject.subject_class,
            )
            for pack_prompt in pack_prompts
        ]
    except TemplateError as exc:
        raise CannotPreview(f"A prompt of “{pack.title}” was refused: {exc}") from None
    with transaction.atomic():
        preview = PackPreview.objects.create(pack=pack, subject=subject, requested_by=user)
        shots = PreviewShot.objects.bulk_create(
            PreviewShot(
                preview=preview,
                pack_prompt=pack_prompt,
                order=order,
                template=pack_prompt.template,
                text=text,
                num_images=pack_prompt.num_images,
                options=pack_prompt.astria_options(),
            )
            for order, (pack_prompt, text) in enumerate(zip(pack_prompts, texts, strict=True))
        )
        ids = [shot.pk for shot in shots]
        transaction.on_commit(lambda: [shot_submit.delay(pk) for pk in ids])
    return preview


def shot_submit(*, shot_id: int) -> bool:
    """Post one preview prompt to the Flux base tune; True once it is at Astria."""
    shot = (
        PreviewShot.objects.select_related("preview__subject")
        .filter(pk=shot_id, status=PreviewShot.Status.WAITING)
        .first()
    )
    if shot is None:
        return False
    try:
        prompt_text_check(shot.text, tune_id=shot.preview.subject.astria_id or "")
    except TemplateError as exc:
        # Rendered before today's rules (or for a subject trained again since): never sent.
        shot_fail(shot_id, f"This prompt was refused: {exc}")
        return False
    request = prompt_request(
        text=shot.text, num_images=shot.num_images, options=shot.options, callback=None
    )
    try:
        created = get_client().prompt_create(settings.FLUX_BASE_TUNE_ID, request)
    except AstriaError as exc:
        if exc.permanent:
            shot_fail(shot_id, f"Astria refused the prompt: {exc.message}")
            return False
        raise
    return bool(
        PreviewShot.objects.filter(pk=shot_id, status=PreviewShot.Status.WAITING).update(
            status=PreviewShot.Status.SUBMITTED, astria_id=created.id, submitted_at=timezone.now()
        )
    )


def shot_sync(*, shot_id: int) -> bool:
    """Ask Astria about one preview prompt; once done, copy its images into storage. True
    while there is still something to wait for."""
    shot = PreviewShot.objects.filter(pk=shot_id, status=PreviewShot.Status.SUBMITTED).first()
    if shot is None or shot.astria_id is None:  # submitted goes with its id: never None here
        return False
    if _past(shot.submitted_at, settings.PROMPT_DEADLINE_SECONDS):
        shot_fail(shot_id, "This prompt took far longer than it should; we stopped waiting.")
        return False
    try:
        found = get_client().prompt_get(settings.FLUX_BASE_TUNE_ID, shot.astria_id)
    except AstriaError as exc:
        if not exc.permanent:
            return True
        shot_fail(shot_id, f"Astria lost the prompt: {exc.message}")
        return False
    if found.is_failed:
        shot_fail(shot_id, found.user_error or "Astria could not make it.")
        return False
    if not found.is_done:
        return True
    return _shot_images_copy(shot, found.images)


def _shot_images_copy(shot: PreviewShot, urls: list[str]) -> bool:
    """Copy every result, then record them all at once (or none: True to try again)."""
    stored: list[dict[str, str]] = []
    try:
        for url in urls:
            fetched = ingest.result_fetch(url)
            image, thumb = ingest.result_store(fetched, owner=None, folder="previews")
            stored.append({"image": image, "thumbnail": thumb})
    except ingest.IngestError as exc:
        storage.objects_delete([name for pair in stored for name in pair.values()])
        if exc.transient:
            return True
        shot_fail(shot.pk, f"An image could not be copied: {exc}")
        return False
    done = PreviewShot.objects.filter(pk=shot.pk, status=PreviewShot.Status.SUBMITTED).update(
        status=PreviewShot.Status.DONE, images=stored, finished_at=timezone.now()
    )
    if not done:  # copied twice at once: keep the first
        storage.objects_delete([name for pair in stored for name in pair.values()])
    return False


def previews_deadlines_enforce() -> int:
    """Beat: end what a lost task left waiting (a subject training, a preview prompt) once
    its deadline has passed, so no preview page waits for ever. Returns how many ended."""
    now = timezone.now()
    training = now - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS)
    subjects = PreviewSubject.objects.filter(
        status=PreviewSubject.Status.TRAINING, submitted_at__lt=training
    ).update(
        status=PreviewSubject.Status.FAILED,
        failure_reason="Training took far longer than it should; we stopped waiting.",
    )
    shots = PreviewShot.objects.filter(
        status__in=[PreviewShot.Status.WAITING, PreviewShot.Status.SUBMITTED],
        preview__created_at__lt=now - timedelta(seconds=settings.PROMPT_DEADLINE_SECONDS),
    ).update(
        status=PreviewShot.Status.FAILED,
        failure_reason="This prompt took far longer than it should; we stopped waiting.",
        finished_at=now,
    )
    return subjects + shots


def preview_delete(*, preview: PackPreview) -> None:
    """Delete a preview and, once that has committed, its images."""
    names = [
        name
        for images in preview.shots.values_list("images", flat=True)
        for pair in images
        for name in pair.values()
    ]
    preview.delete()
    storage_objects_delete_after_commit(names)


def shot_fail(shot_id: int, reason: str) -> None:
    PreviewShot.objects.filter(
        pk=shot_id, status__in=[PreviewShot.Status.WAITING, PreviewShot.Status.SUBMITTED]
    ).update(status=PreviewShot.Status.FAILED, failure_reason=reason, finished_at=timezone.now())
