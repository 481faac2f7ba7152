"""Training a model: one Astria tune per TrainedModel, trained once.

queued → submitting → training → ready → expired, or failed with a reason. Once ready, every
photoshoot waiting on the model starts generating; a model that fails takes the photoshoots
waiting on it down with it (with their refunds). Every step is a service called by a thin
Celery task with ids, and every transition a conditional update (see engine.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from astria.client import get_client
from astria.schemas import Tune as AstriaTune
from astria.schemas import TuneCreate
from packs.templating import TRIGGER_WORD
from uploads import storage
from uploads.models import Selfie, SelfieSet

from . import engine
from .astria_log import calls_about
from .callbacks import callback_secret, callback_url, secret_hash
from .models import Photoshoot, TrainedModel

logger = logging.getLogger(__name__)

# Astria keeps a LoRA this long after training (CONTRACT §3) when it does not say.
ASTRIA_KEEPS = timedelta(days=30)
UNFINISHED = [
    TrainedModel.Status.QUEUED,
    TrainedModel.Status.SUBMITTING,
    TrainedModel.Status.TRAINING,
]


def model_current(selfie_set: SelfieSet) -> TrainedModel | None:
    """The set's model a new photoshoot can use: usable now, or on its way (a photoshoot
    started while it trains waits for it instead of training another)."""
    usable = TrainedModel.objects.usable().filter(selfie_set=selfie_set)
    training = TrainedModel.objects.filter(selfie_set=selfie_set, status__in=UNFINISHED)
    return (usable | training).order_by("-created_at").first()


def model_create(*, owner: User, selfie_set: SelfieSet) -> TrainedModel:
    """A new model of the set, sent to Astria once the caller's transaction commits."""
    model = TrainedModel(owner=owner, selfie_set=selfie_set, subject_class=selfie_set.subject_class)
    model.callback_secret_hash = secret_hash(callback_secret("tune", model.code))
    model.save()
    from .tasks import model_submit

    # robust: with the broker down the model is still made (the sweep sends it later).
    transaction.on_commit(lambda: model_submit.delay(model.pk), robust=True)
    return model


def model_submit(*, model_id: int) -> None:
    """Post the Flux LoRA tune to Astria and keep its id; never trains two (engine.py)."""
    unsent = TrainedModel.objects.filter(status__in=UNFINISHED[:2])
    with engine.submit_claim(unsent, model_id, status=TrainedModel.Status.SUBMITTING) as lease:
        if lease is not None:
            _model_post(model_id, lease)


def _model_post(model_id: int, lease: engine.Lease) -> None:
    model = TrainedModel.objects.select_related("selfie_set").get(pk=model_id)
    client = get_client()
    with calls_about(model_id=model_id):

        def create() -> AstriaTune:
            if model.selfie_set is None:
                raise _NothingToTrain
            return client.tune_create(lora_tune_request(model, model.selfie_set))

        try:
            found = engine.submit_with_lookup(
                first_attempt=model.submit_attempts <= 1,
                find=lambda: client.tune_find(
                    model.astria_title, created_after=engine.lookup_since(model.created_at)
                ),
                create=create,
                refused=lambda exc: model_fail(
                    model_id=model_id, reason=f"Astria refused the photos: {exc.message}"
                ),
                lease=lease,
            )
        except _NothingToTrain:
            model_fail(model_id=model_id, reason="The selfies were deleted before training.")
            return
    if found is None:
        return
    TrainedModel.objects.filter(pk=model_id, status=TrainedModel.Status.SUBMITTING).update(
        status=TrainedModel.Status.TRAINING,
        astria_id=found.id,
        eta=found.eta,
        submitted_at=timezone.now(),
    )
    # A callback that came before the id was saved was ignored: look once now.
    model_sync(model_id=model_id)


class _NothingToTrain(Exception):
    pass


def lora_tune_request(model: TrainedModel, selfie_set: SelfieSet) -> TuneCreate:
    """A Flux LoRA of the set's ready photos, sent as short-lived URLs Astria downloads."""
    selfies = Selfie.objects.filter(selfie_set=selfie_set, status=Selfie.Status.READY)
    return TuneCreate(
        title=model.astria_title,
        name=model.subject_class,
        base_tune_id=settings.FLUX_BASE_TUNE_ID,
        model_type="lora",
        preset=settings.ASTRIA_PRESET,
        branch=settings.ASTRIA_BRANCH or None,
        token=TRIGGER_WORD,
        callback=callback_url("tune", model.code),
        image_urls=[storage.fetch_url(s.image) for s in selfies],
    )


def model_sync(*, model_id: int) -> None:
    """Ask Astria how the training goes (after its callback, or when overdue); once trained,
    the model is ready and its waiting photoshoots start generating."""
    model = TrainedModel.objects.filter(pk=model_id, status=TrainedModel.Status.TRAINING).first()
    if model is None or model.astria_id is None:  # training goes with its id: never None here
        return
    astria_id = model.astria_id
    with calls_about(model_id=model_id):
        found = engine.astria_get(
            lambda: get_client().tune_get(astria_id),
            lost=lambda exc: model_fail(
                model_id=model_id, reason=f"Astria lost the model: {exc.message}"
            ),
        )
    if found is None or not found.is_trained:
        return
    trained_at = found.trained_at or timezone.now()
    if TrainedModel.objects.filter(pk=model_id, status=TrainedModel.Status.TRAINING).update(
        status=TrainedModel.Status.READY,
        trained_at=trained_at,
        expires_at=found.expires_at or trained_at + ASTRIA_KEEPS,
    ):
        from .photoshoots import photoshoots_generate

        photoshoots_generate(model_id=model_id)


def model_fail(*, model_id: int, reason: str) -> bool:
    """Fail an unfinished model and every photoshoot waiting on it. False: it had ended."""
    from .photoshoots import photoshoot_fail

    with transaction.atomic():
        if not TrainedModel.objects.filter(pk=model_id, status__in=UNFINISHED).update(
            status=TrainedModel.Status.FAILED, failure_reason=reason
        ):
            return False
        waiting = (
            TrainedModel.objects.get(pk=model_id)
            .photoshoots.filter(status=Photoshoot.Status.TRAINING)
            .values_list("pk", flat=True)
        )
        for photoshoot_id in waiting:
            photoshoot_fail(photoshoot_id=photoshoot_id, reason=reason)
    logger.info("model %s failed: %s", model_id, reason)
    return True


def model_expire(*, model_id: int) -> bool:
    """A ready model that Astria has deleted (its 30 days are over, or it answers 404): the
    next photoshoot of its set trains a new one. False: it was not ready."""
    return bool(
        TrainedModel.objects.filter(pk=model_id, status=TrainedModel.Status.READY).update(
            status=TrainedModel.Status.EXPIRED
        )
    )


def models_expired_mark() -> int:
    """Ready models past their `expires_at`, marked expired (the sweep); returns how many."""
    return TrainedModel.objects.filter(
        Q(status=TrainedModel.Status.READY) & Q(expires_at__lte=timezone.now())
    ).update(status=TrainedModel.Status.EXPIRED)
