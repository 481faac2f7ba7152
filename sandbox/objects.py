"""Tunes and prompts as Astria shows them: the JSON of every answer and callback.

Two things differ, because anyone may hold the development key: a callback is shown without its
query string (the receiver's secret rides there), and `orig_images` is empty (the photos a tune
was sent are kept, as Astria keeps them, but never handed back; results are drawn from the
prompt alone, see render.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .models import SandboxPrompt, SandboxTune


def timestamp(value: datetime | None) -> str | None:
    """Astria's format: ISO 8601, milliseconds, `Z`."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def callback_shown(url: str) -> str | None:
    """A callback URL without what may be secret in it: its user, password, query, fragment."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def tune_json(tune: SandboxTune) -> dict[str, Any]:
    # Flux LoRA weights cannot be downloaded through the API; other trained models link a file.
    downloadable = tune.trained_at and tune.model_type != "lora"
    ckpt = f"{tune.base_url}/files/ckpt-{tune.pk}.safetensors" if downloadable else None
    return {
        "id": tune.pk,
        "title": tune.title,
        "name": tune.name,
        "token": tune.token,
        "base_tune_id": tune.base_tune_id,
        "args": None,
        "steps": tune.steps,
        "face_crop": tune.face_crop,
        "training_face_correct": tune.training_face_correct,
        "ckpt_url": ckpt,
        "ckpt_urls": [ckpt] if ckpt else [],
        "eta": timestamp(tune.eta),
        "trained_at": timestamp(tune.trained_at),
        "started_training_at": timestamp(tune.started_training_at),
        "expires_at": timestamp(tune.expires_at),
        "created_at": timestamp(tune.created_at),
        "updated_at": timestamp(tune.updated_at),
        "branch": tune.branch or None,
        "model_type": tune.model_type or None,
        "preset": tune.preset or None,
        "callback": callback_shown(tune.callback),
        "characteristics": tune.characteristics,
        "is_api": True,
        "url": f"{tune.base_url}/tunes/{tune.pk}.json",
        "orig_images": [],
    }


def prompt_json(prompt: SandboxPrompt) -> dict[str, Any]:
    images = [
        f"{prompt.base_url}/rails/active_storage/blobs/redirect/{i.token}/result.jpg"
        for i in prompt.images.all()
    ]
    return {
        "id": prompt.pk,
        "callback": callback_shown(prompt.callback),
        "text": prompt.text,
        "negative_prompt": prompt.negative_prompt,
        "cfg_scale": prompt.cfg_scale,
        "steps": prompt.steps,
        "seed": prompt.seed,
        "num_images": prompt.num_images,
        "w": prompt.w,
        "h": prompt.h,
        "aspect_ratio": prompt.aspect_ratio or None,
        **prompt.options,
        "trained_at": timestamp(prompt.trained_at),
        "started_training_at": timestamp(prompt.started_training_at),
        "created_at": timestamp(prompt.created_at),
        "updated_at": timestamp(prompt.updated_at),
        "tune_id": prompt.tune_id,
        "liked": prompt.liked,
        "user_error": prompt.user_error,
        "url": f"{prompt.base_url}/tunes/{prompt.tune_id}/prompts/{prompt.pk}.json",
        "images": images,
    }
