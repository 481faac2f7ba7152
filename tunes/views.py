"""The customer's pages: their models, pick a pack (with its price on their model), start,
watch it work, the gallery. Astria's callbacks are in callbacks.py.

Every model, photoshoot and photo is looked up through its owner: anyone else gets 404.
"""

from __future__ import annotations

import uuid
from itertools import groupby
from operator import itemgetter
from tempfile import SpooledTemporaryFile
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import limits
from accounts.credits import InsufficientCredits
from accounts.http import AuthenticatedHttpRequest
from packs.models import Pack
from packs.templating import IDEA_MAX_LENGTH
from uploads import storage
from uploads.models import Selfie, SelfieSet

from . import offers, photoshoots, training, zips
from .models import Photo, Photoshoot, Pricing, TrainedModel
from .progress import photoshoot_progress, refunded_credits

# Every way of starting paid work (a pack, more like this, an own idea) counts against one rate.
start_limit = limits.per_user_limit(
    action="tune_start", rate_setting="TUNE_START_RATE", done="started many photoshoots"
)


def photoshoot_for_user(request: AuthenticatedHttpRequest, code: UUID) -> Photoshoot:
    """The signed-in user's photoshoot with this code, or 404."""
    return get_object_or_404(
        Photoshoot.objects.for_user(request.user).select_related("pack", "owner", "model"),
        code=code,
    )


def photo_json(photo: Photo, photoshoot: Photoshoot) -> dict[str, Any]:
    """A photo as the gallery shows it (its prompt loaded with it: the scene heads its group)."""
    return {
        "code": str(photo.code),
        "thumbnail_url": storage.private_url(photo.thumbnail, owner=photoshoot.storage_owner),
        "url": reverse("tunes:photo_detail", args=[photoshoot.code, photo.code]),
        "liked": photo.liked,
        # "More like this" makes a scene again with the same order: one scene, one heading.
        "scene": photo.prompt.order,
        "scene_title": photo.prompt.scene,
    }


def scene_groups(photos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of photos (in gallery order) as runs of one scene each, with its heading."""
    return [
        {"scene": scene, "title": run[0]["scene_title"], "photos": run}
        for scene, group in groupby(photos, key=itemgetter("scene"))
        for run in [list(group)]
    ]


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's photoshoots, newest first, each with its status and first photo."""
    first_photo = Photo.objects.filter(photoshoot=OuterRef("pk")).order_by("prompt__order", "index")
    shoots = (
        Photoshoot.objects.for_user(request.user)
        .filter(kind=Photoshoot.Kind.CUSTOMER)  # a sample account's previews are the studio's
        .select_related("pack", "owner")
        .annotate(photo_count=Count("photos"), cover=Subquery(first_photo.values("thumbnail")[:1]))
        # Django leaves Meta.ordering out of a GROUP BY query (the Count), so say it again.
        .order_by("-created_at", "-id")
    )
    rows = [
        (shoot, shoot.cover and storage.private_url(shoot.cover, owner=shoot.storage_owner))
        for shoot in shoots
    ]
    return render(request, "tunes/dashboard.html", {"photoshoots": rows})


@login_required
def models_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each selfie set's model: its state, how long it lasts, and what to do with it."""
    models = (
        TrainedModel.objects.for_user(request.user)
        .select_related("selfie_set")
        .annotate(photoshoot_count=Count("photoshoots"))
    )
    return render(
        request,
        "tunes/models.html",
        {
            "models": models,
            "usable": set(
                TrainedModel.objects.usable().for_user(request.user).values_list("pk", flat=True)
            ),
            "idea_images": photoshoots.IDEA_IMAGES,
            "idea_price": photoshoots.idea_price(1),
            "idea_max": IDEA_MAX_LENGTH,
            "start_token": uuid.uuid4(),
        },
    )


@login_required
@require_POST
def model_idea(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """The customer's own idea, one sentence, run on their trained model."""
    model = get_object_or_404(TrainedModel.objects.for_user(request.user), code=code)
    return _model_idea(request, model)


@start_limit
def _model_idea(request: AuthenticatedHttpRequest, model: TrainedModel) -> HttpResponse:
    num_images = _int(request.POST.get("num_images")) or 0
    try:
        photoshoot = photoshoots.idea_start(
            user=request.user,
            model=model,
            idea=request.POST.get("idea", ""),
            num_images=num_images,
            start_token=_uuid(request.POST.get("start_token")),
            price_seen=_int(request.POST.get("price")),
        )
    except (photoshoots.CannotStart, InsufficientCredits) as exc:
        messages.error(request, str(exc))
        return redirect("tunes:models")
    return redirect("tunes:photoshoot_detail", code=photoshoot.code)


@login_required
def photoshoot_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pick a pack for one of the user's selfie sets, each with what it costs on the set's
    model (without training once it is trained), shown before the start button. Without a
    set in the link (a bookmark, a typed address), the user chooses one, or makes one first."""
    if not request.GET.get("set"):
        return _choose_selfie_set(request)
    selfie_set = get_object_or_404(
        SelfieSet.objects.for_user(request.user), code=_uuid(request.GET.get("set"))
    )
    # JSON "contains" differs between SQLite and PostgreSQL, and packs are few: filter here.
    packs = [
        pack
        for pack in Pack.objects.active().prefetch_related("prompts")
        if pack.supports(selfie_set.subject_class)
    ]
    quotes = photoshoots.quotes(selfie_set=selfie_set, packs=packs)
    model = training.model_current(selfie_set)
    photos = selfie_set.selfies.filter(status=Selfie.Status.READY).count()
    return render(
        request,
        "tunes/photoshoot_new.html",
        {
            "selfie_set": selfie_set,
            "offers": quotes,
            "model": model,
            "expired": selfie_set.trained_models.filter(status=TrainedModel.Status.EXPIRED).exists()
            or selfie_set.trained_models.filter(
                status=TrainedModel.Status.READY, expires_at__lte=timezone.now()
            ).exists(),
            "start_token": uuid.uuid4(),
            # Too few photos to train a model is said before any start button.
            "photos": photos,
            "photos_missing": 0 if model else max(settings.SELFIES_MIN - photos, 0),
            "selfies_min": settings.SELFIES_MIN,
        },
    )


def _choose_selfie_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    sets = (
        SelfieSet.objects.for_user(request.user)
        .annotate(photo_count=Count("selfies", filter=Q(selfies__status=Selfie.Status.READY)))
        .order_by("-created_at")  # Meta.ordering is left out of a GROUP BY query
    )
    if not sets:
        messages.info(request, "First upload your selfies: then pick a pack for them.")
        return redirect("uploads:set_create")
    return render(
        request, "tunes/photoshoot_choose_set.html", {"sets": sets, "min": settings.SELFIES_MIN}
    )


@login_required
@require_POST
def photoshoot_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    selfie_set = get_object_or_404(
        SelfieSet.objects.for_user(request.user), code=_uuid(request.POST.get("selfie_set"))
    )
    pack = get_object_or_404(Pack.objects.active(), slug=request.POST.get("pack", ""))
    return _photoshoot_start(request, selfie_set, pack)


@start_limit
def _photoshoot_start(
    request: AuthenticatedHttpRequest, selfie_set: SelfieSet, pack: Pack
) -> HttpResponse:
    back = f"{reverse('tunes:photoshoot_new')}?set={selfie_set.code}"
    try:
        photoshoot = photoshoots.photoshoot_start(
            user=request.user,
            selfie_set=selfie_set,
            pack=pack,
            start_token=_uuid(request.POST.get("start_token")),
            price_seen=_int(request.POST.get("price")),
        )
    except (photoshoots.CannotStart, InsufficientCredits) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect("tunes:photoshoot_detail", code=photoshoot.code)


def _int(value: str | None) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _uuid(value: str | None) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        return uuid.uuid4()  # matches nothing


@login_required
def photoshoot_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """The photoshoot's progress, then its gallery a page at a time, scene by scene: every
    thumbnail is a signed URL, and a phone need not load hundreds at once. A failed one says
    why, what the ledger gave back, and offers the same pack again."""
    photoshoot = photoshoot_for_user(request, code)
    paginator = Paginator(photoshoot.photos.select_related("prompt"), settings.GALLERY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    photos = [photo_json(p, photoshoot) for p in page]
    for number, photo in enumerate(photos, start=page.start_index()):
        photo["number"] = number
    status = photoshoot_progress(photoshoot)
    failed = photoshoot.status == Photoshoot.Status.FAILED
    return render(
        request,
        "tunes/photoshoot_detail.html",
        {
            "photoshoot": photoshoot,
            "scenes": scene_groups(photos),
            "page": page,
            "status": status,
            "final": status["final"],
            "percent": None if status["fraction"] is None else round(status["fraction"] * 100),
            "refunded": refunded_credits(photoshoot) if status["final"] else 0,
            "retry": offers.retry_offer(photoshoot=photoshoot) if failed else None,
            "start_token": uuid.uuid4(),
        },
    )


@login_required
def photoshoot_status(request: AuthenticatedHttpRequest, code: UUID) -> JsonResponse:
    """What the photoshoot page refreshes itself with while it works."""
    photoshoot = photoshoot_for_user(request, code)
    first_page = photoshoot.photos.select_related("prompt")[: settings.GALLERY_PAGE_SIZE]
    photos = [photo_json(p, photoshoot) for p in first_page]
    return JsonResponse({**photoshoot_progress(photoshoot), "photos": photos})


def _photo_for_user(
    request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID
) -> tuple[Photoshoot, Photo]:
    photoshoot = photoshoot_for_user(request, code)
    photo = get_object_or_404(photoshoot.photos.select_related("prompt"), code=photo_code)
    return photoshoot, photo


def _gallery_codes(photoshoot: Photoshoot) -> list[UUID]:
    """Its photos' codes in gallery order: a photo's place is its number."""
    return list(photoshoot.photos.values_list("code", flat=True))


@login_required
def photo_detail(request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID) -> HttpResponse:
    """One photo, full size, with the previous and the next (arrow keys and swipes follow
    them: viewer.js), like, download and more like this."""
    photoshoot, photo = _photo_for_user(request, code, photo_code)
    codes = _gallery_codes(photoshoot)
    at = codes.index(photo.code)
    return render(
        request,
        "tunes/photo_detail.html",
        {
            "photoshoot": photoshoot,
            "photo": photo,
            "image_url": storage.private_url(photo.image, owner=photoshoot.storage_owner),
            "more_price": Pricing.current().more_like_this,
            "more_token": uuid.uuid4(),
            "more_possible": photoshoot.status == Photoshoot.Status.READY
            and TrainedModel.objects.usable().filter(pk=photoshoot.model_id).exists(),
            "previous": codes[at - 1] if at > 0 else None,
            "next": codes[at + 1] if at + 1 < len(codes) else None,
            "position": at + 1,
            "count": len(codes),
            # The gallery's page that holds it, for the way back.
            "gallery_page": at // settings.GALLERY_PAGE_SIZE + 1,
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
@require_POST
def photo_more(request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID) -> HttpResponse:
    """ "More like this": the photo's scene again with a new seed, into the same gallery."""
    _, photo = _photo_for_user(request, code, photo_code)
    return _photo_more(request, photo)


@start_limit
def _photo_more(request: AuthenticatedHttpRequest, photo: Photo) -> HttpResponse:
    try:
        photoshoots.more_like_this(
            user=request.user, photo=photo, start_token=_uuid(request.POST.get("start_token"))
        )
    except (photoshoots.CannotStart, InsufficientCredits) as exc:
        messages.error(request, str(exc))
        return redirect("tunes:photo_detail", code=photo.photoshoot.code, photo_code=photo.code)
    messages.success(request, "More like this is on its way: the new photos join this gallery.")
    return redirect("tunes:photoshoot_detail", code=photo.photoshoot.code)


@login_required
def photo_download(
    request: AuthenticatedHttpRequest, code: UUID, photo_code: UUID
) -> HttpResponseBase:
    """The photo as a file named after the pack, the day and the photo (zips.photo_filename)."""
    photoshoot, photo = _photo_for_user(request, code, photo_code)
    store = storage.storage()
    filename = zips.photo_filename(photoshoot, photo)
    if storage.is_s3(store):
        url = store.url(
            photo.image,
            parameters={"ResponseContentDisposition": f'attachment; filename="{filename}"'},
        )
        return HttpResponseRedirect(url)
    return FileResponse(store.open(photo.image, "rb"), as_attachment=True, filename=filename)


@login_required
def photoshoot_zip(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponseBase:
    """Every photo of the photoshoot in one zip: streamed when the gallery is small; a large one is
    built once by a worker while this page waits, then downloaded as a file."""
    photoshoot = photoshoot_for_user(request, code)
    large = photoshoot.photos.count() > settings.ZIP_INLINE_MAX_PHOTOS
    if large and not photoshoot.zip_file and zips.zip_building(photoshoot):
        # The waiting page asks again every few seconds: that costs nothing, nor counts.
        return render(request, "tunes/zip_wait.html", {"photoshoot": photoshoot}, status=202)
    return _zip_answer(request, photoshoot, large=large)


@limits.per_user_limit(action="zip", rate_setting="ZIP_RATE", done="asked for many zips")
def _zip_answer(
    request: AuthenticatedHttpRequest, photoshoot: Photoshoot, *, large: bool
) -> HttpResponseBase:
    """The zip itself (streamed, or the file a worker built), or the build queued."""
    filename = zips.zip_filename(photoshoot)
    if not large:
        spool = SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
        zips.zip_write(photoshoot, spool)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=filename)
    if photoshoot.zip_file:
        store = storage.storage()
        zipped = store.open(photoshoot.zip_file, "rb")
        return FileResponse(zipped, as_attachment=True, filename=filename)
    zips.zip_request(photoshoot_id=photoshoot.pk)
    return render(request, "tunes/zip_wait.html", {"photoshoot": photoshoot}, status=202)
