"""factory_boy factories: every test row is made here, never by hand."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import User

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


class CreativeFactory(UserFactory):
    """Staff status (admin needs it) and the Creatives group; the group's permissions come
    with the packs admin."""

    is_staff = True

    @factory.post_generation
    def creatives_group(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            group, _ = Group.objects.get_or_create(name="Creatives")
            obj.groups.add(group)
