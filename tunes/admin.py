"""Staff's view of models and photoshoots: find one, see why it is stuck (its scenes, photos,
callbacks and Astria calls), and act on it through the same services the product uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict, TypeVar

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin import ReadOnlyInline
from uploads.admin import thumbnail_html

from . import staff
from .models import AstriaCall, CallbackEvent, Photo, Photoshoot, Pricing, Prompt, TrainedModel
from .photoshoots import photoshoot_fail

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

STOPPED_BY_STAFF = "Our team stopped this photoshoot."
LAST_CALLS = 50

_M = TypeVar("_M", bound=Model)


class _Cover(TypedDict):
    """What PhotoshootAdmin's queryset adds to each one: the thumbnail of its first photo."""

    cover_name: str | None


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    AGES = {
        "hour": ("Started in the last hour", timedelta(hours=1)),
        "day": ("Started in the last 24 hours", timedelta(days=1)),
        "week": ("Started in the last 7 days", timedelta(days=7)),
        "older": ("Older than 7 days", timedelta(days=7)),
    }

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.AGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[_M]) -> QuerySet[_M]:
        value = self.value()
        if value is None or value not in self.AGES:
            return queryset
        since = timezone.now() - self.AGES[value][1]
        if value == "older":
            return queryset.filter(created_at__lt=since)
        return queryset.filter(created_at__gte=since)


class PromptInline(ReadOnlyInline):
    model = Prompt
    fields = (
        "scene",
        "status",
        "text_sent",
        "num_images",
        "result_count",
        "astria_id",
        "failure_reason",
        "submitted_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="scene")
    def scene(self, prompt: Prompt) -> str:
        url = reverse("admin:tunes_prompt_change", args=[prompt.pk])
        return format_html('<a href="{}">{}</a>', url, prompt.order + 1)

    @admin.display(description="text")
    def text_sent(self, prompt: Prompt) -> str:
        return prompt.text or prompt.template


class PhotoInline(ReadOnlyInline):
    model = Photo
    fields = ("thumb", "scene", "index", "width", "height", "liked", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Photo]:
        return super().get_queryset(request).select_related("photoshoot__owner", "prompt")

    @admin.display(description="photo")
    def thumb(self, photo: Photo) -> str:
        return thumbnail_html(photo.thumbnail, photo.photoshoot.storage_owner)

    @admin.display(description="scene")
    def scene(self, photo: Photo) -> int:
        return photo.prompt.order + 1


class CallbackEventInline(ReadOnlyInline):
    model = CallbackEvent
    fields = ("received_at", "kind", "astria_id")
    readonly_fields = fields
    verbose_name_plural = "callbacks from Astria (newest first)"


class AstriaCallInline(ReadOnlyInline):
    model = AstriaCall
    fields = ("at", "method", "path", "status", "elapsed_ms", "error")
    readonly_fields = fields
    verbose_name_plural = f"calls to Astria (the last {LAST_CALLS}, newest first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AstriaCall]:
        # A model polled for hours makes many; the latest say why it is stuck.
        calls = super().get_queryset(request)
        owner = self.fk_name or ("model" if self.parent_model is TrainedModel else "prompt")
        latest = AstriaCall.objects.filter(**{owner: OuterRef(owner)}).order_by("-at", "-id")
        return calls.filter(pk__in=Subquery(latest.values("pk")[:LAST_CALLS]))


def _each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[_M],
    act: Callable[[_M], str | None],
) -> None:
    """Apply `act` to each object; log what it says it did, report what it refused."""
    done = 0
    for obj in queryset:
        try:
            change = act(obj)
        except staff.CannotRetry as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.WARNING)
            continue
        if change:
            modeladmin.log_change(request, obj, change)
            done += 1
    modeladmin.message_user(request, f"Done for {done} of {queryset.count()}.", messages.SUCCESS)


class PhotoshootInline(ReadOnlyInline):
    model = Photoshoot
    fields = ("link", "kind", "pack", "status", "price", "with_training", "created_at")
    readonly_fields = fields

    @admin.display(description="photoshoot")
    def link(self, photoshoot: Photoshoot) -> str:
        url = reverse("admin:tunes_photoshoot_change", args=[photoshoot.pk])
        return format_html('<a href="{}">{}</a>', url, str(photoshoot.code)[:8])


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    """Models: one Astria tune each; its training, its expiry, what was shot on it."""

    list_display = ["short_code", "owner", "subject_class", "status", "astria_id", "expires_at"]
    list_filter = ["status", AgeFilter]
    list_select_related = ["owner"]
    search_fields = ["owner__email", "=code", "=astria_id"]
    fieldsets = [
        (None, {"fields": ["status", "failure_reason", "owner", "selfie_set", "subject_class"]}),
        ("Astria", {"fields": ["code", "astria_id", "submit_attempts", "eta", "last_polled_at"]}),
        (
            "Times",
            {"fields": ["created_at", "queued_at", "submitted_at", "trained_at", "expires_at"]},
        ),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [PhotoshootInline, CallbackEventInline, AstriaCallInline]

    # Models are made by starting a photoshoot (or a sample subject), with credits.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="code")
    def short_code(self, model: TrainedModel) -> str:
        return str(model.code)[:8]


@admin.register(Photoshoot)
class PhotoshootAdmin(admin.ModelAdmin):
    list_display = [
        "cover_thumb",
        "short_code",
        "owner",
        "pack",
        "kind",
        "status",
        "created_at",
        "finished_at",
    ]
    list_display_links = ["cover_thumb", "short_code"]
    list_filter = ["status", "kind", "pack", AgeFilter]
    list_select_related = ["owner", "pack"]
    search_fields = ["owner__email", "=code", "=model__astria_id"]
    fieldsets = [
        (None, {"fields": ["cover", "status", "failure_reason", "owner", "pack", "model_link"]}),
        ("Credits", {"fields": ["kind", "price", "with_training"]}),
        ("Times", {"fields": ["code", "created_at", "finished_at"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [PromptInline, PhotoInline]
    actions = ["poll_now", "retry", "retry_failed_scenes", "mark_failed", "resend_ready_email"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Photoshoot]:
        first = Photo.objects.filter(photoshoot=OuterRef("pk")).order_by("prompt__order", "index")
        return (
            super()
            .get_queryset(request)
            .annotate(cover_name=Subquery(first.values("thumbnail")[:1]))
        )

    # Photoshoots start from the product, with credits; deleting one would orphan its photos.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="cover")
    def cover_thumb(self, photoshoot: WithAnnotations[Photoshoot, _Cover]) -> str:
        if not photoshoot.cover_name:
            return "—"
        return thumbnail_html(photoshoot.cover_name, photoshoot.storage_owner, size=48)

    @admin.display(description="cover")
    def cover(self, photoshoot: WithAnnotations[Photoshoot, _Cover]) -> str:
        if not photoshoot.cover_name:
            return "—"
        return thumbnail_html(photoshoot.cover_name, photoshoot.storage_owner, size=192)

    @admin.display(description="model")
    def model_link(self, photoshoot: Photoshoot) -> str:
        url = reverse("admin:tunes_trainedmodel_change", args=[photoshoot.model_id])
        model = photoshoot.model
        return format_html('<a href="{}">{}</a>', url, f"{model.get_status_display()} model")

    @admin.display(description="code")
    def short_code(self, photoshoot: Photoshoot) -> str:
        return str(photoshoot.code)[:8]

    @admin.action(description="Poll Astria now", permissions=["change"])
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Photoshoot]) -> None:
        def poll(photoshoot: Photoshoot) -> str | None:
            queued = staff.photoshoot_poll_now(photoshoot_id=photoshoot.pk)
            return f"Polled Astria now ({queued} checks)" if queued else None

        _each(self, request, queryset, poll)

    @admin.action(description="Retry failed photoshoots", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Photoshoot]) -> None:
        def retry(photoshoot: Photoshoot) -> str:
            return f"Retried: back to {staff.photoshoot_retry(photoshoot_id=photoshoot.pk)}"

        _each(self, request, queryset, retry)

    @admin.action(description="Retry the failed scenes", permissions=["change"])
    def retry_failed_scenes(self, request: HttpRequest, queryset: QuerySet[Photoshoot]) -> None:
        def retry_scenes(photoshoot: Photoshoot) -> str | None:
            failed = list(photoshoot.prompts.filter(status=Prompt.Status.FAILED))
            for prompt in failed:
                staff.prompt_retry(prompt_id=prompt.pk)
            return f"Retried {len(failed)} failed scenes" if failed else None

        _each(self, request, queryset, retry_scenes)

    @admin.action(description="Mark failed, with a refund", permissions=["change"])
    def mark_failed(self, request: HttpRequest, queryset: QuerySet[Photoshoot]) -> None:
        def fail(photoshoot: Photoshoot) -> str | None:
            stopped = photoshoot_fail(photoshoot_id=photoshoot.pk, reason=STOPPED_BY_STAFF)
            return "Marked failed, credits refunded" if stopped else None

        _each(self, request, queryset, fail)

    @admin.action(description="Send the ready e-mail again", permissions=["change"])
    def resend_ready_email(self, request: HttpRequest, queryset: QuerySet[Photoshoot]) -> None:
        def resend(photoshoot: Photoshoot) -> str | None:
            sent = staff.ready_email_resend(photoshoot_id=photoshoot.pk)
            return "Sent the ready e-mail again" if sent else None

        _each(self, request, queryset, resend)


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    """Scenes one by one: find a failed one across photoshoots, read why, send it again."""

    list_display = ["__str__", "owner", "status", "astria_id", "submitted_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["photoshoot__owner"]
    search_fields = ["photoshoot__owner__email", "=photoshoot__code", "=astria_id"]
    fields = (
        "photoshoot",
        "status",
        "failure_reason",
        "template",
        "text",
        "num_images",
        "options",
        "result_count",
        "astria_id",
        "submit_attempts",
        "submitted_at",
        "finished_at",
        "last_polled_at",
    )
    readonly_fields = fields
    inlines = [CallbackEventInline, AstriaCallInline]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="owner")
    def owner(self, prompt: Prompt) -> str:
        return prompt.photoshoot.owner.email

    @admin.action(description="Retry failed scenes", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        def retry(prompt: Prompt) -> str:
            staff.prompt_retry(prompt_id=prompt.pk)
            return "Retried"

        _each(self, request, queryset, retry)


@admin.register(Pricing)
class PricingAdmin(admin.ModelAdmin):
    """The one row of price rules (see the README's "Prices")."""

    list_display = ["__str__", "training", "more_like_this"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Pricing.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
