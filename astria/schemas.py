"""Astria's objects, parsed at the edge into typed, read-only models.

Astria's objects grow over time and are loose about types (`"cfg_scale": "3.0"` has been seen),
so unknown keys are ignored and numbers or booleans sent as strings are accepted; timestamps are
ISO 8601 with milliseconds and `Z`. The rest of the portal never sees a raw dict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


UrlList = Annotated[list[str], BeforeValidator(_none_as_empty)]


class AstriaObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Tune(AstriaObject):
    """A fine-tuned model. There is no status field: the timestamps say where it is."""

    id: int
    title: str | None = None
    name: str | None = None
    token: str | None = None
    base_tune_id: int | None = None
    model_type: str | None = None
    branch: str | None = None
    preset: str | None = None
    callback: str | None = None
    steps: int | None = None
    face_crop: bool | None = None
    eta: datetime | None = None
    started_training_at: datetime | None = None
    trained_at: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    orig_images: UrlList = Field(default_factory=list)

    @property
    def is_trained(self) -> bool:
        return self.trained_at is not None

    @property
    def is_training(self) -> bool:
        return self.started_training_at is not None and self.trained_at is None


class Prompt(AstriaObject):
    """One generation request: done when it has images, failed when it has a user_error."""

    id: int
    tune_id: int | None = None
    text: str | None = None
    negative_prompt: str | None = None
    callback: str | None = None
    num_images: int | None = None
    seed: int | None = None
    cfg_scale: float | None = None
    steps: int | None = None
    w: int | None = None
    h: int | None = None
    started_training_at: datetime | None = None
    trained_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    images: UrlList = Field(default_factory=list)
    user_error: str | None = None

    @property
    def is_done(self) -> bool:
        return bool(self.images)

    @property
    def is_failed(self) -> bool:
        return self.user_error is not None


class ImageInspection(AstriaObject):
    """What Astria sees in one training photo: warning flags and descriptive attributes."""

    name: str | None = None
    blurry: bool | None = None
    includes_multiple_people: bool | None = None
    wearing_sunglasses: bool | None = None
    wearing_hat: bool | None = None
    selfie: bool | None = None
    low_resolution: bool | None = None
    full_body_image_or_longshot: bool | None = None
    funny_face: bool | None = None
    age: str | None = None
    ethnicity: str | None = None
    eye_color: str | None = None
    facial_hair: str | None = None
    glasses: str | None = None
    hair_color: str | None = None
    hair_length: str | None = None
    hair_style: str | None = None
    is_bald: str | None = None


class TuneCreate(AstriaObject):
    """The fields the portal sends to create a tune (`image_urls`, or image files beside it)."""

    title: str
    name: str
    image_urls: list[str] = Field(default_factory=list)
    base_tune_id: int | None = None
    model_type: str | None = None
    preset: str | None = None
    callback: str | None = None
    token: str | None = None
    branch: str | None = None
    steps: int | None = None
    face_crop: bool | None = None
    training_face_correct: bool | None = None
    characteristics: dict[str, str] | None = None


class PromptCreate(AstriaObject):
    """The fields the portal sends to create a prompt."""

    text: str
    num_images: int | None = None
    callback: str | None = None
    seed: int | None = None
    w: int | None = None
    h: int | None = None
    aspect_ratio: str | None = None
    cfg_scale: float | None = None
    steps: int | None = None
    super_resolution: bool | None = None
    inpaint_faces: bool | None = None
    face_correct: bool | None = None
    face_swap: bool | None = None
    negative_prompt: str | None = None
