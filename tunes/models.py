"""A photoshoot: the Tune trained on a selfie set, its Prompts (one per pack prompt) and the
Photos copied from Astria into private storage.

Statuses are data and change only by conditional updates from the expected state (services).
"""

from __future__ import annotations

import uuid
from typing import Self, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import User
from packs.models import Pack, PackPrompt
from uploads.models import SelfieSet

_Row = TypeVar("_Row")


class TuneQuerySet(models.QuerySet["Tune", _Row]):
    # Generic in its rows so that what .annotate() adds to them is typed (django-stubs).
    def for_user(self, user: User) -> Self:
        return self.filter(owner=user)


class Tune(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Sending your photos"
        TRAINING = "training", "Learning your face"
        GENERATING = "generating", "Taking the photos"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tunes"
    )
    selfie_set = models.ForeignKey(
        SelfieSet, null=True, on_delete=models.SET_NULL, related_name="tunes"
    )
    pack = models.ForeignKey(Pack, on_delete=models.PROTECT, related_name="tunes")
    subject_class = models.CharField(max_length=20)
    price = models.PositiveIntegerField(help_text="Credits charged when it started.")
    # The form's one-time token: a double click or a resubmitted form starts one tune, not two.
    start_token = models.UUIDField(unique=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    astria_id = models.BigIntegerField(null=True, blank=True, unique=True)
    callback_secret_hash = models.CharField(max_length=64)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # Set while one attempt posts the tune to Astria (see services.tune_submit).
    submit_claimed_at = models.DateTimeField(null=True, blank=True)
    # When it was (last) queued for Astria: its start, or staff's retry. Deadlines count from it.
    queued_at = models.DateTimeField(default=timezone.now)
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # A large gallery's zip, built once by a worker (small ones are streamed on request).
    zip_file = models.CharField(max_length=300, blank=True)
    # Set while one build of that zip is queued or running (see services.tune_zip_request).
    zip_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = TuneQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.pack} for {self.owner}"

    @property
    def astria_title(self) -> str:
        """Unique per tune, so that Astria's title idempotency and our lookups can find it."""
        return f"PhotoShoot tune {self.code}"


class Prompt(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for training"
        SUBMITTED = "submitted", "Generating"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tune = models.ForeignKey(Tune, on_delete=models.CASCADE, related_name="prompts")
    pack_prompt = models.ForeignKey(
        PackPrompt, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copied from the pack when the tune started: editing a pack never changes started tunes.
    template = models.TextField()
    text = models.TextField(blank=True, help_text="As sent to Astria.")
    num_images = models.PositiveSmallIntegerField()
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    astria_id = models.BigIntegerField(null=True, blank=True, unique=True)
    callback_secret_hash = models.CharField(max_length=64)
    # How many images Astria made, from our own GET of the finished prompt.
    result_count = models.PositiveSmallIntegerField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    # Set when staff send a failed scene again; otherwise it has waited since its tune trained.
    waiting_since = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text or self.template


class Photo(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tune = models.ForeignKey(Tune, on_delete=models.CASCADE, related_name="photos")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="photos")
    index = models.PositiveSmallIntegerField()
    image = models.CharField(max_length=300)
    thumbnail = models.CharField(max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    liked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt__order", "prompt_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "index"], name="tunes_photo_once_per_image"),
        ]

    def __str__(self) -> str:
        return f"photo {self.index} of {self.prompt_id}"


class CallbackEvent(models.Model):
    """Every callback Astria sent that passed the secret check, for staff and for debugging."""

    class Kind(models.TextChoices):
        TUNE = "tune"
        PROMPT = "prompt"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    tune = models.ForeignKey(Tune, on_delete=models.CASCADE, related_name="callback_events")
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    astria_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.kind} callback at {self.received_at}"


class AstriaCall(models.Model):
    """One call to Astria's API made for a tune or one of its prompts (see astria_log)."""

    tune = models.ForeignKey(Tune, on_delete=models.CASCADE, related_name="astria_calls")
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: no answer.")
    error = models.CharField(max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status or 'no answer'}"
