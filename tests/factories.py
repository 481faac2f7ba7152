"""factory_boy factories: every test row is made here, never by hand."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.apps import apps as django_apps
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import Role
from payments.models import CreditPackage, Purchase
from studio.roles import CREATIVES
from tunes.roles import SUPPORT
from uploads.storage import new_key

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    """A user who can log in with PASSWORD, with a verified primary e-mail address."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


def role_join(user: User, role: Role) -> None:
    """Put `user` in the role's group. Transactional tests empty the database, groups
    included, so the group is made again here from the definition its migration uses."""
    role.ensure(django_apps)
    user.groups.add(Group.objects.get(name=role.name))


class CreativeFactory(UserFactory):
    """Staff status (admin needs it) and the Creatives group."""

    is_staff = True
    role = factory.PostGeneration(
        lambda user, create, *_, **__: create and role_join(user, CREATIVES)
    )


class SupportFactory(UserFactory):
    """Staff status and the Support group."""

    is_staff = True
    role = factory.PostGeneration(
        lambda user, create, *_, **__: create and role_join(user, SUPPORT)
    )


class PackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "packs.Pack"

    title = factory.Sequence(lambda n: f"Pack {n}")
    slug = factory.Sequence(lambda n: f"pack-{n}")
    price = 9
    classes = factory.LazyFunction(lambda: ["woman", "man"])


class PackPromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "packs.PackPrompt"

    pack = factory.SubFactory(PackFactory)
    template = "{subject} in a navy suit"
    num_images = 2
    order = factory.Sequence(int)


class SelfieSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "uploads.SelfieSet"

    owner = factory.SubFactory(UserFactory)
    name = "Me"
    subject_class = "woman"


class TrainedModelFactory(factory.django.DjangoModelFactory):
    """A model row as training leaves it; no Astria involved (use the sandbox for that)."""

    class Meta:
        model = "tunes.TrainedModel"

    owner = factory.SubFactory(UserFactory)
    selfie_set = factory.SubFactory(SelfieSetFactory, owner=factory.SelfAttribute("..owner"))
    subject_class = "woman"
    callback_secret_hash = ""


class PhotoshootFactory(factory.django.DjangoModelFactory):
    """A photoshoot row as the engine leaves it, on a model of its owner."""

    class Meta:
        model = "tunes.Photoshoot"

    owner = factory.SubFactory(UserFactory)
    model = factory.SubFactory(TrainedModelFactory, owner=factory.SelfAttribute("..owner"))
    pack = factory.SubFactory(PackFactory)
    price = 9
    start_token = factory.Faker("uuid4", cast_to=None)


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tunes.Prompt"

    photoshoot = factory.SubFactory(PhotoshootFactory)
    template = "{subject} in a navy suit"
    num_images = 2
    order = factory.Sequence(int)
    callback_secret_hash = ""


class PhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tunes.Photo"

    prompt = factory.SubFactory(PromptFactory)
    photoshoot = factory.SelfAttribute("prompt.photoshoot")
    index = factory.Sequence(int)
    # Keys in the folder ingest puts them in (the owner's; the studio's for a preview);
    # nothing is stored under them.
    image = factory.LazyAttribute(lambda o: new_key(o.photoshoot.storage_owner, "photos", ".jpg"))
    thumbnail = factory.LazyAttribute(
        lambda o: new_key(o.photoshoot.storage_owner, "photos", "-thumb.jpg")
    )
    width = 1024
    height = 1024


class CreditPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPackage

    name = factory.Sequence(lambda n: f"Package {n}")
    credits = 100
    price = 2500
    currency = "eur"


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A purchase waiting for its payment at Stripe, with its Checkout Session's id."""

    class Meta:
        model = Purchase

    user = factory.SubFactory(UserFactory)
    package = factory.SubFactory(CreditPackageFactory)
    credits = factory.LazyAttribute(lambda p: p.package.credits)
    amount = factory.LazyAttribute(lambda p: p.package.price)
    currency = factory.LazyAttribute(lambda p: p.package.currency)
    checkout_session_id = factory.Sequence(lambda n: f"cs_test_{n:06d}")
