"""Every page a customer sees, and rows and files that give each one something to show.

Shared by the accessibility test (tests/e2e/test_accessibility.py: axe-core and screenshots)
and `make lighthouse` (bench/lighthouse.py), so that both look at the same pages. The rows come
from tests/factories.py and the portal's own services; the files are stored in whatever storage
is the default (local files in tests, the S3 bucket on the production stack).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from accounts.credits import credits_debit, credits_grant
from accounts.models import User
from packs.models import Pack, PackSample
from tests import factories
from tests.images import photo_bytes
from tests.tunes.conftest import ready_selfie_set
from tunes import photoshoots
from tunes.models import Photo, Photoshoot, Prompt, TrainedModel
from uploads.models import SelfieSet

SCENES = ["{subject} in a navy suit", "{subject} smiling, studio light", "{subject} by the sea"]
OUT, IN, EMPTY = "out", "in", "empty"  # logged out, the busy user, the user with nothing yet


@dataclass(frozen=True)
class CustomerPage:
    name: str  # the screenshot's file name: <name>-<width>-<in|out>.png
    path: str
    states: tuple[str, ...]


@dataclass
class Journey:
    """A customer with something on every page, and one who has just signed up."""

    user: User
    newcomer: User
    pack: Pack
    selfie_set: SelfieSet
    training: Photoshoot
    generating: Photoshoot
    gallery: Photoshoot
    failed: Photoshoot
    photo: Photo

    def pages(self) -> list[CustomerPage]:
        sets = f"/sets/{self.selfie_set.code}/"
        both = (OUT, IN)
        return [
            CustomerPage("home", "/", (OUT,)),  # signed in, it is the dashboard
            CustomerPage("packs", "/packs/", both),
            CustomerPage("pack", f"/packs/{self.pack.slug}/", both),
            CustomerPage("login", "/accounts/login/", (OUT,)),
            CustomerPage("signup", "/accounts/signup/", (OUT,)),
            CustomerPage("verification-sent", "/accounts/confirm-email/", (OUT,)),
            CustomerPage("password-reset", "/accounts/password/reset/", both),
            CustomerPage("password-reset-sent", "/accounts/password/reset/done/", both),
            CustomerPage("404", "/no-such-page/", both),
            CustomerPage("dashboard-empty", "/dashboard/", (EMPTY,)),
            CustomerPage("dashboard", "/dashboard/", (IN,)),
            CustomerPage("sets", "/sets/", (IN,)),
            CustomerPage("set", sets, (IN,)),
            CustomerPage("set-new", "/sets/new/", (IN,)),
            CustomerPage("set-delete", f"{sets}delete/", (IN,)),
            CustomerPage("choose-set", "/photoshoots/new/", (IN,)),
            CustomerPage("pick-pack", f"/photoshoots/new/?set={self.selfie_set.code}", (IN,)),
            CustomerPage("models", "/models/", (IN,)),
            CustomerPage("training", self.url_of(self.training), (IN,)),
            CustomerPage("progress", self.url_of(self.generating), (IN,)),
            CustomerPage("gallery", self.url_of(self.gallery), (IN,)),
            CustomerPage("failed", self.url_of(self.failed), (IN,)),
            CustomerPage("photo", f"{self.url_of(self.gallery)}photos/{self.photo.code}/", (IN,)),
            CustomerPage("profile", "/profile/", (IN,)),
            CustomerPage("credits", "/credits/", (IN,)),
            CustomerPage("buy-credits", "/credits/buy/", (IN,)),
            CustomerPage("email", "/accounts/email/", (IN,)),
            CustomerPage("password-change", "/accounts/password/change/", (IN,)),
            CustomerPage("logout", "/accounts/logout/", (IN,)),
        ]

    @staticmethod
    def url_of(photoshoot: Photoshoot) -> str:
        return f"/photoshoots/{photoshoot.code}/"


def stored(name: str, *, size: tuple[int, int], seed: int) -> str:
    """Store a photo-like JPEG under `name`; the name storage gave it."""
    return storages["default"].save(name, ContentFile(photo_bytes(size, seed=seed)))


def pack_with_pictures(title: str, slug: str, *, samples: int) -> Pack:
    """A pack of SCENES with a cover and `samples` sample photos (none: its letter cover)."""
    pack = factories.PackFactory(title=title, slug=slug, description=f"{title}, in three scenes.")
    for order, template in enumerate(SCENES):
        factories.PackPromptFactory(pack=pack, template=template, order=order, num_images=2)
    if samples:
        pack.cover.save("cover.jpg", ContentFile(photo_bytes((800, 1000), seed=1)), save=True)
    for n in range(samples):
        sample = PackSample(pack=pack, order=n)
        sample.image.save(f"sample-{n}.jpg", ContentFile(photo_bytes((600, 750), seed=n + 2)))
    return pack


def photoshoot_of(
    model: TrainedModel, pack: Pack, status: str, *, scenes_done: int, seed: int
) -> Photoshoot:
    """A photoshoot of `pack` on `model`, paid for, whose first `scenes_done` scenes have their
    photos (stored at full size and as thumbnails)."""
    photoshoot = factories.PhotoshootFactory(
        owner=model.owner, model=model, pack=pack, price=pack.price, status=status
    )
    credits_debit(
        user=model.owner, amount=pack.price, reason=f"{pack.title} photoshoot", cause=photoshoot
    )
    waiting = status == Photoshoot.Status.TRAINING
    for order, template in enumerate(SCENES):
        done = order < scenes_done
        prompt = factories.PromptFactory(
            photoshoot=photoshoot,
            template=template,
            text=template.replace("{subject}", "ohwx woman"),
            order=order,
            status=Prompt.Status.DONE if done else _open_scene(waiting),
            astria_id=None if waiting else seed * 100 + order,
        )
        for index in range(prompt.num_images if done else 0):
            photo = factories.PhotoFactory(prompt=prompt, index=index)
            at = seed * 10 + order * 2 + index
            stored(str(photo.image), size=(1024, 1024), seed=at)
            stored(str(photo.thumbnail), size=(384, 384), seed=at)
    return photoshoot


def _open_scene(waiting: bool) -> str:
    return Prompt.Status.WAITING if waiting else Prompt.Status.SUBMITTED


def journey_create() -> Journey:
    """The rows and files of every customer page (a few seconds: eight selfies are checked)."""
    now = timezone.now()
    user = factories.UserFactory(email="ada@example.com", first_name="Ada")
    newcomer = factories.UserFactory(email="new@example.com", first_name="Grace")
    for person in (user, newcomer):
        credits_grant(user=person, amount=50, reason="Welcome credits")
    pack = pack_with_pictures("Studio headshots", "studio-headshots", samples=4)
    pack_with_pictures("By the sea", "by-the-sea", samples=0)
    selfie_set = ready_selfie_set(user)
    model = factories.TrainedModelFactory(
        owner=user,
        selfie_set=selfie_set,
        status=TrainedModel.Status.READY,
        astria_id=1001,
        trained_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=29),
    )
    later_set = ready_selfie_set(user)
    SelfieSet.objects.filter(pk=later_set.pk).update(name="Holiday")
    learning = factories.TrainedModelFactory(
        owner=user,
        selfie_set=later_set,
        status=TrainedModel.Status.TRAINING,
        astria_id=1002,
        eta=now + timedelta(minutes=14),
    )
    failed = photoshoot_of(model, pack, Photoshoot.Status.GENERATING, scenes_done=0, seed=4)
    photoshoots.photoshoot_fail(
        photoshoot_id=failed.pk, reason="Astria could not make these scenes."
    )
    gallery = photoshoot_of(model, pack, Photoshoot.Status.READY, scenes_done=3, seed=1)
    return Journey(
        user=user,
        newcomer=newcomer,
        pack=pack,
        selfie_set=selfie_set,
        training=photoshoot_of(learning, pack, Photoshoot.Status.TRAINING, scenes_done=0, seed=2),
        generating=photoshoot_of(model, pack, Photoshoot.Status.GENERATING, scenes_done=1, seed=3),
        gallery=gallery,
        failed=Photoshoot.objects.get(pk=failed.pk),
        photo=gallery.photos.all()[0],
    )
