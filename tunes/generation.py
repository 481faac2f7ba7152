"""Generating a scene: one Astria prompt on a trained model, and copying what it made.

waiting → submitted → done, or failed with a reason (and its share refunded: photoshoots.py).
A customer's scene and a creative's preview scene are the same thing here. Every step is a
service called by a thin Celery task with ids, and every transition a conditional update.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from astria.client import get_client
from astria.schemas import Prompt as AstriaPrompt
from astria.schemas import PromptCreate
from packs.templating import TRIGGER_WORD, TemplateError, prompt_render

from . import engine
from .astria_log import calls_about
from .callbacks import callback_url
from .models import Photoshoot, Prompt
from .photoshoots import photoshoot_finish_if_done, prompt_fail

GENERATING_OR_READY = (Photoshoot.Status.GENERATING, Photoshoot.Status.READY)


def prompt_submit(*, prompt_id: int) -> None:
    """Render the scene for its trained LoRA and post it to the Flux base tune, once: a
    scene that may be at Astria already is looked up by its callback URL first (engine.py)."""
    waiting = Prompt.objects.filter(status=Prompt.Status.WAITING)
    first_sent = Coalesce(F("first_sent_at"), Now())
    with engine.submit_claim(waiting, prompt_id, first_sent_at=first_sent) as lease:
        if lease is not None:
            _prompt_post(prompt_id, lease)


def _prompt_post(prompt_id: int, lease: engine.Lease) -> None:
    prompt = Prompt.objects.select_related("photoshoot__model").get(pk=prompt_id)
    model = prompt.photoshoot.model
    if prompt.photoshoot.status not in GENERATING_OR_READY or model.astria_id is None:
        return  # a stray copy of the task: scenes are sent once their model is trained
    try:
        text = prompt_render(
            prompt.template,
            tune_id=model.astria_id,
            token=TRIGGER_WORD,
            subject_class=model.subject_class,
        )
    except TemplateError as exc:
        # A template saved before today's rules: it never reaches Astria, the scene is refunded.
        prompt_fail(prompt_id=prompt_id, reason=f"This scene's prompt was refused: {exc}")
        return
    request = prompt_request(
        text=text,
        num_images=prompt.num_images,
        options=prompt.options,
        callback=callback_url("prompt", prompt.code),
    )
    client = get_client()
    with calls_about(prompt_id=prompt_id):
        created = engine.submit_with_lookup(
            first_attempt=prompt.submit_attempts <= 1,
            find=lambda: client.prompt_find(
                settings.FLUX_BASE_TUNE_ID,
                callback_contains=str(prompt.code),
                created_after=engine.lookup_since(prompt.first_sent_at),
            ),
            create=lambda: client.prompt_create(settings.FLUX_BASE_TUNE_ID, request),
            refused=lambda exc: prompt_fail(
                prompt_id=prompt_id, reason=f"Astria refused the scene: {exc.message}"
            ),
            lease=lease,
        )
    if created is None:
        return
    Prompt.objects.filter(pk=prompt_id, status=Prompt.Status.WAITING).update(
        status=Prompt.Status.SUBMITTED, astria_id=created.id, text=text, submitted_at=timezone.now()
    )
    # A callback that came before the id was saved was ignored: look once now.
    prompt_sync(prompt_id=prompt_id)


def prompt_request(
    *, text: str, num_images: int, options: dict[str, Any], callback: str | None
) -> PromptCreate:
    """What Astria receives for a rendered prompt and the options copied from its pack."""
    return PromptCreate(
        text=text,
        num_images=num_images,
        callback=callback,
        seed=options.get("seed"),
        aspect_ratio=options.get("aspect_ratio"),
        super_resolution=options.get("super_resolution"),
        face_correct=options.get("face_correct"),
        inpaint_faces=options.get("inpaint_faces") and options.get("super_resolution"),
    )


def prompt_sync(*, prompt_id: int) -> None:
    """GET the prompt from Astria (never trusting a callback's body); when done, queue the
    copy of each image; when failed, fail it."""
    prompt = Prompt.objects.filter(pk=prompt_id, status=Prompt.Status.SUBMITTED).first()
    if prompt is None or prompt.astria_id is None:  # submitted goes with its id: never None
        return
    astria_id = prompt.astria_id
    with calls_about(prompt_id=prompt_id):
        found: AstriaPrompt | None = engine.astria_get(
            lambda: get_client().prompt_get(settings.FLUX_BASE_TUNE_ID, astria_id),
            lost=lambda exc: prompt_fail(
                prompt_id=prompt_id, reason=f"Astria lost the scene: {exc.message}"
            ),
        )
    if found is None:
        return
    if found.is_failed:
        prompt_fail(prompt_id=prompt_id, reason=found.user_error or "Astria could not make it.")
        return
    if not found.is_done:
        return
    Prompt.objects.filter(pk=prompt_id, result_count=None).update(result_count=len(found.images))
    from .tasks import photo_ingest

    copied = set(prompt.photos.values_list("index", flat=True))
    for index, url in enumerate(found.images):
        if index not in copied:
            photo_ingest.delay(prompt_id, index, url, astria_id)
    prompt_complete_if_done(prompt_id=prompt_id)


def prompt_complete_if_done(*, prompt_id: int) -> None:
    """A scene whose every image is a Photo is done; a photoshoot whose scenes are all final
    ends."""
    prompt = Prompt.objects.get(pk=prompt_id)
    if prompt.result_count is None or prompt.photos.count() < prompt.result_count:
        return
    Prompt.objects.filter(pk=prompt_id, status=Prompt.Status.SUBMITTED).update(
        status=Prompt.Status.DONE, finished_at=timezone.now()
    )
    photoshoot_finish_if_done(photoshoot_id=prompt.photoshoot_id)
