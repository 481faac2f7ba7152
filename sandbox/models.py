"""The sandbox's state: Astria's tunes and prompts as this emulator keeps them.

Everything lives in the database so that the web process (the API), the Celery worker (timers,
rendering, callbacks) and the tests all see the same sandbox. Accounts are API keys; only a
short hash of a key is stored.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_token() -> str:
    return secrets.token_urlsafe(24)


class SandboxTuneQuerySet(models.QuerySet["SandboxTune"]):
    def unexpired(self) -> SandboxTuneQuerySet:
        """Tunes not past their `expires_at` (Astria deletes a tune 30 days after training).
        Now is asked of Django's clock at each call, so a test that moves it moves expiry."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


class SandboxTune(models.Model):
    # Gallery tunes (Flux1.dev, 1504944) belong to nobody and anybody may prompt them.
    owner = models.CharField(max_length=64, blank=True, db_index=True)
    is_public = models.BooleanField(default=False)
    title = models.CharField(max_length=500)
    name = models.CharField(max_length=100)
    token = models.CharField(max_length=50, default="ohwx")
    base_tune_id = models.BigIntegerField(null=True, blank=True)
    model_type = models.CharField(max_length=50, blank=True)
    branch = models.CharField(max_length=20, blank=True)
    preset = models.CharField(max_length=50, blank=True)
    callback = models.URLField(max_length=2000, blank=True)
    steps = models.IntegerField(null=True, blank=True)
    face_crop = models.BooleanField(null=True, blank=True)
    training_face_correct = models.BooleanField(default=False)
    characteristics = models.JSONField(default=dict, blank=True)
    base_url = models.URLField(max_length=500, help_text="Where the sandbox was reached.")
    eta = models.DateTimeField(null=True, blank=True)
    started_training_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SandboxTuneQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"tune {self.pk} {self.title}"


class SandboxPrompt(models.Model):
    owner = models.CharField(max_length=64, db_index=True)
    tune = models.ForeignKey(SandboxTune, on_delete=models.CASCADE, related_name="prompts")
    # The tunes whose training this prompt waits for: its <lora:ID:…> tags, or its own tune.
    loras = models.ManyToManyField(SandboxTune, related_name="waiting_prompts", blank=True)
    text = models.TextField()
    negative_prompt = models.TextField(blank=True)
    callback = models.URLField(max_length=2000, blank=True)
    num_images = models.PositiveSmallIntegerField(default=4)
    seed = models.BigIntegerField(null=True, blank=True)
    cfg_scale = models.FloatField(null=True, blank=True)
    steps = models.IntegerField(null=True, blank=True)
    w = models.PositiveIntegerField(null=True, blank=True)
    h = models.PositiveIntegerField(null=True, blank=True)
    aspect_ratio = models.CharField(max_length=10, blank=True)
    options = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    liked = models.BooleanField(default=False)
    base_url = models.URLField(max_length=500)
    # Astria's own field: null until a generation fails, then the reason.
    user_error = models.TextField(null=True, blank=True)  # noqa: DJ001
    started_training_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"prompt {self.pk}"


class SandboxImage(models.Model):
    """A training photo (of a tune, never served) or a rendered result (of a prompt, served by
    its token)."""

    tune = models.ForeignKey(
        SandboxTune, null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    prompt = models.ForeignKey(
        SandboxPrompt, null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    index = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=64, unique=True, default=new_token)
    content_type = models.CharField(max_length=50, default="image/jpeg")
    content = models.BinaryField()

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "index"], name="sandbox_result_unique"),
        ]

    def __str__(self) -> str:
        return f"image {self.index} of {self.prompt or self.tune}"


class SandboxRequest(models.Model):
    """The request log tests read: every API call answered, every callback sent."""

    class Kind(models.TextChoices):
        API = "api"
        CALLBACK = "callback"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.API)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True)
    duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class SandboxControl(models.Model):
    """One row: timers and injected faults (see control.SandboxConfig), set over HTTP."""

    config = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "sandbox configuration"
