"""What the sandbox does: accept tunes and prompts as Astria would, train and generate on
timers, render results, and call back.

Validation follows CONTRACT.md §3 to §5: `Refused` becomes a 422 `{"error": …}` (or the status it
carries). Timers and callbacks are Celery tasks queued on commit; every step is a conditional
update, so a task delivered twice does its work once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import outbound, render
from .control import SandboxConfig, config_get
from .errors import Refused
from .models import SandboxImage, SandboxPrompt, SandboxRequest, SandboxTune
from .objects import prompt_json, tune_json

logger = logging.getLogger(__name__)

FLUX_BASE_TUNE_ID = 1504944
BRANCHES = {"flux1", "sd15", "sdxl1", "fast"}
ASPECT_RATIOS = set(render.ASPECT_SIZES)
LORA_TAG = re.compile(r"<lora:([^:>]+):([^>]*)>")
MAX_IMAGES = 50
MAX_SIDE = 2048
CALLBACK_TIMEOUT = (5, 10)
TUNE_LIFETIME = timedelta(days=30)


def gallery_tune(tune_id: int) -> SandboxTune | None:
    """A public base model of Astria's gallery; the sandbox has one, Flux1.dev (1504944).

    Made on first use rather than by a data migration, so that it survives test databases
    being emptied between tests.
    """
    if tune_id != FLUX_BASE_TUNE_ID:
        return SandboxTune.objects.filter(pk=tune_id, is_public=True).first()
    at = datetime(2024, 8, 1, tzinfo=UTC)
    tune, _ = SandboxTune.objects.get_or_create(
        pk=FLUX_BASE_TUNE_ID,
        defaults={
            "is_public": True,
            "title": "Flux1.dev",
            "name": "flux",
            "token": "",
            "model_type": "checkpoint",
            "branch": "flux1",
            "base_url": "https://api.astria.ai",
            "eta": at,
            "started_training_at": at,
            "trained_at": at,
        },
    )
    return tune


def account_of(key: str) -> str:
    """The account a key stands for (a hash: keys themselves are never stored)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def api_keys() -> set[str]:
    return {settings.ASTRIA_SANDBOX_KEY, *settings.ASTRIA_SANDBOX_EXTRA_KEYS}


# --- Input ------------------------------------------------------------------------------------


class _Input(BaseModel):
    # Astria ignores what it does not know; values from forms arrive as strings.
    model_config = ConfigDict(extra="ignore")


def _blank_if_null(value: object) -> object:
    return "" if value is None else value


class TuneInput(_Input):
    # Required, but checked by tune_create to refuse with Astria's words ("can't be blank").
    title: str = Field(default="", max_length=500)
    name: str = Field(default="", max_length=100)
    blank_if_null = field_validator("title", "name", mode="before")(_blank_if_null)
    image_urls: list[str] = Field(default=[], max_length=MAX_IMAGES)
    base_tune_id: int | None = Field(default=None, ge=1, le=2**62)
    model_type: str | None = Field(default=None, max_length=50)
    preset: str | None = Field(default=None, max_length=50)
    branch: str | None = Field(default=None, max_length=20)
    callback: str | None = Field(default=None, max_length=2000)
    token: str | None = Field(default=None, max_length=50)
    steps: int | None = Field(default=None, ge=1, le=10_000)
    face_crop: bool | None = None
    training_face_correct: bool | None = None
    characteristics: dict[str, str] = Field(default={}, max_length=30)
    prompts_attributes: list[dict[str, Any]] = Field(default=[], max_length=50)


class PromptInput(_Input):
    # Required, but checked by prompt_input to refuse with Astria's words ("can't be blank").
    text: str = Field(default="", max_length=5000)
    blank_if_null = field_validator("text", mode="before")(_blank_if_null)
    num_images: int = 4
    callback: str | None = Field(default=None, max_length=2000)
    seed: int | None = Field(default=None, ge=0, le=2**32)
    w: int | None = Field(default=None, le=MAX_SIDE)
    h: int | None = Field(default=None, le=MAX_SIDE)
    aspect_ratio: str | None = Field(default=None, max_length=10)
    cfg_scale: float | None = Field(default=None, ge=0, le=30)
    steps: int | None = Field(default=None, ge=1, le=200)
    negative_prompt: str | None = Field(default=None, max_length=5000)
    super_resolution: bool | None = None
    inpaint_faces: bool | None = None
    face_correct: bool | None = None
    face_swap: bool | None = None


def parse(model: type[BaseModel], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Refused(f"{where}: {first['msg']}") from None


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


# --- Tunes ------------------------------------------------------------------------------------


def tune_create(
    *, owner: str, fields: dict[str, Any], files: list[Upload], base_url: str
) -> SandboxTune:
    """Validate and save a tune with its photos, and start its training timer."""
    data: TuneInput = parse(TuneInput, fields)
    if not data.title:
        raise Refused("title can't be blank")
    if not data.name:
        raise Refused("name can't be blank")
    if data.branch and data.branch not in BRANCHES:
        raise Refused(f"branch must be one of {', '.join(sorted(BRANCHES))}")
    if data.base_tune_id and not gallery_tune(data.base_tune_id):
        raise Refused(f"base_tune_id {data.base_tune_id} is not a base model")
    if not files and not data.image_urls:
        raise Refused("images can't be blank: send tune[images][] or tune[image_urls][]")
    outbound.callback_check(data.callback)
    for i, url in enumerate(data.image_urls):  # every one, before any is fetched
        outbound.download_check(url, where=f"image_urls[{i}]")
    config = config_get()
    if config.idempotent_titles:
        existing = SandboxTune.objects.unexpired().filter(owner=owner, title=data.title).first()
        if existing:
            return existing
    for i, upload in enumerate(files):  # before any download: refusing them costs nothing
        try:
            render.image_check(upload.content)
        except render.NotAnImage as refused:
            raise Refused(f"images[{i}] ({upload.filename}) {refused}") from None
    photos = [u.content for u in files] + [
        outbound.download(url, index=i) for i, url in enumerate(data.image_urls)
    ]
    return _tune_save(owner=owner, data=data, photos=photos, base_url=base_url, config=config)


@transaction.atomic
def _tune_save(
    *, owner: str, data: TuneInput, photos: list[bytes], base_url: str, config: SandboxConfig
) -> SandboxTune:
    now = timezone.now()
    delay = _train_delay(data.branch or "", config)
    tune = SandboxTune.objects.create(
        owner=owner,
        title=data.title,
        name=data.name,
        token=data.token or "ohwx",
        base_tune_id=data.base_tune_id,
        model_type=data.model_type or "",
        branch=data.branch or ("flux1" if data.base_tune_id else "sd15"),
        preset=data.preset or "",
        callback=data.callback or "",
        steps=data.steps,
        face_crop=data.face_crop,
        training_face_correct=bool(data.training_face_correct),
        characteristics=data.characteristics,
        base_url=base_url,
        eta=now + timedelta(seconds=delay),
    )
    SandboxImage.objects.bulk_create(
        SandboxImage(tune=tune, index=i, content=photo) for i, photo in enumerate(photos)
    )
    for attributes in data.prompts_attributes:
        _prompt_save(
            owner=owner,
            tune=tune,
            loras=[tune],
            data=prompt_input(attributes),
            base_url=base_url,
        )
    from .tasks import sandbox_tune_start

    # Astria answers the create before a worker takes the tune: started_training_at is null
    # in that answer and set a moment later.
    transaction.on_commit(lambda: sandbox_tune_start.delay(tune.pk))
    return tune


def _train_delay(branch: str, config: SandboxConfig) -> float:
    return 0 if branch == "fast" else config.train_delay


def tune_start(*, tune_id: int) -> None:
    """A worker takes the tune: its training starts now and its timer runs."""
    config = config_get()
    tune = SandboxTune.objects.filter(pk=tune_id).first()
    if tune is None:
        return
    now = timezone.now()
    delay = _train_delay(tune.branch, config)
    started = SandboxTune.objects.filter(pk=tune_id, started_training_at__isnull=True).update(
        started_training_at=now, eta=now + timedelta(seconds=delay), updated_at=now
    )
    if not started:
        return
    from .tasks import sandbox_tune_train

    sandbox_tune_train.apply_async((tune_id,), countdown=delay)


# Astria's machines are not ours: a timer lost with one of the sandbox's workers (the fault suite
# kills workers and stops the broker they share with the portal) still goes off, this long
# after it was due, when the tune is next asked about.
TIMER_LATE = timedelta(seconds=5)


def tune_catch_up(*, tune_id: int) -> None:
    """Start or finish the training of a tune whose timer should have gone off long ago."""
    tune = SandboxTune.objects.filter(pk=tune_id, is_public=False, trained_at=None).first()
    if tune is None:
        return
    late = timezone.now() - TIMER_LATE
    if tune.started_training_at is None and tune.created_at < late:
        tune_start(tune_id=tune_id)
    elif tune.started_training_at is not None and tune.eta is not None and tune.eta < late:
        tune_train(tune_id=tune_id)


def tune_delete(*, owner: str, tune_id: int) -> None:
    """DELETE /tunes/:id: the tune, its photos and its own prompts are gone at once; a prompt
    that names it afterwards is refused as for a tune that never was."""
    deleted, _ = SandboxTune.objects.unexpired().filter(pk=tune_id, owner=owner).delete()
    if not deleted:
        raise Refused("Not found", status=404)


def prompt_delete(*, owner: str, prompt_id: int, tune_id: int | None = None) -> None:
    """DELETE /prompts/:id (or /tunes/:tune_id/prompts/:id): the prompt and its images."""
    prompts = SandboxPrompt.objects.filter(pk=prompt_id, owner=owner)
    if tune_id is not None:
        prompts = prompts.filter(tune_id=tune_id)
    deleted, _ = prompts.delete()
    if not deleted:
        raise Refused("Not found", status=404)


def tune_expire(*, tune_id: int) -> SandboxTune:
    """A control for tests: the tune was trained 31 days ago, so it expired yesterday."""
    tune = SandboxTune.objects.filter(pk=tune_id, is_public=False).first()
    if tune is None:
        raise Refused(f"tune {tune_id} does not exist", status=404)
    if tune.trained_at is None:
        raise Refused(f"tune {tune_id} is not trained yet, so it cannot expire")
    now = timezone.now()
    trained_at = now - TUNE_LIFETIME - timedelta(days=1)
    SandboxTune.objects.filter(pk=tune_id).update(
        trained_at=trained_at, expires_at=trained_at + TUNE_LIFETIME, updated_at=now
    )
    tune.refresh_from_db()
    return tune


def tune_train(*, tune_id: int) -> None:
    """The training timer went off: mark the tune trained, call back, release waiting prompts."""
    config = config_get()
    if config.never_train:
        logger.info("sandbox: tune %s will never finish training (fault)", tune_id)
        return
    now = timezone.now()
    with transaction.atomic():
        done = SandboxTune.objects.filter(pk=tune_id, trained_at__isnull=True).update(
            trained_at=now, expires_at=now + TUNE_LIFETIME, updated_at=now
        )
        if not done:
            return
        tune = SandboxTune.objects.get(pk=tune_id)
        logger.info("sandbox: tune %s trained", tune_id)
        callback_schedule(kind="tune", object_id=tune_id, url=tune.callback, config=config)
        for prompt in tune.waiting_prompts.filter(started_training_at__isnull=True):
            _prompt_start_if_ready(prompt, config)


# --- Prompts ----------------------------------------------------------------------------------


def prompt_create(
    *, owner: str, tune: SandboxTune, fields: dict[str, Any], base_url: str
) -> SandboxPrompt:
    """Validate and save a prompt; it generates once every LoRA it names is trained."""
    data = prompt_input(fields)
    loras = [] if tune.is_public else [tune]
    loras += _loras_named(owner, data.text)
    with transaction.atomic():
        # Lock the LoRAs: a training finishing right now then either sees this prompt waiting
        # or is seen by it as trained; without the lock a prompt could wait forever.
        list(SandboxTune.objects.select_for_update().filter(pk__in=[t.pk for t in loras]))
        if config_get().idempotent_prompts:
            duplicate = SandboxPrompt.objects.filter(
                owner=owner, fingerprint=_fingerprint(tune, data)
            ).first()
            if duplicate:
                return duplicate
        return _prompt_save(owner=owner, tune=tune, loras=loras, data=data, base_url=base_url)


def prompt_input(fields: dict[str, Any]) -> PromptInput:
    """Parse and check a prompt's fields, as Astria would (for prompts_attributes too)."""
    data: PromptInput = parse(PromptInput, fields)
    if not data.text or not data.text.strip():
        raise Refused("text can't be blank")
    if not 1 <= data.num_images <= 8:
        raise Refused("num_images must be between 1 and 8")
    for side in ("w", "h"):
        value = getattr(data, side)
        if value is not None and (value <= 0 or value % 8):
            raise Refused(f"{side} must be a positive multiple of 8")
    if data.aspect_ratio and data.aspect_ratio not in ASPECT_RATIOS:
        raise Refused(f"aspect_ratio must be one of {', '.join(sorted(ASPECT_RATIOS))}")
    if data.inpaint_faces and not data.super_resolution:
        raise Refused("inpaint_faces requires super_resolution")
    outbound.callback_check(data.callback)
    return data


def _loras_named(owner: str, text: str) -> list[SandboxTune]:
    """The caller's tunes named by `<lora:ID:STRENGTH>` tags; anything else is refused."""
    tunes = []
    for raw_id, strength in LORA_TAG.findall(text):
        if not raw_id.isdigit():
            raise Refused(f"<lora:{raw_id}:{strength}>: the LoRA id must be a tune id")
        try:
            float(strength)
        except ValueError:
            raise Refused(f"<lora:{raw_id}:{strength}>: the strength must be a number") from None
        # A deleted or expired tune is gone at Astria: refused like one that never was.
        tune = SandboxTune.objects.unexpired().filter(pk=int(raw_id), owner=owner).first()
        if tune is None:
            raise Refused(f"LoRA {raw_id} is not one of your tunes")
        tunes.append(tune)
    return tunes


def _fingerprint(tune: SandboxTune, data: PromptInput) -> str:
    """With idempotent prompts on, Astria de-duplicates prompts by their attributes (text,
    tune_id, seed, callback, num_images, w, h, cfg_scale, steps, super_resolution, face_correct,
    inpaint_faces, …): equal attributes, same prompt; here every attribute sent counts."""
    attributes = json.dumps({"tune": tune.pk, **data.model_dump()}, sort_keys=True)
    return hashlib.sha256(attributes.encode()).hexdigest()


def _prompt_save(
    *,
    owner: str,
    tune: SandboxTune,
    loras: list[SandboxTune],
    data: PromptInput,
    base_url: str,
) -> SandboxPrompt:
    options = data.model_dump(
        include={"super_resolution", "inpaint_faces", "face_correct", "face_swap"}
    )
    prompt = SandboxPrompt.objects.create(
        owner=owner,
        tune=tune,
        text=data.text,
        negative_prompt=data.negative_prompt or "",
        callback=data.callback or "",
        num_images=data.num_images,
        seed=data.seed,
        cfg_scale=data.cfg_scale,
        steps=data.steps,
        w=data.w,
        h=data.h,
        aspect_ratio=data.aspect_ratio or "",
        options=options,
        base_url=base_url,
        fingerprint=_fingerprint(tune, data),
    )
    prompt.loras.set(loras)
    _prompt_start_if_ready(prompt, config_get())
    return prompt


def _prompt_start_if_ready(prompt: SandboxPrompt, config: SandboxConfig) -> None:
    """Start the generation timer once every LoRA the prompt names is trained."""
    if prompt.loras.filter(trained_at__isnull=True).exists():
        return
    started = SandboxPrompt.objects.filter(pk=prompt.pk, started_training_at__isnull=True).update(
        started_training_at=timezone.now()
    )
    if not started:
        return
    from .tasks import sandbox_prompt_generate

    fast = prompt.tune.branch == "fast" or prompt.loras.filter(branch="fast").exists()
    delay = 0 if fast else config.generate_delay
    transaction.on_commit(
        lambda: sandbox_prompt_generate.apply_async((prompt.pk,), countdown=delay)
    )


def prompt_generate(*, prompt_id: int) -> None:
    """The generation timer went off: render the images (or fail the prompt), call back."""
    config = config_get()
    with transaction.atomic():
        prompt = (
            SandboxPrompt.objects.select_for_update()
            .filter(pk=prompt_id, trained_at__isnull=True, user_error__isnull=True)
            .first()
        )
        if prompt is None:
            return
        now = timezone.now()
        if config.prompt_fails(prompt.text):
            prompt.user_error = "Sandbox: generation failed (injected user_error)."
        else:
            _results_render(prompt)
            prompt.trained_at = now
        prompt.updated_at = now
        prompt.save(update_fields=["user_error", "trained_at", "updated_at"])
        logger.info("sandbox: prompt %s %s", prompt_id, "failed" if prompt.user_error else "done")
        callback_schedule(kind="prompt", object_id=prompt_id, url=prompt.callback, config=config)


def _results_render(prompt: SandboxPrompt) -> None:
    # From the prompt only: the result links are public, the tune's photos are someone's face.
    size = render.result_size(w=prompt.w, h=prompt.h, aspect_ratio=prompt.aspect_ratio)
    for index in range(prompt.num_images):
        jpeg = render.result_render(
            seed=f"{prompt.pk}:{prompt.seed}:{index}:{prompt.text}",
            text=prompt.text,
            size=size,
            label=f"prompt {prompt.pk} · image {index + 1} of {prompt.num_images}",
        )
        SandboxImage.objects.create(prompt=prompt, index=index, content=jpeg)


# --- Callbacks --------------------------------------------------------------------------------


def callback_schedule(*, kind: str, object_id: int, url: str, config: SandboxConfig) -> None:
    """Queue the callback(s) for an object, with the configured faults, after commit."""
    if not url:
        return
    from .tasks import sandbox_callback_send

    for delay in config.callbacks.delivery_delays():
        transaction.on_commit(
            functools.partial(sandbox_callback_send.apply_async, (kind, object_id), countdown=delay)
        )


def callback_send(*, kind: str, object_id: int) -> None:
    """POST the object, wrapped in its root key, to its callback URL. Like Astria: once, no
    retry, no signature. The URL (which holds the receiver's secret) is never logged."""
    obj: SandboxTune | SandboxPrompt | None
    if kind == "tune":
        obj = SandboxTune.objects.filter(pk=object_id).first()
        body = {"tune": tune_json(obj)} if obj else None
    else:
        obj = SandboxPrompt.objects.filter(pk=object_id).first()
        body = {"prompt": prompt_json(obj)} if obj else None
    if obj is None or not obj.callback:
        return
    started = timezone.now()
    try:
        # Astria's callbacks must be answered directly: no redirect is followed.
        status = requests.post(
            obj.callback, json=body, timeout=CALLBACK_TIMEOUT, allow_redirects=False
        ).status_code
    except requests.RequestException as exc:
        logger.info(
            "sandbox: %s %s callback not delivered (%s)", kind, object_id, type(exc).__name__
        )
        status = None
    SandboxRequest.objects.create(
        kind=SandboxRequest.Kind.CALLBACK,
        method="POST",
        path=f"{kind}/{object_id}",
        status=status,
        duration_ms=(timezone.now() - started).total_seconds() * 1000,
    )
