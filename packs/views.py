"""The pack catalogue: public pages that show what each pack makes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render

from tunes import offers
from uploads import storage

from .models import Pack, PackSample


def _catalogue() -> QuerySet[Pack]:
    return Pack.objects.active().prefetch_related(
        "prompts", Prefetch("samples", queryset=PackSample.objects.order_by("order", "id"))
    )


def pack_list(request: HttpRequest) -> HttpResponse:
    return render(request, "packs/pack_list.html", {"packs": _catalogue()})


def pack_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The pack, and the way to start it: sign up for a visitor, upload selfies for a member
    with no set that can start it, or a start button per set at the price on its model."""
    pack = get_object_or_404(_catalogue(), slug=slug)
    user = request.user
    return render(
        request,
        "packs/pack_detail.html",
        {
            "pack": pack,
            "offers": offers.pack_offers(user=user, pack=pack) if user.is_authenticated else [],
            "start_token": uuid.uuid4(),
            "selfies_min": settings.SELFIES_MIN,
        },
    )


def pack_image(request: HttpRequest, slug: str, image: str) -> HttpResponseBase:
    """A cover (`image="cover"`) or a sample photo (its id) of an active pack: public pictures,
    served from private storage (a signed redirect on S3)."""
    pack = get_object_or_404(Pack.objects.active(), slug=slug)
    if image == "cover":
        name = pack.cover.name
    else:
        name = get_object_or_404(PackSample, pk=int(image), pack=pack).image.name
    store = storage.storage()
    if not name or not store.exists(name):
        return HttpResponse(status=404)
    if storage.is_s3(store):
        return HttpResponseRedirect(store.url(name))
    response = FileResponse(store.open(name, "rb"))
    response["Cache-Control"] = "public, max-age=3600"
    return response
