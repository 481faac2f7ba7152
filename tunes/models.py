"""A trained model and the photoshoots shot on it.

A TrainedModel is one Astria tune (a Flux LoRA of one selfie set), trained once and usable by
any number of photoshoots until its `expires_at`. A Photoshoot is a pack (or the user's own
idea) run on a trained model: its Prompts (one Astria prompt per scene), the Photos copied from
Astria into private storage, its price and its gallery. A creative's pack preview is a
photoshoot too, of a staff account's sample model, free and without e-mails.

Statuses are data and change only by conditional updates from the expected state (training.py,
generation.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Self, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import User
from packs.models import Pack, PackPrompt
from packs.templating import scene_words
from uploads.models import SelfieSet

_Row = TypeVar("_Row")


class PhotoshootQuerySet(models.QuerySet["Photoshoot", _Row]):
    # Generic in its rows so that what .annotate() adds to them is typed (django-stubs).
    def for_user(self, user: User) -> Self:
        return self.filter(owner=user)


class TrainedModelQuerySet(models.QuerySet["TrainedModel", _Row]):
    def for_user(self, user: User) -> Self:
        return self.filter(owner=user)

    def usable(self, at: datetime | None = None) -> Self:
        """Trained, and with time enough left before Astria deletes it for a photoshoot to
        finish on it (MODEL_USABLE_MARGIN_SECONDS)."""
        moment = (at or timezone.now()) + timedelta(seconds=settings.MODEL_USABLE_MARGIN_SECONDS)
        return self.filter(status=TrainedModel.Status.READY, expires_at__gt=moment)


class TrainedModel(models.Model):
    """One Astria tune of a selfie set. Training again (after a failure or once it expired)
    makes a new TrainedModel: each has its own title at Astria."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        SUBMITTING = "submitting", "Sending your photos"
        TRAINING = "training", "Learning your face"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trained_models"
    )
    selfie_set = models.ForeignKey(
        SelfieSet, null=True, on_delete=models.SET_NULL, related_name="trained_models"
    )
    subject_class = models.CharField(max_length=20)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    astria_id = models.BigIntegerField(null=True, blank=True, unique=True)
    callback_secret_hash = models.CharField(max_length=64)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # Set while one attempt posts the tune to Astria (see training.model_submit).
    submit_claimed_at = models.DateTimeField(null=True, blank=True)
    # When it was (last) queued for Astria: its start, or staff's retry. Deadlines count from it.
    queued_at = models.DateTimeField(default=timezone.now)
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    # Astria deletes a LoRA 30 days after training (CONTRACT §7): no photoshoot after that.
    expires_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    objects = TrainedModelQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"model of {self.selfie_set or 'deleted selfies'} ({self.get_status_display()})"

    @property
    def astria_title(self) -> str:
        """Unique per model, so that our lookups (and Astria's title idempotency) find it."""
        return f"PhotoShoot tune {self.code}"


class Photoshoot(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer's"
        PREVIEW = "preview", "Pack preview"

    class Status(models.TextChoices):
        TRAINING = "training", "Learning your face"  # waiting for its model
        GENERATING = "generating", "Taking the photos"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photoshoots"
    )
    model = models.ForeignKey(TrainedModel, on_delete=models.PROTECT, related_name="photoshoots")
    # Empty for the customer's own idea (`idea`), a scene they described themselves.
    pack = models.ForeignKey(
        Pack, null=True, blank=True, on_delete=models.PROTECT, related_name="photoshoots"
    )
    idea = models.TextField(blank=True)
    # The creative who asked for a preview (previews belong to the sample model's account).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    price = models.PositiveIntegerField(help_text="Credits charged when it started.")
    # Whether its price paid for training its model (the first photoshoot of a model does).
    with_training = models.BooleanField(default=False)
    # The form's one-time token: a double click or a resubmitted form starts one, not two.
    start_token = models.UUIDField(unique=True, default=uuid.uuid4)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.TRAINING, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A large gallery's zip, built once by a worker (small ones are streamed on request).
    zip_file = models.CharField(max_length=300, blank=True)
    # Set while one build of that zip is queued or running (see zips.zip_request).
    zip_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = PhotoshootQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} for {self.owner}"

    @property
    def title(self) -> str:
        return self.pack.title if self.pack else "Your own idea"

    @property
    def slug(self) -> str:
        return self.pack.slug if self.pack else "your-own-idea"

    @property
    def storage_owner(self) -> User | None:
        """Whose folder its photos are kept in: the customer's, or the studio's for a preview
        (which every creative may open, unlike a person's photos)."""
        return None if self.kind == self.Kind.PREVIEW else self.owner


class Prompt(models.Model):
    """One scene of a photoshoot: one Astria prompt and the images it made."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for training"
        SUBMITTED = "submitted", "Generating"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    photoshoot = models.ForeignKey(Photoshoot, on_delete=models.CASCADE, related_name="prompts")
    pack_prompt = models.ForeignKey(
        PackPrompt, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copied from the pack when the photoshoot started: editing a pack never changes it.
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
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # Set while one attempt posts the prompt to Astria (see generation.prompt_submit).
    submit_claimed_at = models.DateTimeField(null=True, blank=True)
    # When its first attempt began: a lookup at Astria walks back to here, not further.
    first_sent_at = models.DateTimeField(null=True, blank=True)
    # A scene asked for from a photo ("more like this"): paid for by itself, once per form.
    more_of = models.ForeignKey(
        "Photo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    price = models.PositiveIntegerField(
        null=True, blank=True, help_text="Credits it cost by itself; empty: part of the pack."
    )
    start_token = models.UUIDField(null=True, blank=True, unique=True)
    # How many images Astria made, from our own GET of the finished prompt.
    result_count = models.PositiveSmallIntegerField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    # Set when staff send a failed scene again; otherwise it has waited since its photoshoot
    # began generating.
    waiting_since = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text or self.template

    @property
    def scene(self) -> str:
        """The scene in plain words, as the gallery heads its photos."""
        return scene_words(self.template)


class Photo(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    photoshoot = models.ForeignKey(Photoshoot, on_delete=models.CASCADE, related_name="photos")
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
    model = models.ForeignKey(
        TrainedModel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="callback_events",
    )
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.CASCADE, related_name="callback_events"
    )
    astria_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.kind} callback at {self.received_at}"


class AstriaCall(models.Model):
    """One call to Astria's API made for a model or a prompt (see astria_log)."""

    model = models.ForeignKey(
        TrainedModel, null=True, blank=True, on_delete=models.CASCADE, related_name="astria_calls"
    )
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.CASCADE, related_name="astria_calls"
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


class Pricing(models.Model):
    """The price rules staff set in admin (one row): what part of a pack's price pays for
    training its model, which a photoshoot on a model that is trained already leaves out."""

    training = models.PositiveIntegerField(
        "training share",
        default=5,
        help_text="Credits of a pack's price that pay for training the model. A photoshoot on "
        "a model that is trained (or training) costs the pack's price less this, at least 1.",
    )

    more_like_this = models.PositiveIntegerField(
        "more like this",
        default=2,
        help_text="Credits for a scene made again from one of its photos, with new seeds.",
    )

    own_idea_per_image = models.PositiveIntegerField(
        "own idea, per image",
        default=1,
        help_text="Credits per image of a scene a customer describes on their trained model.",
    )

    class Meta:
        verbose_name = "pricing"
        verbose_name_plural = "pricing"

    def __str__(self) -> str:
        return "Pricing"

    @classmethod
    def current(cls) -> Pricing:
        pricing, _ = cls.objects.get_or_create(pk=1)
        return pricing
