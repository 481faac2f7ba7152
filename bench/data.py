"""Rows and files the benchmarks need, made through the portal's own models and services."""

from __future__ import annotations

import io
import random
import uuid

from PIL import Image, ImageDraw, ImageFilter


def camera_jpeg(size: tuple[int, int], *, seed: int) -> bytes:
    """A JPEG with a camera's amount of detail: gradients, shapes and sensor-like noise."""
    rng = random.Random(seed)  # noqa: S311 - pictures, not secrets
    w, h = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randrange(w // 20, w // 4)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    noise = Image.effect_noise(size, 24).convert("RGB")
    image = Image.blend(image.filter(ImageFilter.GaussianBlur(2)), noise, 0.25)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def user(credits: int = 0) -> object:
    from accounts.credits import credits_grant
    from accounts.models import User

    person = User.objects.create_user(f"bench-{uuid.uuid4().hex[:10]}@example.com")
    if credits:
        credits_grant(user=person, amount=credits, reason="Benchmark")
    return person


def pack_of(*, prompts: int, images: int) -> object:
    from packs.models import Pack, PackPrompt

    pack = Pack.objects.create(
        title="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", price=10, classes=["woman"]
    )
    PackPrompt.objects.bulk_create(
        PackPrompt(
            pack=pack, template=f"{{subject}}, scene {n}", num_images=images, order=n, seed=n
        )
        for n in range(prompts)
    )
    return pack


def photoshoot_with_prompts(*, prompts: int, status: str) -> object:
    """A generating photoshoot of a new user, on a trained model of theirs, with `prompts`
    prompts in `status`, each with an Astria id."""
    from tunes.models import Photoshoot, Prompt, TrainedModel

    owner = user()
    model = TrainedModel.objects.create(
        owner=owner,
        subject_class="woman",
        status=TrainedModel.Status.READY,
        astria_id=random.randrange(10**9, 2 * 10**9),  # noqa: S311 - an id, not a secret
        callback_secret_hash="",
    )
    photoshoot = Photoshoot.objects.create(
        owner=owner,
        model=model,
        pack=pack_of(prompts=1, images=4),
        price=10,
        start_token=uuid.uuid4(),
        status=Photoshoot.Status.GENERATING,
    )
    base = random.randrange(10**9, 2 * 10**9)  # noqa: S311
    Prompt.objects.bulk_create(
        Prompt(
            photoshoot=photoshoot,
            template="{subject}",
            text="x",
            num_images=4,
            status=status,
            astria_id=base + n,
            order=n,
            callback_secret_hash="",
        )
        for n in range(prompts)
    )
    return photoshoot


def finished_photoshoot(*, photos: int) -> object:
    """A ready photoshoot with `photos` photos (rows only: the gallery signs URLs, it reads no
    file)."""
    from tunes.models import Photo, Photoshoot
    from uploads import storage

    photoshoot = photoshoot_with_prompts(prompts=max(1, -(-photos // 4)), status="done")
    Photoshoot.objects.filter(pk=photoshoot.pk).update(status=Photoshoot.Status.READY)
    prompts = list(photoshoot.prompts.all())
    Photo.objects.bulk_create(
        Photo(
            photoshoot=photoshoot,
            prompt=prompts[n // 4],
            index=n % 4,
            image=storage.new_key(photoshoot.owner, "photos", ".jpg"),
            thumbnail=storage.new_key(photoshoot.owner, "photos", "-thumb.jpg"),
            width=1024,
            height=1024,
        )
        for n in range(photos)
    )
    return Photoshoot.objects.get(pk=photoshoot.pk)


def funded_user_with_selfies(count: int = 6) -> tuple[object, object]:
    """A user with credits and a set of `count` verified selfies, through the upload services."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from uploads import services
    from uploads.models import SelfieSet

    person = user(credits=100)
    selfie_set = SelfieSet.objects.create(owner=person, name="Me", subject_class="woman")
    for n in range(count):
        content = camera_jpeg((1200, 1500), seed=100 + n)
        selfie, _ = services.selfie_upload_start(
            selfie_set=selfie_set, filename=f"{n}.jpg", content_type="image/jpeg", size=len(content)
        )
        storages["default"].save(selfie.upload_key, ContentFile(content))
        services.selfie_finish_upload(selfie=selfie)
    return person, selfie_set
