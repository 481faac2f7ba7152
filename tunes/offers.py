"""What a pack's public page offers a signed-in user: which of their selfie sets can start it
now, at what price (the same quote the start checks against)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from accounts.models import User
from packs.models import Pack
from uploads.models import Selfie, SelfieSet

from .photoshoots import Quote, quote


@dataclass(frozen=True)
class SetOffer:
    """One of a user's selfie sets that can start a pack now, and what it costs on it."""

    selfie_set: SelfieSet
    quote: Quote


def pack_offers(*, user: User, pack: Pack) -> list[SetOffer]:
    """The user's selfie sets that can start `pack` now (of a class it is for, with a model to
    run on or enough verified photos to train one), newest first, each with its price."""
    ready = dict(
        Selfie.objects.filter(selfie_set__owner=user, status=Selfie.Status.READY)
        .values("selfie_set")
        .annotate(n=Count("pk"))
        .values_list("selfie_set", "n")
    )
    offers = []
    for selfie_set in SelfieSet.objects.for_user(user).order_by("-created_at", "-pk"):
        if not pack.supports(selfie_set.subject_class):
            continue
        offer = quote(selfie_set=selfie_set, pack=pack)
        if offer.model is not None or ready.get(selfie_set.pk, 0) >= settings.SELFIES_MIN:
            offers.append(SetOffer(selfie_set=selfie_set, quote=offer))
    return offers
