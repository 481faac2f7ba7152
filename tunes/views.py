"""Photoshoot pages: pick a pack, start, watch it work, the gallery; and Astria's callbacks.

Every tune and photo is looked up through its owner: anyone else gets 404.
"""

from __future__ import annotations

import json
import uuid
from tempfile import SpooledTemporaryFile
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts import limits
from accounts.credits import InsufficientCredits
from accounts.http import AuthenticatedHttpRequest
from packs.models import Pack
from uploads import storage
from uploads.models import SelfieSet

from . import services
from .models import CallbackEvent, Photo, Prompt, Tune

FINAL = {Tune.Status.READY, Tune.Status.FAILED}


def tune_for_user(request: AuthenticatedHttpRequest, code: UUID) -> Tune:
    """The signed-in user's tune with this code, or 404."""
    return get_object_or_404(
        Tune.objects.for_user(request.user).select_related("pack", "owner"), code=code
    )


def photo_json(photo: Photo, tune: Tune) -> dict[str, Any]:
    return {
        "code": str(photo.code),
        "thumbnail_url": storage.private_url(photo.thumbnail, owner=tune.owner),
        "url": reverse("tunes:photo_detail", args=[tune.code, photo.code]),
        "liked": photo.liked,
    }


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's photoshoots, newest first, each with its status and first photo."""
    first_photo = Photo.objects.filter(tune=OuterRef("pk")).order_by("prompt__order", "index")
    tunes = (
        Tune.objects.for_user(request.user)
        .select_related("pack", "owner")
        .annotate(photo_count=Count("photos"), cover=Subquery(first_photo.values("thumbnail")[:1]))
    )
    rows = [
        (tune, storage.private_url(tune.cover, owner=tune.owner) if tune.cover else None)
        for tune in tunes
    ]
    return render(request, "tunes/dashboard.html", {"tunes": rows})


@login_required
def tune_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pick a pack for one of the user's selfie sets."""
    selfie_set = get_object_or_404(
        SelfieSet.objects.for_user(request.user), code=_uuid(request.GET.get("set"))
    )
    # JSON "contains" differs between SQLite and PostgreSQL, and packs are few: filter here.
    packs = [
        pack
        for pack in Pack.objects.active().prefetch_related("prompts")
        if pack.supports(selfie_set.subject_class)
    ]
    return render(
        request,
        "tunes/tune_new.html",
        {"selfie_set": selfie_set, "packs": packs, "start_token": uuid.uuid4()},
    )


@login_required
@require_POST
def tune_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    selfie_set = get_object_or_404(
        SelfieSet.objects.for_user(request.user), code=_uuid(request.POST.get("selfie_set"))
    )
    pack = get_object_or_404(Pack.objects.active(), slug=request.POST.get("pack", ""))
    return _tune_start(request, selfie_set, pack)


@limits.per_user_limit(
    action="tune_start", rate_setting="TUNE_START_RATE", done="started many photoshoots"
)
def _tune_start(
    request: AuthenticatedHttpRequest, selfie_set: SelfieSet, pack: Pack
) -> HttpResponse:
    back = f"{reverse('tunes:tune_new')}?set={selfie_set.code}"
    try:
        tune = services.tune_start(
            user=request.user,
            selfie_set=selfie_set,
            pack=pack,
            start_token=_uuid(request.POST.get("start_token")),
        )
    except (services.CannotStart, InsufficientCredits) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect("tunes:tune_detail", code=tune.code)


def _uuid(value: str | None) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        return uuid.uuid4()  # matches nothing


@login_required
def tune_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """The tune's progress, then its gallery a page at a time: every thumbnail is a signed URL,
    and a phone need not load hundreds at once."""
    tune = tune_for_user(request, code)
    page = Paginator(tune.photos.all(), settings.GALLERY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    photos = [photo_json(p, tune) for p in page]
    return render(
        request,
        "tunes/tune_detail.html",
        {
            "tune": tune,
            "photos": photos,
            "page": page,
            "status": _status(tune),
            "final": tune.status in FINAL,
        },
    )


def _status(tune: Tune) -> dict[str, Any]:
    counts = tune.prompts.aggregate(
        done=Count("pk", filter=Q(status=Prompt.Status.DONE)),
        failed=Count("pk", filter=Q(status=Prompt.Status.FAILED)),
        total=Count("pk"),
    )
    return {
        "status": tune.status,
        "label": tune.get_status_display(),
        "final": tune.status in FINAL,
        "eta": tune.eta.isoformat() if tune.eta and tune.status == Tune.Status.TRAINING else None,
        "scenes": counts,
        "failure_reason": tune.failure_reason,
    }


@login_required
def tune_status(request: AuthenticatedHttpRequest, code: UUID) -> JsonResponse:
    """What the tune page refreshes itself with while the photoshoot works."""
    tune = tune_for_user(request, code)
    first_page = tune.photos.all()[: settings.GALLERY_PAGE_SIZE]
    return JsonResponse({**_status(tune), "photos": [photo_json(p, tune) for p in first_page]})


def _photo_for_user(
    request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID
) -> tuple[Tune, Photo]:
    tune = tune_for_user(request, code)
    return tune, get_object_or_404(tune.photos, code=photo_code)


@login_required
def photo_detail(request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID) -> HttpResponse:
    tune, photo = _photo_for_user(request, code, photo_code)
    codes = list(tune.photos.values_list("code", flat=True))
    at = codes.index(photo.code)
    return render(
        request,
        "tunes/photo_detail.html",
        {
            "tune": tune,
            "photo": photo,
            "image_url": storage.private_url(photo.image, owner=tune.owner),
            "previous": codes[at - 1] if at > 0 else None,
            "next": codes[at + 1] if at + 1 < len(codes) else None,
            "position": at + 1,
            "count": len(codes),
        },
    )


@login_required
@require_POST
def photo_like(request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID) -> HttpResponse:
    """Like or unlike (`liked=0`) a photo."""
    _, photo = _photo_for_user(request, code, photo_code)
    liked = request.POST.get("liked", "1") != "0"
    Photo.objects.filter(pk=photo.pk).update(liked=liked)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"liked": liked})
    return redirect("tunes:photo_detail", code=code, photo_code=photo_code)


@login_required
def photo_download(
    request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID
) -> HttpResponseBase:
    _, photo = _photo_for_user(request, code, photo_code)
    store = storage.storage()
    filename = services.photo_filename(photo)
    if storage.is_s3(store):
        url = store.url(
            photo.image,
            parameters={"ResponseContentDisposition": f"attachment; filename={filename}"},
        )
        return HttpResponseRedirect(url)
    return FileResponse(store.open(photo.image, "rb"), as_attachment=True, filename=filename)


@login_required
def tune_zip(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponseBase:
    """Every photo of the tune in one zip: streamed when the gallery is small; a large one is
    built once by a worker while this page waits, then downloaded as a file."""
    tune = tune_for_user(request, code)
    large = tune.photos.count() > settings.ZIP_INLINE_MAX_PHOTOS
    if large and not tune.zip_file and services.tune_zip_building(tune):
        # The waiting page asks again every few seconds: that costs nothing, nor counts.
        return render(request, "tunes/zip_wait.html", {"tune": tune}, status=202)
    return _zip_answer(request, tune, large=large)


@limits.per_user_limit(action="zip", rate_setting="ZIP_RATE", done="asked for many zips")
def _zip_answer(request: AuthenticatedHttpRequest, tune: Tune, *, large: bool) -> HttpResponseBase:
    """The zip itself (streamed, or the file a worker built), or the build queued."""
    filename = f"{tune.pack.slug}-photos.zip"
    if not large:
        spool = SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
        services.zip_write(tune, spool)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=filename)
    if tune.zip_file:
        store = storage.storage()
        return FileResponse(store.open(tune.zip_file, "rb"), as_attachment=True, filename=filename)
    services.tune_zip_request(tune_id=tune.pk)
    return render(request, "tunes/zip_wait.html", {"tune": tune}, status=202)


# --- Astria's callbacks -----------------------------------------------------------------------


def _callback_body(request: HttpRequest, root: str) -> dict[str, Any] | None:
    """The object of a callback, wrapped in its root key or bare; None if it is not JSON."""
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(body, dict) and isinstance(body.get(root), dict):
        return body[root]
    return body if isinstance(body, dict) else None


def _callback(request: HttpRequest, kind: str, code: UUID) -> HttpResponse:
    """Shared by both callbacks: size cap, secret, ids; record, queue a sync, answer fast.

    Astria neither signs nor retries callbacks, so the body is only a hint to look: the work
    is done by our own GET. Duplicates and late ones are harmless (the sync is conditional).
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > settings.CALLBACK_MAX_BYTES:
        return HttpResponse(status=413)
    model = Tune if kind == "tune" else Prompt
    fields = ["pk", "astria_id", "callback_secret_hash", *(["tune_id"] if kind == "prompt" else [])]
    obj = model.objects.only(*fields).filter(code=code).first()
    secret = request.GET.get("secret", "")
    if obj is None or not services.secret_matches(secret, obj.callback_secret_hash):
        return HttpResponse(status=404)
    body = _callback_body(request, kind)
    if body is None:
        return JsonResponse({"error": "The body is not a JSON object."}, status=400)
    if obj.astria_id is not None and str(body.get("id")) != str(obj.astria_id):
        return JsonResponse({"error": "The id does not match this callback."}, status=400)
    from .tasks import prompt_sync, tune_sync

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The event is a record for staff: losing the last few to a database crash is
            # harmless (the poller asks Astria anyway), so this commit need not wait for the
            # disk. It is most of a callback's time otherwise (bench: callbacks).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        CallbackEvent.objects.create(
            kind=kind,
            tune_id=obj.tune_id if isinstance(obj, Prompt) else obj.pk,
            prompt=obj if isinstance(obj, Prompt) else None,
            astria_id=obj.astria_id,
        )
        task = tune_sync if kind == "tune" else prompt_sync
        # robust: with the broker down Astria still gets its 200 (the poller asks later).
        transaction.on_commit(lambda: task.delay(obj.pk), robust=True)
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def tune_callback(request: HttpRequest, code: UUID) -> HttpResponse:
    return _callback(request, "tune", code)


@csrf_exempt
@require_POST
def prompt_callback(request: HttpRequest, code: UUID) -> HttpResponse:
    return _callback(request, "prompt", code)
