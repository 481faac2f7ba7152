"""What `manage.py demo_setup` adds for a development portal (never in production): pictures
for the demo packs, and a finished sample photoshoot in the demo account, so that `make run`
shows covers, samples and a gallery at once.

Nothing may be downloaded, so every picture is drawn by sandbox/render.py from a scene's
words, never from a photo of anyone. Each step is done once: a pack with a cover keeps it
(a creative's own too), and the sample photoshoot has a start token of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from importlib import import_module

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from packs.models import Pack, PackPrompt, PackSample
from packs.templating import scene_words
from sandbox.render import ASPECT_SIZES, scene_render
from uploads import storage

from .ingest import Fetched, result_store
from .models import Photo, Photoshoot, Prompt, TrainedModel

# The packs packs/migrations/0002_demo_packs.py made, by slug.
DEMO_PACK_SLUGS = [spec["slug"] for spec in import_module("packs.migrations.0002_demo_packs").PACKS]
SAMPLE_PACK_SLUG = "corporate-headshots"
SAMPLE_IMAGES_PER_SCENE = 2
COVER_SIZE = (1200, 900)  # the catalogue shows covers at 4:3
SAMPLE_SCALE = 2  # samples are shown small: half a result's size each way


@dataclass(frozen=True)
class SceneWords:
    """A template as a caption: "{subject} in a navy suit, studio headshot" reads "In a navy
    suit", then "studio headshot" (the scene's words as the gallery heads it, by clause)."""

    headline: str
    words: list[str]

    @classmethod
    def of(cls, template: str) -> SceneWords:
        clauses = [c.strip() for c in scene_words(template).split(",") if c.strip()] or ["You"]
        return cls(headline=clauses[0], words=clauses[1:])


def _draw(
    pack: Pack, prompt: PackPrompt, *, index: int, size: tuple[int, int], label: str
) -> bytes:
    scene = SceneWords.of(prompt.template)
    return scene_render(
        seed=f"{pack.slug}/{prompt.order}/{index}",
        headline=scene.headline,
        words=scene.words,
        size=size,
        label=label,
    )


def _result_size(prompt: PackPrompt) -> tuple[int, int]:
    return ASPECT_SIZES.get(prompt.aspect_ratio, ASPECT_SIZES["1:1"])


def _stored(name: str) -> bool:
    return bool(name) and storage.storage().exists(name)


def pack_pictures_ensure(*, pack: Pack) -> int:
    """Give `pack` a cover and one sample photo per scene if it has none (or their files are
    gone, as after deleting var/), in the storage its image fields use. Returns how many
    pictures it drew."""
    prompts = list(pack.prompts.all())
    if not prompts:
        return 0
    drawn = 0
    if not _stored(pack.cover.name):
        headline = SceneWords.of(prompts[0].template).headline
        cover = scene_render(
            seed=f"{pack.slug}/cover",
            headline=pack.title,
            words=[headline, *(SceneWords.of(p.template).headline for p in prompts[1:3])],
            size=COVER_SIZE,
            label="PhotoShoot pack",
            in_square=False,  # shown whole, at 4:3
        )
        pack.cover.save(f"{pack.slug}.jpg", ContentFile(cover), save=False)
        Pack.objects.filter(pk=pack.pk).update(cover=pack.cover.name)
        drawn += 1
    samples = list(pack.samples.all())
    lost = [sample.pk for sample in samples if not _stored(sample.image.name)]
    PackSample.objects.filter(pk__in=lost).delete()
    if len(lost) == len(samples):
        for order, prompt in enumerate(prompts):
            width, height = _result_size(prompt)
            size = (width // SAMPLE_SCALE, height // SAMPLE_SCALE)
            jpeg = _draw(pack, prompt, index=0, size=size, label=f"Sample · {pack.title}")
            sample = PackSample(pack=pack, order=order)
            sample.image.save(f"{pack.slug}-{order + 1}.jpg", ContentFile(jpeg), save=True)
            drawn += 1
    return drawn


def demo_packs_pictures_ensure() -> int:
    """pack_pictures_ensure for every demo pack that still exists; how many pictures drawn."""
    packs = Pack.objects.filter(slug__in=DEMO_PACK_SLUGS).prefetch_related("prompts", "samples")
    return sum(pack_pictures_ensure(pack=pack) for pack in packs)


def sample_token(user: User) -> uuid.UUID:
    """The start token of `user`'s sample photoshoot: the same on every run, one per user."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"photoshoot-demo-sample/{user.pk}")


@transaction.atomic
def sample_photoshoot_ensure(*, user: User) -> tuple[Photoshoot | None, bool]:
    """A ready photoshoot of the sample pack for `user`, with photos drawn from its scenes and
    stored like results (with thumbnails, in the user's folder), made once; says whether it is
    new. It is free and writes no line in the credit ledger: nobody bought it.

    Its model is ready but has no tune at Astria, so it expires at once (the sweep marks it
    expired): nothing can be started on it, and a real photoshoot trains a real model."""
    token = sample_token(user)
    existing = Photoshoot.objects.filter(owner=user, start_token=token).first()
    pack = Pack.objects.filter(slug=SAMPLE_PACK_SLUG).prefetch_related("prompts").first()
    if existing is not None or pack is None or not pack.classes:
        return existing, False
    now = timezone.now()
    model = TrainedModel.objects.create(
        owner=user,
        selfie_set=None,
        subject_class=pack.classes[0],
        status=TrainedModel.Status.READY,
        submitted_at=now,
        trained_at=now,
        expires_at=now,
    )
    photoshoot = Photoshoot.objects.create(
        owner=user,
        model=model,
        pack=pack,
        price=0,
        start_token=token,
        status=Photoshoot.Status.READY,
        finished_at=now,
    )
    for prompt in pack.prompts_for(model.subject_class):
        _sample_scene(photoshoot, pack, prompt)
    return photoshoot, True


def _sample_scene(photoshoot: Photoshoot, pack: Pack, pack_prompt: PackPrompt) -> None:
    now = timezone.now()
    prompt = Prompt.objects.create(
        photoshoot=photoshoot,
        pack_prompt=pack_prompt,
        template=pack_prompt.template,
        num_images=SAMPLE_IMAGES_PER_SCENE,
        options=pack_prompt.astria_options(),
        status=Prompt.Status.DONE,
        result_count=SAMPLE_IMAGES_PER_SCENE,
        order=pack_prompt.order,
        submitted_at=now,
        finished_at=now,
    )
    width, height = _result_size(pack_prompt)
    for index in range(SAMPLE_IMAGES_PER_SCENE):
        jpeg = _draw(pack, pack_prompt, index=index + 1, size=(width, height), label="Sample photo")
        image, thumbnail = result_store(
            Fetched(jpeg, width, height), owner=photoshoot.owner, folder="photos"
        )
        Photo.objects.create(
            photoshoot=photoshoot,
            prompt=prompt,
            index=index,
            image=image,
            thumbnail=thumbnail,
            width=width,
            height=height,
        )
