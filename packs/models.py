"""Packs: themed sets of prompt templates that creatives write and staff price."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from uploads.models import SubjectClass

from .templating import TemplateError, scene_words, template_check

ASPECT_RATIOS = [(r, r) for r in ("1:1", "4:5", "2:3", "3:4", "9:16", "5:4", "3:2", "4:3", "16:9")]


def _classes_check(value: list[str]) -> None:
    unknown = [c for c in value if c not in SubjectClass.values]
    if unknown or not isinstance(value, list):
        raise ValidationError(f"Unknown classes: {', '.join(map(str, unknown))}.")


class PackQuerySet(models.QuerySet["Pack"]):
    def active(self) -> PackQuerySet:
        return self.filter(is_active=True)


class Pack(models.Model):
    title = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to="packs/covers/", blank=True)
    price = models.PositiveIntegerField("price in credits")
    classes = models.JSONField(
        default=list,
        validators=[_classes_check],
        help_text="Who the pack is for: man, woman, boy, girl, baby, cat, dog, couple.",
    )
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PackQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def supports(self, subject_class: str) -> bool:
        """Whether the pack can be started for this class (active, and the class listed)."""
        return self.is_active and subject_class in self.classes

    def prompts_for(self, subject_class: str) -> list[PackPrompt]:
        return [p for p in self.prompts.all() if not p.classes or subject_class in p.classes]


class PackPrompt(models.Model):
    pack = models.ForeignKey(Pack, on_delete=models.CASCADE, related_name="prompts")
    template = models.TextField(
        help_text="Name the person with {subject}, e.g. “{subject} in a navy suit”."
    )
    num_images = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    aspect_ratio = models.CharField(max_length=5, choices=ASPECT_RATIOS, default="1:1")
    seed = models.PositiveIntegerField(null=True, blank=True)
    super_resolution = models.BooleanField(default=True)
    face_correct = models.BooleanField(default=True)
    inpaint_faces = models.BooleanField(default=False, help_text="Needs super resolution.")
    classes = models.JSONField(
        default=list,
        blank=True,
        validators=[_classes_check],
        help_text="Only for these classes; empty: every class of the pack.",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.template[:60]

    @property
    def scene(self) -> str:
        """The scene in plain words, as the pack page lists it and the gallery heads it."""
        return scene_words(self.template)

    def astria_options(self) -> dict[str, object]:
        """The options sent with the prompt, copied when a tune starts or a preview runs."""
        return {
            "aspect_ratio": self.aspect_ratio,
            "seed": self.seed,
            "super_resolution": self.super_resolution,
            "face_correct": self.face_correct,
            "inpaint_faces": self.inpaint_faces,
        }

    def clean(self) -> None:
        try:
            template_check(self.template)
        except TemplateError as exc:
            raise ValidationError({"template": str(exc)}) from None
        if self.inpaint_faces and not self.super_resolution:
            raise ValidationError({"inpaint_faces": "Inpainting faces needs super resolution."})


class PackSample(models.Model):
    pack = models.ForeignKey(Pack, on_delete=models.CASCADE, related_name="samples")
    image = models.ImageField(upload_to="packs/samples/")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"sample {self.order} of {self.pack}"


class RefusedWord(models.Model):
    """A word a customer's own idea may not use (staff keep the list in admin)."""

    word = models.CharField(
        max_length=60, unique=True, help_text="Matched as a whole word, in any case."
    )

    class Meta:
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word

    def save(self, *args: object, **kwargs: object) -> None:
        self.word = self.word.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]
