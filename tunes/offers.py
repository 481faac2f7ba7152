"""What a pack's public page offers a signed-in user: which of their selfie sets can start it
now, at what price (the same quote the start checks against)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from accounts.models import User
from packs.models import Pack
from uploads.models import Selfie, SelfieSet

from .models import Photoshoot
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
        offer = _set_offer(selfie_set, pack, ready=ready.get(selfie_set.pk, 0))
        if offer:
            offers.append(offer)
    return offers


def retry_offer(*, photoshoot: Photoshoot) -> SetOffer | None:
    """Its pack again on its selfie set (on its model if that still lives, else training a
    new one), for a photoshoot that failed; None when the pack or the set is gone, or the set
    cannot start it."""
    pack, selfie_set = photoshoot.pack, photoshoot.model.selfie_set
    if pack is None or not pack.is_active or selfie_set is None:
        return None
    ready = selfie_set.selfies.filter(status=Selfie.Status.READY).count()
    return _set_offer(selfie_set, pack, ready=ready)


def _set_offer(selfie_set: SelfieSet, pack: Pack, *, ready: int) -> SetOffer | None:
    if not pack.supports(selfie_set.subject_class):
        return None
    offer = quote(selfie_set=selfie_set, pack=pack)
    if offer.model is None and ready < settings.SELFIES_MIN:
        return None
    return SetOffer(selfie_set=selfie_set, quote=offer)
