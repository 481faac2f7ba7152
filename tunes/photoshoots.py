"""A photoshoot from start to end: its price, its start on a trained model (or on one that
trains first), the move to generating, and its endings with their refunds and e-mails.

training → generating → ready, or failed with a reason. A photoshoot waits in "training"
while its model trains; on a model that is ready it starts generating at once. A preview is a
photoshoot of a staff account's sample model: free, and without e-mails.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.credits import credits_debit, credits_refund, credits_refunded
from accounts.models import CreditEntry, User
from astria.client import get_client
from packs.models import Pack, PackPrompt, RefusedWord
from packs.templating import TemplateError, idea_check, idea_template
from uploads.models import Selfie, SelfieSet

from . import engine, training
from .astria_log import calls_about
from .callbacks import callback_secret, secret_hash
from .emails import failed_email_send, ready_email_send
from .models import Photo, Photoshoot, Pricing, Prompt, TrainedModel

logger = logging.getLogger(__name__)

EXPIRED = (
    "Your model had expired at Astria, which keeps a model for 30 days. Start this pack again: "
    "it will train a new model first, and show you the price before it starts."
)


class CannotStart(Exception):
    """A photoshoot that cannot start; the message says what to do."""


# --- Price ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """What starting `pack` on a selfie set costs now, and on which model it would run."""

    pack: Pack
    model: TrainedModel | None  # None: it trains a new model first
    price: int

    @property
    def with_training(self) -> bool:
        return self.model is None


def quote(*, selfie_set: SelfieSet, pack: Pack) -> Quote:
    """A pack's price pays for training its model; on a model that is trained (or training
    already) it leaves out Pricing.training, the share staff set in admin (at least 1)."""
    return quotes(selfie_set=selfie_set, packs=[pack])[0]


def quotes(*, selfie_set: SelfieSet, packs: list[Pack]) -> list[Quote]:
    """`quote` for each pack, with the set's model and the price rules read once."""
    model = training.model_current(selfie_set)
    if model is None:
        return [Quote(pack=pack, model=None, price=pack.price) for pack in packs]
    share = Pricing.current().training
    return [Quote(pack=pack, model=model, price=max(pack.price - share, 1)) for pack in packs]


# --- Start ------------------------------------------------------------------------------------


def photoshoot_start(
    *,
    user: User,
    selfie_set: SelfieSet,
    pack: Pack,
    start_token: uuid.UUID,
    price_seen: int | None,
) -> Photoshoot:
    """Debit the price the user saw and create the photoshoot with its scenes, on the set's
    model (or a new one, queued for training), in one transaction. The same start token
    returns the same photoshoot; a price that changed since it was shown (the model expired
    meanwhile) starts nothing and says the new price."""
    existing = Photoshoot.objects.filter(start_token=start_token, owner=user).first()
    if existing:
        return existing
    try:
        return _start(user, selfie_set, pack, start_token, price_seen)
    except IntegrityError:
        # The same form sent twice at the same moment: the other request made it.
        return Photoshoot.objects.get(start_token=start_token, owner=user)


def _start(
    user: User, selfie_set: SelfieSet, pack: Pack, start_token: uuid.UUID, price_seen: int | None
) -> Photoshoot:
    if not pack.supports(selfie_set.subject_class):
        raise CannotStart(f"“{pack.title}” is not available for a {selfie_set.subject_class}.")
    pack_prompts = pack.prompts_for(selfie_set.subject_class)
    if not pack_prompts:
        raise CannotStart(f"“{pack.title}” has no scenes for a {selfie_set.subject_class}.")
    with transaction.atomic():
        # One start at a time per set: two at once must not train two models.
        SelfieSet.objects.select_for_update().filter(pk=selfie_set.pk).first()
        # The same form sent twice at once: the request that held the lock made it, and its
        # model changed the price this one would see.
        existing = Photoshoot.objects.filter(start_token=start_token, owner=user).first()
        if existing:
            return existing
        offer = quote(selfie_set=selfie_set, pack=pack)
        if price_seen is not None and price_seen != offer.price:
            raise CannotStart(_price_changed(offer))
        model = offer.model
        if model is None:
            ready = selfie_set.selfies.filter(status=Selfie.Status.READY).count()
            if ready < settings.SELFIES_MIN:
                missing = settings.SELFIES_MIN - ready
                raise CannotStart(f"This set has {ready} photos; add at least {missing} more.")
            model = training.model_create(owner=user, selfie_set=selfie_set)
        photoshoot = photoshoot_create(
            owner=user,
            model=model,
            pack=pack,
            scenes=[Scene.of(p) for p in pack_prompts],
            price=offer.price,
            with_training=offer.with_training,
            start_token=start_token,
        )
        credits_debit(
            user=user, amount=offer.price, reason=f"{pack.title} photoshoot", cause=photoshoot
        )
    return photoshoot


def _price_changed(offer: Quote) -> str:
    if offer.with_training:
        return (
            f"Your model can no longer take photoshoots (it has expired or its training "
            f"failed), so “{offer.pack.title}” now trains a new one first and costs "
            f"{offer.price} credits. Start it again to go on."
        )
    return f"“{offer.pack.title}” now costs {offer.price} credits. Start it again to go on."


@dataclass(frozen=True)
class Scene:
    """One scene of a photoshoot about to start: a pack prompt's, or the customer's idea."""

    template: str
    num_images: int
    options: dict[str, object]
    pack_prompt: PackPrompt | None = None

    @classmethod
    def of(cls, pack_prompt: PackPrompt) -> Scene:
        return cls(
            template=pack_prompt.template,
            num_images=pack_prompt.num_images,
            options=pack_prompt.astria_options(),
            pack_prompt=pack_prompt,
        )


def photoshoot_create(
    *,
    owner: User,
    model: TrainedModel,
    pack: Pack | None,
    scenes: list[Scene],
    price: int,
    with_training: bool = False,
    start_token: uuid.UUID | None = None,
    kind: str = Photoshoot.Kind.CUSTOMER,
    requested_by: User | None = None,
    idea: str = "",
) -> Photoshoot:
    """The photoshoot and its scenes, copied from the pack as it is now (later edits never
    change it). Call inside a transaction: once it commits, it generates if its model is
    ready, and otherwise waits for the model's training to end."""
    photoshoot = Photoshoot.objects.create(
        owner=owner,
        model=model,
        pack=pack,
        idea=idea,
        kind=kind,
        requested_by=requested_by,
        price=price,
        with_training=with_training,
        start_token=start_token or uuid.uuid4(),
    )
    prompts = []
    for order, scene in enumerate(scenes):
        prompt = Prompt(
            photoshoot=photoshoot,
            pack_prompt=scene.pack_prompt,
            template=scene.template,
            num_images=scene.num_images,
            options=scene.options,
            order=order,
        )
        prompt.callback_secret_hash = secret_hash(callback_secret("prompt", prompt.code))
        prompts.append(prompt)
    Prompt.objects.bulk_create(prompts)
    transaction.on_commit(lambda: _generate_if_ready(photoshoot.pk, model.pk), robust=True)
    return photoshoot


def _generate_if_ready(photoshoot_id: int, model_id: int) -> None:
    # Asked after the commit: a model that became ready meanwhile did not see this photoshoot.
    if TrainedModel.objects.filter(pk=model_id, status=TrainedModel.Status.READY).exists():
        from .tasks import photoshoot_generate

        photoshoot_generate.delay(photoshoot_id)


# --- Generating -------------------------------------------------------------------------------


def photoshoots_generate(*, model_id: int) -> None:
    """A model has just trained: every photoshoot waiting on it starts generating."""
    waiting = Photoshoot.objects.filter(model_id=model_id, status=Photoshoot.Status.TRAINING)
    for photoshoot_id in waiting.values_list("pk", flat=True):
        photoshoot_generate(photoshoot_id=photoshoot_id, model_checked=True)


def photoshoot_generate(*, photoshoot_id: int, model_checked: bool = False) -> None:
    """Move a waiting photoshoot on a ready model to generating and send its scenes. A model
    trained earlier is asked for first: one that Astria has deleted fails the photoshoot with
    a full refund, and the next start trains again (showing its price)."""
    photoshoot = (
        Photoshoot.objects.select_related("model")
        .filter(pk=photoshoot_id, status=Photoshoot.Status.TRAINING)
        .first()
    )
    if photoshoot is None or photoshoot.model.status == TrainedModel.Status.EXPIRED:
        if photoshoot is not None:
            photoshoot_fail(photoshoot_id=photoshoot_id, reason=EXPIRED)
        return
    model = photoshoot.model
    if model.status != TrainedModel.Status.READY or model.astria_id is None:
        return  # still training: the model's sync starts it
    if not model_checked and not _model_alive(model):
        photoshoot_fail(photoshoot_id=photoshoot_id, reason=EXPIRED)
        return
    now = timezone.now()
    with transaction.atomic():
        if not Photoshoot.objects.filter(
            pk=photoshoot_id, status=Photoshoot.Status.TRAINING
        ).update(status=Photoshoot.Status.GENERATING):
            return
        # Lookups of a scene at Astria walk back to here, not further.
        photoshoot.prompts.filter(status=Prompt.Status.WAITING).update(waiting_since=now)
        ids = list(photoshoot.prompts.values_list("pk", flat=True))
        from .tasks import prompt_submit

        transaction.on_commit(lambda: [prompt_submit.delay(pk) for pk in ids])


def _model_alive(model: TrainedModel) -> bool:
    """Whether Astria still has the model; a 404 (or any permanent answer) expires it.
    Transient errors propagate: the task tries again."""
    astria_id = model.astria_id
    assert astria_id is not None  # noqa: S101 - ready goes with an id
    with calls_about(model_id=model.pk):
        found = engine.astria_get(
            lambda: get_client().tune_get(astria_id),
            lost=lambda exc: training.model_expire(model_id=model.pk),
        )
    if found is None:
        return False
    if found.expires_at and found.expires_at <= timezone.now():
        training.model_expire(model_id=model.pk)
        return False
    return True


# --- Endings ----------------------------------------------------------------------------------


def photoshoot_finish_if_done(*, photoshoot_id: int) -> None:
    """Ready (and an e-mail) once every scene is done or failed and some photos exist;
    failed with the rest of the refund if every scene failed."""
    open_prompts = Prompt.objects.filter(
        photoshoot_id=photoshoot_id, status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
    )
    if open_prompts.exists():
        return
    if not Prompt.objects.filter(photoshoot_id=photoshoot_id, status=Prompt.Status.DONE).exists():
        photoshoot_fail(photoshoot_id=photoshoot_id, reason="None of the scenes could be made.")
        return
    finished = Photoshoot.objects.filter(
        pk=photoshoot_id, status=Photoshoot.Status.GENERATING
    ).update(status=Photoshoot.Status.READY, finished_at=timezone.now())
    if finished:
        ready_email_send(Photoshoot.objects.select_related("owner", "pack").get(pk=photoshoot_id))


def photoshoot_fail(*, photoshoot_id: int, reason: str) -> bool:
    """Fail the photoshoot (from any unfinished state), its open scenes too, and refund what
    the user has not been refunded yet. Staff can retry it from admin. False: it had ended."""
    now = timezone.now()
    with transaction.atomic():
        failed = Photoshoot.objects.filter(
            Q(pk=photoshoot_id) & ~Q(status__in=[Photoshoot.Status.READY, Photoshoot.Status.FAILED])
        ).update(status=Photoshoot.Status.FAILED, failure_reason=reason, finished_at=now)
        if not failed:
            return False
        Prompt.objects.filter(
            photoshoot_id=photoshoot_id,
            status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED],
        ).update(status=Prompt.Status.FAILED, failure_reason=reason, finished_at=now)
        photoshoot = Photoshoot.objects.select_related("owner", "pack").get(pk=photoshoot_id)
        already = sum(
            photoshoot.owner.credit_entries.filter(
                kind=CreditEntry.Kind.REFUND,
                cause_type=ContentType.objects.get_for_model(Prompt),
                cause_id__in=photoshoot.prompts.filter(price=None).values("pk"),
            ).values_list("amount", flat=True)
        )
        credits_refund(
            user=photoshoot.owner,
            amount=photoshoot.price - already,
            reason=f"{photoshoot.title} photoshoot failed",
            cause=photoshoot,
        )
        failed_email_send(photoshoot, reason)
    logger.info("photoshoot %s failed: %s", photoshoot_id, reason)
    return True


def prompt_refund_amount(prompt: Prompt) -> int:
    """A failed scene gives back its share of the pack's price: price × its images ÷ all the
    pack's images, rounded down (the README states this rule); a scene paid for by itself
    ("more like this") gives back what it cost."""
    if prompt.price is not None:
        return prompt.price
    pack_scenes = prompt.photoshoot.prompts.filter(price=None)
    total = sum(pack_scenes.values_list("num_images", flat=True))
    return prompt.photoshoot.price * prompt.num_images // max(total, 1)


def prompt_fail(*, prompt_id: int, reason: str) -> None:
    """Fail one scene, refund its share once, and end the photoshoot if it was the last open
    one. A photoshoot refunded already (it failed, then staff retried it) gave back everything
    its scenes had not: a scene failing after that refunds nothing more."""
    photoshoot_id = (
        Prompt.objects.filter(pk=prompt_id).values_list("photoshoot_id", flat=True).first()
    )
    if photoshoot_id is None:
        return
    with transaction.atomic():
        # The photoshoot first, as photoshoot_fail locks it: the two never interleave their
        # refunds. Only its row: its owner and pack stay free for everyone else.
        photoshoot = (
            Photoshoot.objects.select_for_update(of=("self",))
            .select_related("owner", "pack")
            .get(pk=photoshoot_id)
        )
        failed = Prompt.objects.filter(
            pk=prompt_id, status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
        ).update(status=Prompt.Status.FAILED, failure_reason=reason, finished_at=timezone.now())
        if not failed:
            return
        prompt = Prompt.objects.select_related("photoshoot").get(pk=prompt_id)
        if prompt.price is not None or not credits_refunded(cause=photoshoot):
            credits_refund(
                user=photoshoot.owner,
                amount=prompt_refund_amount(prompt),
                reason=f"A scene of {photoshoot.title} could not be made",
                cause=prompt,
            )
    photoshoot_finish_if_done(photoshoot_id=photoshoot_id)


# --- More like this -------------------------------------------------------------------------


def more_like_this(*, user: User, photo: Photo, start_token: uuid.UUID) -> Prompt:
    """The photo's scene made again, with a new seed, on the same model, into the same
    gallery, for Pricing.more_like_this credits. The same form token returns the same scene."""
    existing = Prompt.objects.filter(start_token=start_token, photoshoot__owner=user).first()
    if existing:
        return existing
    photoshoot = Photoshoot.objects.get(pk=photo.photoshoot_id)
    if photoshoot.owner_id != user.pk or photoshoot.kind != Photoshoot.Kind.CUSTOMER:
        raise CannotStart("This photo is not yours.")
    if photoshoot.status != Photoshoot.Status.READY:
        raise CannotStart("This photoshoot has not finished: wait for it first.")
    if not TrainedModel.objects.usable().filter(pk=photoshoot.model_id).exists():
        raise CannotStart(
            "The model of these photos has expired: start a pack again to train a new one."
        )
    scene = photo.prompt
    price = Pricing.current().more_like_this
    try:
        with transaction.atomic():
            prompt = Prompt(
                photoshoot=photoshoot,
                pack_prompt=scene.pack_prompt,
                template=scene.template,
                num_images=scene.num_images,
                options={**scene.options, "seed": secrets.randbelow(2**31)},
                order=scene.order,
                more_of=photo,
                price=price,
                start_token=start_token,
                waiting_since=timezone.now(),
            )
            prompt.callback_secret_hash = secret_hash(callback_secret("prompt", prompt.code))
            prompt.save()
            reason = f"More like this: {photoshoot.title}"
            credits_debit(user=user, amount=price, reason=reason, cause=prompt)
            from .tasks import prompt_submit

            transaction.on_commit(lambda: prompt_submit.delay(prompt.pk), robust=True)
    except IntegrityError:
        # The same form sent twice at the same moment: the other request made it.
        return Prompt.objects.get(start_token=start_token, photoshoot__owner=user)
    return prompt


# --- The customer's own idea ----------------------------------------------------------------

IDEA_IMAGES = (1, 2, 3, 4)


def idea_price(num_images: int) -> int:
    return Pricing.current().own_idea_per_image * num_images


def idea_start(
    *,
    user: User,
    model: TrainedModel,
    idea: str,
    num_images: int,
    start_token: uuid.UUID,
    price_seen: int | None,
) -> Photoshoot:
    """A photoshoot of one scene the customer described, on their trained model, priced per
    image. The idea is checked as a creative's template is (templating.idea_check)."""
    existing = Photoshoot.objects.filter(start_token=start_token, owner=user).first()
    if existing:
        return existing
    if model.owner_id != user.pk:
        raise CannotStart("This model is not yours.")
    if num_images not in IDEA_IMAGES:
        raise CannotStart(f"Pick between {IDEA_IMAGES[0]} and {IDEA_IMAGES[-1]} images.")
    if not TrainedModel.objects.usable().filter(pk=model.pk).exists():
        raise CannotStart("This model is not ready for new photoshoots: start a pack instead.")
    try:
        idea_check(idea, refused_words=list(RefusedWord.objects.values_list("word", flat=True)))
    except TemplateError as exc:
        raise CannotStart(str(exc)) from None
    price = idea_price(num_images)
    if price_seen is not None and price_seen != price:
        raise CannotStart(f"Your idea now costs {price} credits. Send it again to go on.")
    scene = Scene(
        template=idea_template(idea),
        num_images=num_images,
        options={"seed": secrets.randbelow(2**31)},
    )
    try:
        with transaction.atomic():
            photoshoot = photoshoot_create(
                owner=user,
                model=model,
                pack=None,
                idea=" ".join(idea.split()),
                scenes=[scene],
                price=price,
                start_token=start_token,
            )
            credits_debit(user=user, amount=price, reason="Your own idea", cause=photoshoot)
    except IntegrityError:
        return Photoshoot.objects.get(start_token=start_token, owner=user)
    return photoshoot
