"""Selfie set pages and the upload endpoints the page's JavaScript calls.

Every object is looked up through its owner: anyone else gets 404.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, ProtectedError, Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import limits
from accounts.http import AuthenticatedHttpRequest

from . import services, storage
from .forms import SelfieSetForm, SelfieSetRenameForm, UploadStartForm
from .images import HINTS, RejectedImage, VerifierBusy
from .models import Selfie, SelfieSet

# Seconds a finish holds its place at most: far longer than a check runs (seconds, and at most
# 2 s of waiting for memory: uploads/images.py), so the place of a process killed mid-check
# comes free again on its own.
FINISH_SLOT_LAPSE = 120
# A finish refused for being busy keeps its upload; the page asks again this much later.
FINISH_RETRY_SECONDS = 5
# The per-user limits' name for a finish: both its places at once and its rate.
FINISH = "upload_finish"


def set_for_user(request: AuthenticatedHttpRequest, code: UUID) -> SelfieSet:
    """The signed-in user's set with this code, or 404."""
    return get_object_or_404(SelfieSet.objects.for_user(request.user), code=code)


def photo_json(selfie: Selfie) -> dict[str, Any]:
    """What the page needs to show one photo."""
    owner = selfie.selfie_set.owner
    return {
        "code": str(selfie.code),
        "name": selfie.original_name,
        "thumbnail_url": storage.private_url(selfie.thumbnail, owner=owner),
        "width": selfie.width,
        "height": selfie.height,
        "hints": [HINTS[hint] for hint in selfie.hints],
        "delete_url": reverse("uploads:photo_delete", args=[selfie.selfie_set.code, selfie.code]),
    }


def upload_removed() -> JsonResponse:
    """A finish of an upload that is not there: removed meanwhile (or never this user's, which
    gets the same answer)."""
    return JsonResponse({"error": "This upload was removed."}, status=404)


def rejected(exc: RejectedImage) -> JsonResponse:
    return JsonResponse({"error": exc.reason}, status=422)


def _busy(slots: int) -> str:
    photos = "1 of your photos is" if slots == 1 else f"{slots} of your photos are"
    which = "it is" if slots == 1 else "one is"
    return f"{photos} being checked already; this one will be checked once {which} done."


@login_required
def set_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    sets = SelfieSet.objects.for_user(request.user).annotate(
        photo_count=Count("selfies", filter=Q(selfies__status=Selfie.Status.READY))
    )
    return render(request, "uploads/set_list.html", {"sets": sets})


@login_required
def set_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SelfieSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _set_create(request, form)
    return render(request, "uploads/set_form.html", {"form": form})


@limits.per_user_limit(
    action="selfie_set_create",
    rate_setting="SELFIE_SET_CREATE_RATE",
    done="created many selfie sets",
)
def _set_create(request: AuthenticatedHttpRequest, form: SelfieSetForm) -> HttpResponse:
    selfie_set = services.selfie_set_create(owner=request.user, **form.cleaned_data)
    return redirect("uploads:set_detail", code=selfie_set.code)


@login_required
def set_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    selfie_set = set_for_user(request, code)
    photos = [
        photo_json(s)
        for s in selfie_set.selfies.filter(status=Selfie.Status.READY).select_related(
            "selfie_set__owner"
        )
    ]
    config = {
        "startUrl": reverse("uploads:upload_start", args=[selfie_set.code]),
        "maxBytes": settings.UPLOAD_MAX_BYTES,
        "min": settings.SELFIES_MIN,
        "max": settings.SELFIES_MAX,
    }
    return render(
        request,
        "uploads/set_detail.html",
        {
            "selfie_set": selfie_set,
            "photos": photos,
            "config": config,
            "rename_form": SelfieSetRenameForm(instance=selfie_set),
            # Too few photos is said before the way on to a pack, not after a failed start.
            "photos_missing": max(settings.SELFIES_MIN - len(photos), 0),
        },
    )


@login_required
@require_POST
def set_rename(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    selfie_set = set_for_user(request, code)
    form = SelfieSetRenameForm(request.POST, instance=SelfieSet(name=selfie_set.name))
    if form.is_valid():
        services.selfie_set_rename(selfie_set=selfie_set, name=form.cleaned_data["name"])
        messages.success(request, "The set has been renamed.")
    else:
        messages.error(request, "Please give the set a name of at most 80 characters.")
    return redirect("uploads:set_detail", code=selfie_set.code)


@login_required
def set_delete(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    selfie_set = set_for_user(request, code)
    if request.method == "POST":
        try:
            services.selfie_set_delete(selfie_set=selfie_set)
        except ProtectedError:
            # A staff account's set of sample photos that pack previews are made from.
            messages.error(
                request,
                f"“{selfie_set.name}” is kept as the photos of a preview subject: "
                "remove the subject in admin first.",
            )
            return redirect("uploads:set_detail", code=selfie_set.code)
        messages.success(request, f"“{selfie_set.name}” and its photos have been deleted.")
        return redirect("uploads:set_list")
    return render(request, "uploads/set_confirm_delete.html", {"selfie_set": selfie_set})


@login_required
@require_POST
def upload_start(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Issue an upload target for one file the browser is about to send."""
    return _upload_start(request, set_for_user(request, code))


@limits.per_user_limit(
    action="upload_start", rate_setting="UPLOAD_START_RATE", done="started many uploads", json=True
)
def _upload_start(request: AuthenticatedHttpRequest, selfie_set: SelfieSet) -> HttpResponse:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    form = UploadStartForm(data if isinstance(data, dict) else None)
    if not form.is_valid():
        return JsonResponse({"error": "The request was not understood."}, status=400)
    try:
        selfie, target = services.selfie_upload_start(selfie_set=selfie_set, **form.cleaned_data)
    except RejectedImage as exc:
        return rejected(exc)
    finish = reverse("uploads:upload_finish", args=[selfie_set.code, selfie.code])
    cancel = reverse("uploads:photo_delete", args=[selfie_set.code, selfie.code])
    return JsonResponse(
        {"url": target.url, "fields": target.fields, "finish_url": finish, "cancel_url": cancel},
        status=201,
    )


@login_required
@require_POST
def upload_finish(request: AuthenticatedHttpRequest, code: UUID, upload_code: UUID) -> HttpResponse:
    """The browser says the bytes are in storage: verify and normalise them.

    A finish sent again after one that committed (its answer lost with a killed web process
    or a dropped connection) answers as that one did, without checking anything again."""
    selfie = (
        Selfie.objects.select_related("selfie_set__owner")
        .filter(code=upload_code, selfie_set__code=code, selfie_set__owner=request.user)
        .first()
    )
    if selfie is None:
        return upload_removed()
    if selfie.status == Selfie.Status.READY:
        return JsonResponse({"photo": photo_json(selfie)})
    slots = settings.UPLOAD_FINISH_CONCURRENCY
    # Each check holds a decoded photo in memory: one user's parallel finishes must not add up.
    with limits.slot_hold(
        user=request.user, action=FINISH, slots=slots, lapse=FINISH_SLOT_LAPSE
    ) as held:
        if not held:
            # Before the rate counts: the upload stays, the page asks again after Retry-After.
            return limits.too_many(request, _busy(slots), seconds=FINISH_RETRY_SECONDS, json=True)
        return _upload_check(request, selfie)


@limits.per_user_limit(
    action=FINISH,
    rate_setting="UPLOAD_FINISH_RATE",
    done="sent many photos to be checked",
    json=True,
)
def _upload_check(request: AuthenticatedHttpRequest, selfie: Selfie) -> HttpResponse:
    try:
        done = services.selfie_finish_upload(selfie=selfie)
    except RejectedImage as exc:
        return rejected(exc)
    except VerifierBusy as exc:
        # Not checked: the upload stays as it is and the page asks again after Retry-After, so
        # this one does not count against the rate.
        limits.rate_refund(user=request.user, action=FINISH)
        return limits.too_many(request, str(exc), seconds=FINISH_RETRY_SECONDS, json=True)
    if done is None:
        return upload_removed()
    return JsonResponse({"photo": photo_json(done)})


@login_required
@require_POST
def photo_delete(request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID) -> HttpResponse:
    selfie = get_object_or_404(
        Selfie, code=photo_code, selfie_set__code=code, selfie_set__owner=request.user
    )
    services.selfie_delete(selfie=selfie)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"deleted": str(selfie.code)})
    messages.success(request, "The photo has been removed.")
    return redirect("uploads:set_detail", code=code)


@login_required
@require_POST
def direct_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Local storage's stand-in for an S3 presigned POST: same fields, a signed token."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse("The request was not understood.", status=400)
    if declared > settings.UPLOAD_MAX_BYTES + 64 * 1024:
        return HttpResponse("The file is too large.", status=400)
    grant = storage.direct_upload_grant(request.POST.get("token", ""), user=request.user)
    upload = request.FILES.get("file")
    if (
        grant is None
        or request.POST.get("key") != grant["key"]
        or request.POST.get("Content-Type") != grant["type"]
        # Only while the upload waits for its bytes: never again once finished or removed.
        or not Selfie.objects.filter(
            upload_key=grant["key"],
            status=Selfie.Status.PENDING,
            selfie_set__owner=request.user,
        ).exists()
    ):
        return HttpResponse("This upload is not allowed.", status=403)
    if upload is None or not 1 <= (upload.size or 0) <= settings.UPLOAD_MAX_BYTES:
        return HttpResponse("The file must be between 1 byte and the size limit.", status=400)
    store = storage.storage()
    saved = store.save(grant["key"], upload)
    if saved != grant["key"]:  # the key was used already: keep nothing
        store.delete(saved)
        return HttpResponse("This upload is not allowed.", status=403)
    return HttpResponse(status=204)


def _stored_jpeg(name: str | None, *, cache: str) -> HttpResponseBase:
    store = storage.storage()
    if name is None or not store.exists(name):
        return HttpResponse(status=404)
    response = FileResponse(store.open(name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = cache
    return response


@login_required
def private_file(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """A photo behind a local signed URL: fresh, and only for its owner or staff."""
    name = storage.private_name(request.GET.get("t", ""), viewer=request.user)
    return _stored_jpeg(name, cache="private, max-age=300")


def fetch_file(request: HttpRequest) -> HttpResponseBase:
    """A normalised selfie for Astria to download: the signed, expiring token is the only key."""
    return _stored_jpeg(storage.fetch_name(request.GET.get("t", "")), cache="private, no-store")
