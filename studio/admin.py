"""The studio in admin: staff train sample subjects; creatives run a pack's prompts on one and
see each prompt beside what it made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from accounts.http import request_user
from packs.models import Pack
from tunes.models import AstriaCall, CallbackEvent, Photo, Prompt, TrainedModel
from uploads import storage
from uploads.admin import thumbnail_html
from uploads.models import Selfie

from . import services
from .models import PackPreview, PreviewSubject

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

OPEN = [Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
# What a preview is made of and goes with it: deleting the preview is permission enough for
# them (creatives have no rights on tunes' models, where they live).
PREVIEW_PARTS = {str(m._meta.verbose_name) for m in (Prompt, Photo, CallbackEvent, AstriaCall)}


class _ShotCounts(TypedDict):
    """What PackPreviewAdmin's queryset adds to each preview."""

    shot_total: int
    shots_open: int


@admin.register(PreviewSubject)
class PreviewSubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "subject_class", "status", "astria_id", "expires_at"]
    list_select_related = ["selfie_set", "model"]
    fields = (
        "name",
        "selfie_set",
        "samples",
        "subject_class",
        "status",
        "failure_reason",
        "astria_id",
        "trained_at",
        "expires_at",
    )
    readonly_fields = [f for f in fields if f not in ("name", "selfie_set")]
    actions = ["train"]

    def get_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        fields = tuple(flatten(super().get_fields(request, obj)))
        # The sample photos are a staff account's selfies: only for those who may see selfies.
        if request.user.has_perm("uploads.view_selfieset"):
            return fields
        return tuple(f for f in fields if f != "samples")

    @admin.display(description="class")
    def subject_class(self, subject: PreviewSubject) -> str:
        return subject.model.subject_class if subject.model else "—"

    @admin.display(description="status")
    def status(self, subject: PreviewSubject) -> str:
        return subject.status_label

    @admin.display(description="why it failed")
    def failure_reason(self, subject: PreviewSubject) -> str:
        return subject.model.failure_reason if subject.model else ""

    @admin.display(description="Astria id")
    def astria_id(self, subject: PreviewSubject) -> str:
        return str(subject.model.astria_id or "—") if subject.model else "—"

    @admin.display(description="trained at")
    def trained_at(self, subject: PreviewSubject) -> object:
        return subject.model.trained_at if subject.model else None

    @admin.display(description="usable until")
    def expires_at(self, subject: PreviewSubject) -> object:
        return subject.model.expires_at if subject.model else None

    @admin.display(description="sample photos")
    def samples(self, subject: PreviewSubject) -> str:
        if not subject.pk:
            return "—"
        selfies = Selfie.objects.filter(
            selfie_set=subject.selfie_set_id, status=Selfie.Status.READY
        ).select_related("selfie_set__owner")
        return format_html_join(
            " ",
            "{}",
            ((thumbnail_html(s.thumbnail, s.selfie_set.owner, size=64),) for s in selfies),
        )

    def save_model(
        self, request: HttpRequest, obj: PreviewSubject, form: Any, change: bool
    ) -> None:
        """A new subject starts training as soon as it is saved."""
        super().save_model(request, obj, form, change)
        if not change:
            self._train(request, obj)

    @admin.action(description="Train again at Astria", permissions=["change"])
    def train(self, request: HttpRequest, queryset: QuerySet[PreviewSubject]) -> None:
        for subject in queryset.select_related("selfie_set__owner"):
            if self._train(request, subject):
                self.log_change(request, subject, "Sent to Astria for training")

    def _train(self, request: HttpRequest, subject: PreviewSubject) -> bool:
        try:
            services.subject_train(subject=subject)
        except services.CannotPreview as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return False
        self.message_user(request, f"{subject.name} is training; it is ready in a few minutes.")
        return True


class PreviewStartForm(forms.Form):
    pack = forms.ModelChoiceField(Pack.objects.all())
    subject = forms.ModelChoiceField(
        PreviewSubject.objects.filter(model__in=TrainedModel.objects.usable()),
        help_text="A sample person trained for previews. Pick one of a class the pack is for.",
    )


def shots_html(preview: PackPreview) -> str:
    """Each prompt beside what it made: its template, the text sent, and the images."""
    rows = []
    for shot in preview.prompts.prefetch_related("photos"):
        images = format_html_join(
            " ",
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="Result {}"'
            ' width="160" height="160" class="thumbnail"></a>',
            (
                (
                    storage.private_url(photo.image, owner=preview.storage_owner),
                    storage.private_url(photo.thumbnail, owner=preview.storage_owner),
                    photo.index + 1,
                )
                for photo in shot.photos.all()
            ),
        )
        status = shot.get_status_display()
        if shot.failure_reason:
            status = f"{status}: {shot.failure_reason}"
        rows.append((shot.order + 1, shot.template, shot.text, status, images or "…"))
    body = format_html_join(
        "",
        '<tr class="preview-shot"><td>{}</td><td>{}<br><code>{}</code></td>'
        '<td class="status">{}</td><td class="images">{}</td></tr>',
        rows,
    )
    return format_html(
        '<table class="preview-shots"><thead><tr><th>#</th><th>Prompt, and as sent</th>'
        "<th>Status</th><th>Results</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


@admin.register(PackPreview)
class PackPreviewAdmin(admin.ModelAdmin):
    list_display = ["pack", "subject", "requested_by", "progress", "created_at"]
    list_filter = ["pack"]
    list_select_related = ["pack", "model__selfie_set", "requested_by"]
    fields = ("pack", "subject", "requested_by", "status", "created_at", "results")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PackPreview]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                shot_total=Count("prompts"),
                shots_open=Count("prompts", filter=Q(prompts__status__in=OPEN)),
            )
        )

    @admin.display(description="progress")
    def progress(self, preview: WithAnnotations[PackPreview, _ShotCounts]) -> str:
        if preview.shots_open:
            return f"{preview.shot_total - preview.shots_open} of {preview.shot_total} done"
        return "Finished"

    @admin.display(description="subject")
    def subject(self, preview: PackPreview) -> str:
        subject = PreviewSubject.objects.filter(model=preview.model_id).first()
        return subject.name if subject else str(preview.model.selfie_set or "—")

    @admin.display(description="results")
    def results(self, preview: PackPreview) -> str:
        return shots_html(preview)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a preview is a record of what a pack made at one moment

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed - PREVIEW_PARTS, protected

    def delete_model(self, request: HttpRequest, obj: PackPreview) -> None:
        services.preview_delete(preview=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PackPreview]) -> None:
        for preview in queryset:
            services.preview_delete(preview=preview)

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kw: Any):
        obj = context.get("original")
        context["still_working"] = bool(obj and obj.shots_open)
        return super().render_change_form(request, context, *args, **kw)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Start a preview: a pack and a trained subject; then its page, which fills in."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PreviewStartForm(request.POST or None, initial={"pack": request.GET.get("pack")})
        if request.method == "POST" and form.is_valid():
            try:
                preview = services.preview_start(
                    pack=form.cleaned_data["pack"],
                    subject=form.cleaned_data["subject"],
                    user=request_user(request),
                )
            except services.CannotPreview as exc:
                form.add_error("subject", str(exc))
            else:
                self.log_addition(request, preview, "Started a preview")
                return redirect("admin:studio_packpreview_change", preview.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "Preview a pack",
            "subjects_ready": PreviewSubject.objects.filter(
                model__in=TrainedModel.objects.usable()
            ).exists(),
        }
        return TemplateResponse(request, "admin/studio/packpreview/start.html", context)
