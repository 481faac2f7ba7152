"""Pack previews: a pack's prompts run on a sample subject, so that creatives see what a pack
makes before a customer pays for it.

A sample subject is a model trained on photos kept for that purpose: a selfie set of a staff
account, never a customer's. A preview is a photoshoot of that account on the subject's model
(tunes/), free and without e-mails, run by the same engine as a customer's; its photos are
kept in the studio's folder, which creatives may open.
"""

from __future__ import annotations

import uuid

from django.db import models

from tunes.models import Photoshoot, TrainedModel
from uploads.models import SelfieSet


class PreviewSubject(models.Model):
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
    # Its latest training (a new one once Astria has deleted the last, after 30 days).
    model = models.ForeignKey(
        TrainedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.model.subject_class if self.model else 'untrained'})"

    @property
    def status_label(self) -> str:
        return self.model.get_status_display() if self.model else "Not trained"

    @property
    def ready(self) -> bool:
        return (
            self.model is not None
            and TrainedModel.objects.usable().filter(pk=self.model.pk).exists()
        )


class PreviewManager(models.Manager["PackPreview"]):
    def get_queryset(self) -> models.QuerySet[PackPreview]:
        return super().get_queryset().filter(kind=Photoshoot.Kind.PREVIEW)


class PackPreview(Photoshoot):
    """A photoshoot of a pack on a sample subject, as creatives see it in admin."""

    objects = PreviewManager()  # type: ignore[assignment,misc]

    class Meta:
        proxy = True
        ordering = ["-created_at"]
        verbose_name = "pack preview"

    def __str__(self) -> str:
        return f"{self.pack} on {self.model.selfie_set or 'a sample subject'}"
