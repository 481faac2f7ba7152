"""A first pack editor: prompts inline, templates checked on save (issue 6 builds on it)."""

from __future__ import annotations

from django.contrib import admin

from .models import Pack, PackPrompt, PackSample


class PackPromptInline(admin.StackedInline):
    model = PackPrompt
    extra = 0
    fields = [
        "order",
        "template",
        "num_images",
        "aspect_ratio",
        "seed",
        "classes",
        "super_resolution",
        "face_correct",
        "inpaint_faces",
    ]


class PackSampleInline(admin.TabularInline):
    model = PackSample
    extra = 0


@admin.register(Pack)
class PackAdmin(admin.ModelAdmin):
    list_display = ["title", "price", "is_active", "order"]
    list_editable = ["is_active", "order"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [PackPromptInline, PackSampleInline]
