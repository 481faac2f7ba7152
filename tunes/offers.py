"""What a pack's public page offers a signed-in user: each of their selfie sets the pack is for,
at what price (the same quote the start checks against), and what stands in the way of
starting it (photos still to upload, credits missing), said before any start button."""

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
    """One of a user's selfie sets of a class the pack is for, and what starting it costs."""

    selfie_set: SelfieSet
    quote: Quote
    photos: int  # verified photos in the set
    photos_missing: int  # still to upload before it can train a model (0 with a model)
    credits_missing: int  # credits the user lacks for the price (0 when they have enough)

    @property
    def can_start(self) -> bool:
        return not self.photos_missing and not self.credits_missing


def set_offer(*, user: User, selfie_set: SelfieSet, the_quote: Quote, photos: int) -> SetOffer:
    """The offer of `the_quote` on `selfie_set`: a set with a model needs no more photos."""
    photos_missing = 0 if the_quote.model else max(settings.SELFIES_MIN - photos, 0)
    return SetOffer(
        selfie_set=selfie_set,
        quote=the_quote,
        photos=photos,
        photos_missing=photos_missing,
        credits_missing=max(the_quote.price - user.credits, 0),
    )


def ready_photo_counts(user: User) -> dict[int, int]:
    """The number of verified photos in each of the user's selfie sets, by the set's id."""
    return dict(
        Selfie.objects.filter(selfie_set__owner=user, status=Selfie.Status.READY)
        .values("selfie_set")
        .annotate(n=Count("pk"))
        .values_list("selfie_set", "n")
    )


def pack_offers(*, user: User, pack: Pack) -> list[SetOffer]:
    """The user's selfie sets of a class `pack` is for, newest first, each with its price and
    what is missing to start it."""
    ready = ready_photo_counts(user)
    return [
        set_offer(
            user=user,
            selfie_set=selfie_set,
            the_quote=quote(selfie_set=selfie_set, pack=pack),
            photos=ready.get(selfie_set.pk, 0),
        )
        for selfie_set in SelfieSet.objects.for_user(user).order_by("-created_at", "-pk")
        if pack.supports(selfie_set.subject_class)
    ]


def retry_offer(*, photoshoot: Photoshoot) -> SetOffer | None:
    """Its pack again on its selfie set (on its model if that still lives, else training a
    new one), for a photoshoot that failed; None when the pack or the set is gone, or the set
    cannot start it now."""
    pack, selfie_set = photoshoot.pack, photoshoot.model.selfie_set
    if pack is None or not pack.is_active or selfie_set is None:
        return None
    if not pack.supports(selfie_set.subject_class):
        return None
    offer = set_offer(
        user=photoshoot.owner,
        selfie_set=selfie_set,
        the_quote=quote(selfie_set=selfie_set, pack=pack),
        photos=selfie_set.selfies.filter(status=Selfie.Status.READY).count(),
    )
    return offer if offer.can_start else None
