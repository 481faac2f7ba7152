"""The photoshoot lifecycle: start, submit the tune, follow its training, submit the prompts,
collect the photos, finish or fail (with refunds).

queued → submitting → training → generating → ready, or failed with a reason. Every step is a
service called by a thin Celery task with ids; every transition is a conditional update from
the expected state, so a task that runs twice (late acks, duplicate callbacks, the poller and a
callback at once) finds the work done and returns.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
import zipfile
from datetime import datetime, timedelta
from tempfile import SpooledTemporaryFile
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.credits import credits_debit, credits_refund, credits_refunded
from accounts.models import CreditEntry, User
from accounts.services import OutgoingEmail, email_queue
from astria.client import get_client
from astria.errors import AstriaError
from astria.schemas import PromptCreate, TuneCreate
from astria.schemas import Tune as AstriaTune
from packs.models import Pack
from packs.templating import TRIGGER_WORD, TemplateError, prompt_render
from uploads import storage
from uploads.models import Selfie, SelfieSet

from .astria_log import calls_about
from .models import Photo, Prompt, Tune

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)


class CannotStart(Exception):
    """A photoshoot that cannot start; the message says what to do."""


# --- Callback secrets -------------------------------------------------------------------------


def callback_secret(kind: str, code: uuid.UUID) -> str:
    """The secret in an object's callback URL: derived from SECRET_KEY, never stored."""
    return salted_hmac(f"tunes.callback.{kind}", str(code)).hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def callback_url(kind: str, code: uuid.UUID) -> str:
    path = reverse(f"tunes:{kind}_callback", args=[code])
    return f"{settings.PUBLIC_BASE_URL}{path}?secret={callback_secret(kind, code)}"


# --- Start ------------------------------------------------------------------------------------


def tune_start(*, user: User, selfie_set: SelfieSet, pack: Pack, start_token: uuid.UUID) -> Tune:
    """Debit the pack's price and create the tune with its prompts, in one transaction; queue
    the submission once it commits. The same start token returns the same tune."""
    existing = Tune.objects.filter(start_token=start_token, owner=user).first()
    if existing:
        return existing
    try:
        return _tune_create(user=user, selfie_set=selfie_set, pack=pack, start_token=start_token)
    except IntegrityError:
        # The same form sent twice at the same moment: the other request made the tune.
        return Tune.objects.get(start_token=start_token, owner=user)


def _tune_create(*, user: User, selfie_set: SelfieSet, pack: Pack, start_token: uuid.UUID) -> Tune:
    ready = selfie_set.selfies.filter(status=Selfie.Status.READY).count()
    if ready < settings.SELFIES_MIN:
        raise CannotStart(
            f"This set has {ready} photos; add at least {settings.SELFIES_MIN - ready} more."
        )
    if not pack.supports(selfie_set.subject_class):
        raise CannotStart(f"“{pack.title}” is not available for a {selfie_set.subject_class}.")
    pack_prompts = pack.prompts_for(selfie_set.subject_class)
    if not pack_prompts:
        raise CannotStart(f"“{pack.title}” has no scenes for a {selfie_set.subject_class}.")
    with transaction.atomic():
        tune = Tune.objects.create(
            owner=user,
            selfie_set=selfie_set,
            pack=pack,
            subject_class=selfie_set.subject_class,
            price=pack.price,
            start_token=start_token,
            callback_secret_hash="",
        )
        Tune.objects.filter(pk=tune.pk).update(
            callback_secret_hash=secret_hash(callback_secret("tune", tune.code))
        )
        for order, pack_prompt in enumerate(pack_prompts):
            prompt = Prompt(
                tune=tune,
                pack_prompt=pack_prompt,
                template=pack_prompt.template,
                num_images=pack_prompt.num_images,
                options=pack_prompt.astria_options(),
                order=order,
            )
            prompt.callback_secret_hash = secret_hash(callback_secret("prompt", prompt.code))
            prompt.save()
        credits_debit(user=user, amount=pack.price, reason=f"{pack.title} photoshoot", cause=tune)
        from .tasks import tune_submit

        # robust: with the broker down the tune is still started (the sweep sends it later)
        # and the user sees their photoshoot, not an error.
        transaction.on_commit(lambda: tune_submit.delay(tune.pk), robust=True)
    return tune


# --- Submit the tune --------------------------------------------------------------------------


def tune_submit(*, tune_id: int) -> None:
    """Post the Flux LoRA tune to Astria and keep its id. After a 504 or a crash the tune is
    looked up by its title first, so Astria never trains two. Transient errors propagate
    (the task retries); permanent ones fail the tune with a full refund.

    One attempt at a time: an attempt claims the tune by stamping it and lets go when it
    ends. A copy of the task (the broker handed one on twice, the sweep sent one that was only
    late) finds the tune claimed and does nothing; the claim of a worker killed mid-attempt
    lapses after the task time limit, when that attempt can no longer be running."""
    now = timezone.now()
    lapsed = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = Tune.objects.filter(
        Q(submit_claimed_at=None) | Q(submit_claimed_at__lt=lapsed),
        pk=tune_id,
        status__in=[Tune.Status.QUEUED, Tune.Status.SUBMITTING],
        astria_id=None,
    ).update(
        status=Tune.Status.SUBMITTING,
        submit_attempts=F("submit_attempts") + 1,
        submit_claimed_at=now,
    )
    if not claimed:
        return
    try:
        _tune_post(tune_id)
    finally:
        Tune.objects.filter(pk=tune_id, submit_claimed_at=now).update(submit_claimed_at=None)


def _tune_post(tune_id: int) -> None:
    tune = Tune.objects.select_related("selfie_set").get(pk=tune_id)
    with calls_about(tune_id=tune_id):
        found = tune_find_by_title(tune.astria_title) if tune.submit_attempts > 1 else None
        if found is None:
            if tune.selfie_set is None:  # deleted while the tune waited: nothing to train on
                tune_fail(tune_id=tune_id, reason="The selfies were deleted before training.")
                return
            try:
                found = get_client().tune_create(_tune_request(tune, tune.selfie_set))
            except AstriaError as exc:
                if exc.permanent:
                    tune_fail(tune_id=tune_id, reason=f"Astria refused the photos: {exc.message}")
                    return
                if exc.may_have_been_processed:
                    found = tune_find_by_title(tune.astria_title)
                if found is None:
                    raise
    now = timezone.now()
    Tune.objects.filter(pk=tune_id, status=Tune.Status.SUBMITTING).update(
        status=Tune.Status.TRAINING, astria_id=found.id, eta=found.eta, submitted_at=now
    )
    # A callback that came before the id was saved was ignored: look once now.
    tune_sync(tune_id=tune_id)


def tune_find_by_title(title: str) -> AstriaTune | None:
    """Our tune at Astria, by its unique title (a create that answered 504 usually happened)."""
    for found in get_client().tunes_list():
        if found.title == title:
            return found
    return None


def _tune_request(tune: Tune, selfie_set: SelfieSet) -> TuneCreate:
    return lora_tune_request(
        title=tune.astria_title,
        selfie_set=selfie_set,
        subject_class=tune.subject_class,
        callback=callback_url("tune", tune.code),
    )


def lora_tune_request(
    *, title: str, selfie_set: SelfieSet, subject_class: str, callback: str | None
) -> TuneCreate:
    """A Flux LoRA of the set's ready photos, sent as short-lived URLs Astria downloads."""
    selfies = Selfie.objects.filter(selfie_set=selfie_set, status=Selfie.Status.READY)
    return TuneCreate(
        title=title,
        name=subject_class,
        base_tune_id=settings.FLUX_BASE_TUNE_ID,
        model_type="lora",
        preset=settings.ASTRIA_PRESET,
        token=TRIGGER_WORD,
        callback=callback,
        image_urls=[storage.fetch_url(s.image) for s in selfies],
    )


# --- Training done: submit the prompts --------------------------------------------------------


def tune_sync(*, tune_id: int) -> None:
    """Ask Astria how the tune is doing (after its callback, or when overdue); once trained,
    move to generating and send every prompt."""
    tune = Tune.objects.filter(pk=tune_id, status=Tune.Status.TRAINING).first()
    if tune is None or tune.astria_id is None:  # training goes with its id: never None here
        return
    try:
        with calls_about(tune_id=tune_id):
            found = get_client().tune_get(tune.astria_id)
    except AstriaError as exc:
        if exc.permanent:
            tune_fail(tune_id=tune_id, reason=f"Astria lost the model: {exc.message}")
            return
        raise
    if not found.is_trained:
        return
    moved = Tune.objects.filter(pk=tune_id, status=Tune.Status.TRAINING).update(
        status=Tune.Status.GENERATING, trained_at=found.trained_at or timezone.now()
    )
    if moved:
        from .tasks import prompt_submit

        for prompt_id in tune.prompts.values_list("pk", flat=True):
            prompt_submit.delay(prompt_id)


def prompt_submit(*, prompt_id: int) -> None:
    """Render the prompt for the trained LoRA and post it to the Flux base tune.

    Astria de-duplicates identical prompts, so sending the same one again after a 504 returns
    the prompt made the first time instead of a second one.
    """
    prompt = (
        Prompt.objects.select_related("tune")
        .filter(pk=prompt_id, status=Prompt.Status.WAITING)
        .first()
    )
    if prompt is None:
        return
    tune = prompt.tune
    if tune.astria_id is None:  # prompts are sent once their tune is trained: never None here
        return
    try:
        text = prompt_render(
            prompt.template,
            tune_id=tune.astria_id,
            token=TRIGGER_WORD,
            subject_class=tune.subject_class,
        )
    except TemplateError as exc:
        # A template saved before today's rules: it never reaches Astria, the scene is refunded.
        prompt_fail(prompt_id=prompt_id, reason=f"This scene's prompt was refused: {exc}")
        return
    request = prompt_request(
        text=text,
        num_images=prompt.num_images,
        options=prompt.options,
        callback=callback_url("prompt", prompt.code),
    )
    try:
        with calls_about(tune_id=tune.pk, prompt_id=prompt_id):
            created = get_client().prompt_create(settings.FLUX_BASE_TUNE_ID, request)
    except AstriaError as exc:
        if exc.permanent:
            prompt_fail(prompt_id=prompt_id, reason=f"Astria refused the scene: {exc.message}")
            return
        raise
    Prompt.objects.filter(pk=prompt_id, status=Prompt.Status.WAITING).update(
        status=Prompt.Status.SUBMITTED, astria_id=created.id, text=text, submitted_at=timezone.now()
    )
    # A callback that came before the id was saved was ignored (and a de-duplicated prompt
    # may be finished already): look once now.
    prompt_sync(prompt_id=prompt_id)


def prompt_request(
    *, text: str, num_images: int, options: dict[str, Any], callback: str | None
) -> PromptCreate:
    """What Astria receives for a rendered prompt and the options copied from its pack."""
    return PromptCreate(
        text=text,
        num_images=num_images,
        callback=callback,
        seed=options.get("seed"),
        aspect_ratio=options.get("aspect_ratio"),
        super_resolution=options.get("super_resolution"),
        face_correct=options.get("face_correct"),
        inpaint_faces=options.get("inpaint_faces") and options.get("super_resolution"),
    )


# --- Prompt done: collect the photos ----------------------------------------------------------


def prompt_sync(*, prompt_id: int) -> None:
    """GET the prompt from Astria (never trusting a callback's body); when done, queue the
    copy of each image; when failed, fail it."""
    prompt = Prompt.objects.filter(pk=prompt_id, status=Prompt.Status.SUBMITTED).first()
    if prompt is None or prompt.astria_id is None:  # submitted goes with its id: never None
        return
    try:
        with calls_about(tune_id=prompt.tune_id, prompt_id=prompt_id):
            found = get_client().prompt_get(settings.FLUX_BASE_TUNE_ID, prompt.astria_id)
    except AstriaError as exc:
        if exc.permanent:
            prompt_fail(prompt_id=prompt_id, reason=f"Astria lost the scene: {exc.message}")
            return
        raise
    if found.is_failed:
        prompt_fail(prompt_id=prompt_id, reason=found.user_error or "Astria could not make it.")
        return
    if not found.is_done:
        return
    Prompt.objects.filter(pk=prompt_id, result_count=None).update(result_count=len(found.images))
    from .tasks import photo_ingest

    copied = set(prompt.photos.values_list("index", flat=True))
    for index, url in enumerate(found.images):
        if index not in copied:
            photo_ingest.delay(prompt_id, index, url, prompt.astria_id)
    prompt_complete_if_done(prompt_id=prompt_id)


def prompt_complete_if_done(*, prompt_id: int) -> None:
    """A prompt whose every image is a Photo is done; a tune whose prompts are all final ends."""
    prompt = Prompt.objects.get(pk=prompt_id)
    if prompt.result_count is None or prompt.photos.count() < prompt.result_count:
        return
    Prompt.objects.filter(pk=prompt_id, status=Prompt.Status.SUBMITTED).update(
        status=Prompt.Status.DONE, finished_at=timezone.now()
    )
    tune_finish_if_done(tune_id=prompt.tune_id)


# --- Endings ----------------------------------------------------------------------------------


def tune_finish_if_done(*, tune_id: int) -> None:
    """Ready (and an e-mail) once every prompt is done or failed and some photos exist;
    failed with the rest of the refund if every prompt failed."""
    open_prompts = Prompt.objects.filter(
        tune_id=tune_id, status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
    )
    if open_prompts.exists():
        return
    if not Prompt.objects.filter(tune_id=tune_id, status=Prompt.Status.DONE).exists():
        tune_fail(tune_id=tune_id, reason="None of the scenes could be made.")
        return
    now = timezone.now()
    finished = Tune.objects.filter(pk=tune_id, status=Tune.Status.GENERATING).update(
        status=Tune.Status.READY, finished_at=now
    )
    if finished:
        ready_email_send(Tune.objects.select_related("owner", "pack").get(pk=tune_id))


def ready_email_send(tune: Tune) -> None:
    link = settings.PUBLIC_BASE_URL + reverse("tunes:tune_detail", args=[tune.code])
    email_queue(
        email=OutgoingEmail(
            subject=f"[PhotoShoot] Your {tune.pack.title} photos are ready",
            body=f"Your photoshoot is ready. See your photos here:\n\n{link}\n",
            to=[tune.owner.email],
        )
    )


def _failed_email(tune: Tune, reason: str) -> None:
    link = settings.PUBLIC_BASE_URL + reverse("tunes:tune_detail", args=[tune.code])
    email_queue(
        email=OutgoingEmail(
            subject=f"[PhotoShoot] Your {tune.pack.title} photoshoot could not be made",
            body=(
                f"We are sorry: your photoshoot could not be made. {reason}\n\n"
                f"Your credits have been refunded. Details: {link}\n"
            ),
            to=[tune.owner.email],
        )
    )


def tune_fail(*, tune_id: int, reason: str) -> bool:
    """Fail the tune (from any unfinished state), its open prompts too, and refund what the
    user has not been refunded yet. Staff can retry it from admin. False: it had finished."""
    now = timezone.now()
    with transaction.atomic():
        failed = Tune.objects.filter(
            Q(pk=tune_id) & ~Q(status__in=[Tune.Status.READY, Tune.Status.FAILED])
        ).update(status=Tune.Status.FAILED, failure_reason=reason, finished_at=now)
        if not failed:
            return False
        Prompt.objects.filter(
            tune_id=tune_id, status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
        ).update(status=Prompt.Status.FAILED, failure_reason=reason, finished_at=now)
        tune = Tune.objects.select_related("owner", "pack").get(pk=tune_id)
        already = sum(
            tune.owner.credit_entries.filter(
                kind=CreditEntry.Kind.REFUND,
                cause_type=ContentType.objects.get_for_model(Prompt),
                cause_id__in=tune.prompts.values("pk"),
            ).values_list("amount", flat=True)
        )
        credits_refund(
            user=tune.owner,
            amount=tune.price - already,
            reason=f"{tune.pack.title} photoshoot failed",
            cause=tune,
        )
        _failed_email(tune, reason)
    logger.info("tune %s failed: %s", tune_id, reason)
    return True


def prompt_refund_amount(prompt: Prompt) -> int:
    """A failed scene gives back its share of the price: price × its images ÷ all images,
    rounded down (the README states this rule)."""
    total = sum(prompt.tune.prompts.values_list("num_images", flat=True))
    return prompt.tune.price * prompt.num_images // max(total, 1)


def prompt_fail(*, prompt_id: int, reason: str) -> None:
    """Fail one scene, refund its share once, and end the tune if it was the last open one.

    A tune refunded already (it failed, then staff retried it) gave back everything its
    scenes had not: a scene failing after that refunds nothing more."""
    tune_id = Prompt.objects.filter(pk=prompt_id).values_list("tune_id", flat=True).first()
    if tune_id is None:
        return
    with transaction.atomic():
        # The tune first, as tune_fail locks it: the two never interleave their refunds. Only
        # the tune's row: its owner and pack stay free for everyone else.
        tune = (
            Tune.objects.select_for_update(of=("self",))
            .select_related("owner", "pack")
            .get(pk=tune_id)
        )
        failed = Prompt.objects.filter(
            pk=prompt_id, status__in=[Prompt.Status.WAITING, Prompt.Status.SUBMITTED]
        ).update(status=Prompt.Status.FAILED, failure_reason=reason, finished_at=timezone.now())
        if not failed:
            return
        if not credits_refunded(cause=tune):
            prompt = Prompt.objects.get(pk=prompt_id)
            credits_refund(
                user=tune.owner,
                amount=prompt_refund_amount(prompt),
                reason=f"A scene of {tune.pack.title} could not be made",
                cause=prompt,
            )
    tune_finish_if_done(tune_id=tune_id)


# --- Zips -------------------------------------------------------------------------------------


def zip_write(tune: Tune, target: IO[bytes]) -> None:
    """Write every photo of `tune` into the open binary file `target` as a zip of JPEGs."""
    store = storage.storage()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for photo in tune.photos.select_related("prompt"):
            with store.open(photo.image, "rb") as image:
                archive.writestr(photo_filename(photo), image.read())


def photo_filename(photo: Photo) -> str:
    return f"photoshoot-{photo.prompt.order + 1}-{photo.index + 1}.jpg"


def _zip_claims_lapsed_before() -> datetime:
    # A build runs at most the task time limit: an older claim is a dead worker's.
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def tune_zip_building(tune: Tune) -> bool:
    """Whether a build of the tune's zip is queued or running (claimed, and not lapsed)."""
    return tune.zip_claimed_at is not None and tune.zip_claimed_at >= _zip_claims_lapsed_before()


def tune_zip_request(*, tune_id: int) -> bool:
    """Queue the build of a ready gallery's zip unless one is queued or running: the request
    that stamps the tune first queues it, the others find it claimed (however many come at
    once). Returns whether this call queued it; the claim lapses as `tune_submit`'s does."""
    claimed_at = timezone.now()
    claimed = Tune.objects.filter(
        Q(zip_claimed_at=None) | Q(zip_claimed_at__lt=_zip_claims_lapsed_before()),
        pk=tune_id,
        zip_file="",
        status=Tune.Status.READY,
    ).update(zip_claimed_at=claimed_at)
    if claimed:
        transaction.on_commit(lambda: _zip_build_queue(tune_id, claimed_at))
    return bool(claimed)


def _zip_build_queue(tune_id: int, claimed_at: datetime) -> None:
    from .tasks import tune_zip_build as tune_zip_build_task

    try:
        tune_zip_build_task.delay(tune_id)
    except Exception:
        # Not queued (the broker is down): the next request may try again at once.
        Tune.objects.filter(pk=tune_id, zip_claimed_at=claimed_at).update(zip_claimed_at=None)
        raise


def tune_zip_build(*, tune_id: int) -> None:
    """Build a large gallery's zip into private storage, once, and end the claim that queued
    it, built or not. The claim counts again from the build's start, which may come long after
    it was queued; a copy of the task that runs meanwhile builds too, and only the first zip
    is kept."""
    started = timezone.now()
    Tune.objects.filter(pk=tune_id, zip_claimed_at__isnull=False).update(zip_claimed_at=started)
    try:
        _zip_build(tune_id)
    finally:
        Tune.objects.filter(pk=tune_id, zip_claimed_at=started).update(zip_claimed_at=None)


def _zip_build(tune_id: int) -> None:
    tune = Tune.objects.select_related("owner").get(pk=tune_id)
    if tune.zip_file or tune.status != Tune.Status.READY:
        return
    with SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        zip_write(tune, spool)
        spool.seek(0)
        name = storage.storage().save(storage.new_key(tune.owner, "zips", ".zip"), File(spool))
    if not Tune.objects.filter(pk=tune_id, zip_file="").update(zip_file=name):
        storage.objects_delete([name])  # built twice at once: keep the first


# --- Polling ----------------------------------------------------------------------------------


def overdue_poll() -> int:
    """Astria never retries a lost callback: GET what is overdue, once per object per sweep,
    and fail what has waited past its deadline. Work whose task was lost (a broker that lost
    its queue) is sent again, less often. Returns how many tasks were queued."""
    from .tasks import prompt_submit as prompt_submit_task
    from .tasks import prompt_sync as prompt_sync_task
    from .tasks import tune_submit as tune_submit_task
    from .tasks import tune_sync as tune_sync_task

    now = timezone.now()
    _deadlines_enforce(now)
    wait = timedelta(seconds=settings.POLL_AFTER_SECONDS)
    # Sending again is rarer than asking: a copy of a task that was only late is harmless
    # (submits are claimed, Astria de-duplicates prompts) but adds load when Astria is down.
    resend = wait * 10
    work: list[tuple[QuerySet[Tune] | QuerySet[Prompt], timedelta, Task]] = [
        (
            Tune.objects.filter(status=Tune.Status.TRAINING).filter(
                Q(eta__lt=now) | Q(eta=None, submitted_at__lt=now - wait)
            ),
            wait,
            tune_sync_task,
        ),
        (
            Prompt.objects.filter(status=Prompt.Status.SUBMITTED, submitted_at__lt=now - wait),
            wait,
            prompt_sync_task,
        ),
        (
            Tune.objects.filter(
                status__in=[Tune.Status.QUEUED, Tune.Status.SUBMITTING],
                astria_id=None,
                queued_at__lt=now - resend,
            ),
            resend,
            tune_submit_task,
        ),
        (
            Prompt.objects.filter(_waiting_since_before(now - resend)),
            resend,
            prompt_submit_task,
        ),
    ]
    queued = 0
    for queryset, every, task in work:
        # Claim each object by stamping it, so one sweep (or two at once) queues it once.
        stale = Q(last_polled_at=None) | Q(last_polled_at__lt=now - every)
        for pk in queryset.filter(stale).values_list("pk", flat=True):
            if queryset.model.objects.filter(stale, pk=pk).update(last_polled_at=now):
                task.delay(pk)
                queued += 1
    return queued


def _waiting_since_before(moment: datetime) -> Q:
    """Scenes not sent yet since before `moment`: waiting since their tune trained, or since
    staff sent them again."""
    return Q(
        status=Prompt.Status.WAITING,
        tune__status__in=[Tune.Status.GENERATING, Tune.Status.READY],
    ) & (Q(waiting_since__lt=moment) | Q(waiting_since=None, tune__trained_at__lt=moment))


def _deadlines_enforce(now: datetime) -> None:
    """Fail (with refunds) what has waited past its deadline, wherever it got stuck."""
    training_deadline = now - timedelta(seconds=settings.TRAINING_DEADLINE_SECONDS)
    for tune_id in Tune.objects.filter(
        Q(status=Tune.Status.TRAINING, submitted_at__lt=training_deadline)
        | Q(
            status__in=[Tune.Status.QUEUED, Tune.Status.SUBMITTING],
            queued_at__lt=training_deadline,
        )
    ).values_list("pk", flat=True):
        tune_fail(
            tune_id=tune_id, reason="Training took far longer than it should; we stopped waiting."
        )
    prompt_deadline = now - timedelta(seconds=settings.PROMPT_DEADLINE_SECONDS)
    for prompt_id in Prompt.objects.filter(
        Q(status=Prompt.Status.SUBMITTED, submitted_at__lt=prompt_deadline)
        | _waiting_since_before(prompt_deadline)
    ).values_list("pk", flat=True):
        prompt_fail(prompt_id=prompt_id, reason="This scene took far longer than it should.")
