"""Sample subjects and pack previews, on the generation engine (tunes/): a subject trains as a
customer's model does, and a preview is a photoshoot of its staff account, free and without
e-mails. Nothing here talks to Astria itself, and a preview never touches a customer's photos.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import User
from packs.models import Pack
from packs.templating import TRIGGER_WORD, TemplateError, prompt_render
from tunes import training
from tunes.models import Photoshoot, TrainedModel
from tunes.photoshoots import Scene, photoshoot_create
from uploads.models import Selfie
from uploads.services import storage_objects_delete_after_commit

from .models import PackPreview, PreviewSubject


class CannotPreview(Exception):
    """A subject that cannot train or a preview that cannot run; the message says why."""


def subject_train(*, subject: PreviewSubject) -> TrainedModel:
    """Train the subject (again: after a failure, or once Astria has deleted its model) on the
    photos of its set; the training is sent once this commits."""
    selfie_set = subject.selfie_set
    if not selfie_set.owner.is_staff:
        raise CannotPreview("Sample photos must be in a staff account's set, never a customer's.")
    ready = selfie_set.selfies.filter(status=Selfie.Status.READY).count()
    if ready < settings.SELFIES_MIN:
        raise CannotPreview(f"“{selfie_set}” has {ready} photos; it needs {settings.SELFIES_MIN}.")
    with transaction.atomic():
        locked = PreviewSubject.objects.select_for_update().get(pk=subject.pk)
        current = locked.model
        if current is not None and current.status in training.UNFINISHED:
            raise CannotPreview(f"{subject.name} is training already.")
        model = training.model_create(owner=selfie_set.owner, selfie_set=selfie_set)
        PreviewSubject.objects.filter(pk=subject.pk).update(model=model)
    subject.model = model
    return model


def preview_start(*, pack: Pack, subject: PreviewSubject, user: User) -> PackPreview:
    """Run the pack's prompts, as they are now, on a trained subject."""
    model = subject.model
    if model is None or not subject.ready or model.astria_id is None:
        raise CannotPreview(f"{subject.name} is not trained yet: pick a subject that is ready.")
    # Inactive packs too: creatives preview a pack before it goes on sale.
    pack_prompts = pack.prompts_for(model.subject_class)
    if model.subject_class not in pack.classes or not pack_prompts:
        raise CannotPreview(
            f"“{pack.title}” has no prompts for a {model.subject_class}: "
            "pick a subject of a class the pack is for."
        )
    for pack_prompt in pack_prompts:
        try:
            prompt_render(
                pack_prompt.template,
                tune_id=model.astria_id,
                token=TRIGGER_WORD,
                subject_class=model.subject_class,
            )
        except TemplateError as exc:
            raise CannotPreview(f"A prompt of “{pack.title}” was refused: {exc}") from None
    with transaction.atomic():
        photoshoot = photoshoot_create(
            owner=model.owner,
            model=model,
            pack=pack,
            scenes=[Scene.of(pack_prompt) for pack_prompt in pack_prompts],
            price=0,
            kind=Photoshoot.Kind.PREVIEW,
            requested_by=user,
        )
    return PackPreview.objects.get(pk=photoshoot.pk)


def preview_delete(*, preview: Photoshoot) -> None:
    """Delete a preview and, once that has committed, its images."""
    names = [name for pair in preview.photos.values_list("image", "thumbnail") for name in pair]
    preview.delete()
    storage_objects_delete_after_commit(names)
