"""Pack previews: a pack's prompts run on a sample subject, so that creatives see what a pack
makes before a customer pays for it.

A sample subject is a LoRA trained once at Astria on photos kept for that purpose: a selfie set
of a staff account, never a customer's. A preview renders the pack's prompts for it as they
are at that moment (later edits never change a preview, as they never change a started tune).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from packs.models import Pack, PackPrompt
from uploads.models import SelfieSet, SubjectClass


class PreviewSubject(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "Not trained"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=80, help_text="How creatives pick it, e.g. “Anna”.")
    selfie_set = models.ForeignKey(
        SelfieSet,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"owner__is_staff": True},
        help_text="Sample photos in a set of a staff account, of someone who agreed to be our "
        "model. Never a customer's.",
    )
    subject_class = models.CharField(max_length=20, choices=SubjectClass.choices, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    failure_reason = models.TextField(blank=True)
    astria_id = models.BigIntegerField(null=True, blank=True)
    trainings = models.PositiveSmallIntegerField(default=0, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.subject_class or 'untrained'})"

    @property
    def astria_title(self) -> str:
        """Unique per training: training again (Astria deletes a LoRA after 30 days) makes a
        new tune instead of finding the old one by title."""
        return f"PhotoShoot preview subject {self.code} #{self.trainings}"


class PackPreview(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Protected: previews are deleted through the service that removes their images first.
    pack = models.ForeignKey(Pack, on_delete=models.PROTECT, related_name="previews")
    subject = models.ForeignKey(PreviewSubject, on_delete=models.PROTECT, related_name="previews")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.pack} on {self.subject.name}"


class PreviewShot(models.Model):
    """One pack prompt of a preview: the text as sent, and the images Astria made of it."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        SUBMITTED = "submitted", "Generating"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    preview = models.ForeignKey(PackPreview, on_delete=models.CASCADE, related_name="shots")
    pack_prompt = models.ForeignKey(
        PackPrompt, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.PositiveIntegerField(default=0)
    template = models.TextField()
    text = models.TextField()
    num_images = models.PositiveSmallIntegerField()
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    failure_reason = models.TextField(blank=True)
    astria_id = models.BigIntegerField(null=True, blank=True)
    # [{"image": key, "thumbnail": key}, …] in private storage, under the studio prefix.
    images = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text
