"""The pack editor, for creatives and staff: prompts inline in their order, each template
checked as it is saved and shown as Astria will receive it for every class. The studio app
adds the previews (linked from this page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from uploads.models import SubjectClass

from .models import Pack, PackPrompt, PackSample, RefusedWord
from .templating import TRIGGER_WORD, TemplateError, prompt_render

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _PromptTotal(TypedDict):
    """What PackAdmin's queryset adds to each pack."""

    prompt_total: int


def classes_field(help_text: str) -> forms.MultipleChoiceField:
    """Tick boxes for the JSON list of classes, instead of typing JSON."""
    return forms.MultipleChoiceField(
        choices=SubjectClass.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=help_text,
    )


class PackForm(forms.ModelForm):
    classes = classes_field("Who the pack is for; it is offered only for these.")


class PackPromptForm(forms.ModelForm):
    classes = classes_field("Only for these classes; none ticked: every class of the pack.")


class PackPromptInline(admin.StackedInline):
    model = PackPrompt
    form = PackPromptForm
    extra = 0
    fields = [
        "order",
        "template",
        "rendered",
        "num_images",
        "aspect_ratio",
        "seed",
        "classes",
        "super_resolution",
        "face_correct",
        "inpaint_faces",
    ]
    readonly_fields = ["rendered"]

    @admin.display(description="as Astria receives it")
    def rendered(self, prompt: PackPrompt) -> str:
        """The text for each class the prompt is for, with TUNE_ID for the customer's LoRA."""
        if not prompt.pk:
            return "Shown once saved."
        classes = prompt.classes or prompt.pack.classes
        try:
            lines = [
                (
                    subject_class,
                    prompt_render(
                        prompt.template,
                        tune_id="TUNE_ID",
                        token=TRIGGER_WORD,
                        subject_class=subject_class,
                    ),
                )
                for subject_class in classes
            ]
        except TemplateError as exc:
            return str(exc)
        return format_html_join(
            "", '<div class="rendered-prompt"><strong>{}</strong>: <code>{}</code></div>', lines
        ) or format_html("<em>{}</em>", "The pack is for no class yet.")


class PackSampleInline(admin.TabularInline):
    model = PackSample
    extra = 0


@admin.register(Pack)
class PackAdmin(admin.ModelAdmin):
    form = PackForm
    list_display = ["title", "price", "prompt_count", "is_active", "order"]
    list_editable = ["is_active", "order"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [PackPromptInline, PackSampleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pack]:
        return super().get_queryset(request).annotate(prompt_total=Count("prompts"))

    @admin.display(description="prompts", ordering="prompt_total")
    def prompt_count(self, pack: WithAnnotations[Pack, _PromptTotal]) -> int:
        return pack.prompt_total


@admin.register(RefusedWord)
class RefusedWordAdmin(admin.ModelAdmin):
    """Words a customer's own idea may not use (checked as the idea is sent)."""

    list_display = ["word"]
    search_fields = ["word"]
