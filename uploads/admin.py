"""Staff's read-only view of selfie sets: who, how many, thumbnails and the hints each photo
got. Photos are changed only by their owner; staff can delete a whole set."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.admin import ReadOnlyInline
from accounts.models import User

from . import services, storage
from .images import HINTS
from .models import Selfie, SelfieSet

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _PhotoCount(TypedDict):
    """What SelfieSetAdmin's queryset adds to each set."""

    photos: int


def thumbnail_html(name: str, owner: User | None, *, size: int = 96) -> str:
    """A small signed-URL image of a private object, for admin pages."""
    if not name:
        return "—"
    url = storage.private_url(name, owner=owner)
    return format_html(
        '<img src="{}" alt="" width="{}" height="{}" class="thumbnail" loading="lazy">',
        url,
        size,
        size,
    )


class SelfieInline(ReadOnlyInline):
    model = Selfie
    fields = ("thumb", "status", "original_name", "width", "height", "hint_list", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Selfie]:
        return super().get_queryset(request).select_related("selfie_set__owner")

    @admin.display(description="photo")
    def thumb(self, selfie: Selfie) -> str:
        return thumbnail_html(selfie.thumbnail, selfie.selfie_set.owner)

    @admin.display(description="hints")
    def hint_list(self, selfie: Selfie) -> str:
        return " ".join(HINTS.get(hint, hint) for hint in selfie.hints) or "—"


@admin.register(SelfieSet)
class SelfieSetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "subject_class", "photo_count", "created_at"]
    list_filter = ["subject_class", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["owner__email", "name", "=code"]
    fields = ("name", "owner", "subject_class", "code", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [SelfieInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SelfieSet]:
        return super().get_queryset(request).annotate(photos=Count("selfies"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Deleting goes through the service, which removes the stored photos too.
    def delete_model(self, request: HttpRequest, obj: SelfieSet) -> None:
        services.selfie_set_delete(selfie_set=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SelfieSet]) -> None:
        for selfie_set in queryset:
            services.selfie_set_delete(selfie_set=selfie_set)

    @admin.display(description="photos", ordering="photos")
    def photo_count(self, selfie_set: WithAnnotations[SelfieSet, _PhotoCount]) -> int:
        return selfie_set.photos
