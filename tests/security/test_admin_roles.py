"""Hole 2 of the red-team pass: staff with `change_user` made themselves superuser.

The role matrix: a superuser, Support, a creative and staff with `change_user` only, over
every admin URL the resolver knows and every action. The tables say what each role may open;
a new admin URL fails `test_every_admin_url_is_in_the_matrix` until it is placed here."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from accounts.models import CreditEntry, OutboxEmail, User
from packs.models import RefusedWord
from payments.models import StripeEvent
from studio.models import PackPreview, PreviewSubject
from tests import factories
from tunes.models import Photoshoot, Pricing

pytestmark = pytest.mark.django_db

# Admin's own pages that every staff member reaches, and those a GET cannot judge: logging out
# is a POST, autocomplete needs its query, view_on_site redirects to the object's page, the
# login page sends someone signed in to the index (test_admin_login.py tries it).
SITE = {"index", "password_change", "password_change_done", "jsi18n"}
NOT_BY_GET = {"login", "logout", "autocomplete", "view_on_site"}
# Pages nobody opens: models, photoshoots and scenes start from the product, selfie sets from
# uploads; the price rules are one row, made already, that nobody deletes; the outbox is
# written by the product and pruned by beat. Credit packages are superusers' alone (prices).
NOBODY = {
    "accounts_outboxemail_add",
    "accounts_outboxemail_delete",
    "tunes_trainedmodel_add",
    "tunes_trainedmodel_delete",
    "tunes_photoshoot_add",
    "tunes_photoshoot_delete",
    "tunes_prompt_add",
    "tunes_prompt_delete",
    "tunes_pricing_add",
    "tunes_pricing_delete",
    "uploads_selfieset_add",
    # Purchases and Stripe's events are records of what Stripe said: read, never written.
    "payments_purchase_add",
    "payments_purchase_delete",
    "payments_stripeevent_add",
    "payments_stripeevent_delete",
}
# Pages for superusers alone: setting someone's password is taking over their account.
SUPERUSER_ONLY = {"auth_user_password_change"}


def pages(model: str, *names: str) -> set[str]:
    return {f"{model}_{name}" for name in names}


VIEW = ("changelist", "change", "history")
EVERYTHING = (*VIEW, "add", "delete")

# role: the admin URL names a GET of answers 200; every other one answers 403 (or 404 for
# an app's index with nothing in it for the role).
ALLOWED: dict[str, set[str]] = {
    "support": SITE
    | pages("accounts_user", *VIEW, "credits")
    | pages("tunes_photoshoot", *VIEW)
    | pages("tunes_trainedmodel", *VIEW)
    | pages("tunes_prompt", *VIEW)
    | {"app_list:accounts", "app_list:tunes"},
    "creative": SITE
    | pages("packs_pack", *EVERYTHING)
    | pages("studio_packpreview", *VIEW, "add", "delete")
    | pages("studio_previewsubject", *VIEW)
    | {"app_list:packs", "app_list:studio"},
    "change_user": SITE | pages("accounts_user", *VIEW) | {"app_list:accounts"},
}
# Actions each role is offered on each change list (Django's delete_selected included).
ACTIONS: dict[str, dict[str, set[str]]] = {
    "support": {
        "tunes/photoshoot": {
            "poll_now",
            "retry",
            "retry_failed_scenes",
            "mark_failed",
            "resend_ready_email",
        },
        "tunes/prompt": {"retry"},
        "tunes/trainedmodel": set(),
        "accounts/user": set(),
    },
    "creative": {
        "packs/pack": {"delete_selected"},
        "studio/packpreview": {"delete_selected"},
        "studio/previewsubject": set(),
    },
    "change_user": {"accounts/user": set()},
}


def admin_url_names(patterns: list[Any] | None = None) -> Iterator[tuple[str, URLPattern]]:
    for entry in admin.site.get_urls() if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from admin_url_names(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, entry


@pytest.fixture
def superuser(db: None) -> User:
    return factories.StaffFactory(email="root@example.com")


@pytest.fixture
def roles(superuser, creative) -> dict[str, User]:
    change_user = factories.UserFactory(email="helpdesk@example.com", is_staff=True)
    change_user.user_permissions.add(Permission.objects.get(codename="change_user"))
    return {
        "superuser": superuser,
        "support": factories.SupportFactory(email="support@example.com"),
        "creative": creative,
        "change_user": change_user,
    }


@pytest.fixture
def objects(owner) -> dict[str, Any]:
    """One object of every admin model, by the model's URL prefix."""
    photoshoot = factories.PhotoshootFactory(owner=owner)
    prompt = factories.PromptFactory(photoshoot=photoshoot)
    studio_account = factories.StaffFactory()
    sample_model = factories.TrainedModelFactory(owner=studio_account, status="ready")
    subject = PreviewSubject.objects.create(
        name="Anna", selfie_set=sample_model.selfie_set, model=sample_model
    )
    preview = factories.PhotoshootFactory(
        owner=studio_account,
        model=sample_model,
        pack=photoshoot.pack,
        kind=Photoshoot.Kind.PREVIEW,
        requested_by=owner,
        price=0,
    )
    return {
        "account_emailaddress": EmailAddress.objects.get(user=owner),
        "mfa_authenticator": TOTP.activate(owner, "JBSWY3DPEHPK3PXP").instance,
        "accounts_user": owner,
        "accounts_outboxemail": OutboxEmail.objects.create(
            subject="Ready", body="See it.", to=[owner.email], next_try_at=timezone.now()
        ),
        "auth_user": owner,  # Django names the password page after its own user model
        "auth_group": Group.objects.get(name="Support"),
        "uploads_selfieset": photoshoot.model.selfie_set,
        "packs_pack": photoshoot.pack,
        "packs_refusedword": RefusedWord.objects.create(word="forbidden"),
        "tunes_trainedmodel": photoshoot.model,
        "tunes_photoshoot": photoshoot,
        "tunes_prompt": prompt,
        "tunes_pricing": Pricing.current(),
        "studio_previewsubject": subject,
        "studio_packpreview": PackPreview.objects.get(pk=preview.pk),
        "payments_creditpackage": factories.CreditPackageFactory(),
        "payments_purchase": factories.PurchaseFactory(user=owner),
        "payments_stripeevent": StripeEvent.objects.create(
            event_id="evt_1", type="checkout.session.completed"
        ),
    }


def url_for(name: str, pattern: URLPattern, objects: dict[str, Any]) -> str:
    if name == "app_list":
        raise AssertionError("app_list is expanded per app")
    params = pattern.pattern.converters.keys()
    if not params:
        return reverse(f"admin:{name}")
    model = next(prefix for prefix in objects if name.startswith(prefix + "_"))
    key = "id" if "id" in params else "object_id"
    return reverse(f"admin:{name}", kwargs={key: objects[model].pk})


def every_get(objects: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(name, URL) for every admin page a GET can judge; an app's index once per app."""
    for name, pattern in admin_url_names():
        if name in NOT_BY_GET:
            continue
        if name == "app_list":
            for label in {m._meta.app_label for m in admin.site._registry}:
                yield f"app_list:{label}", reverse("admin:app_list", args=[label])
            continue
        yield name, url_for(name, pattern, objects)


def test_every_admin_url_is_in_the_matrix(objects):
    known = (
        SITE | NOT_BY_GET | NOBODY | SUPERUSER_ONLY | {"app_list"} | set().union(*ALLOWED.values())
    )
    standard = {f"{prefix}_{page}" for prefix in objects for page in EVERYTHING}
    unplaced = {name for name, _ in admin_url_names()} - known - standard
    assert not unplaced, f"say who may open these admin pages: {sorted(unplaced)}"


@pytest.mark.parametrize("role", ["superuser", "support", "creative", "change_user"])
def test_each_role_opens_exactly_its_admin_pages(client, roles, objects, role):
    client.force_login(roles[role])
    wrong = []
    for name, url in every_get(objects):
        status = client.get(url).status_code
        if role == "superuser":
            expected = {403} if name in NOBODY else {200}
        elif name in ALLOWED[role]:
            expected = {200}
        else:
            expected = {403, 404} if name.startswith("app_list:") else {403}
        if status not in expected:
            wrong.append(f"{name} {url}: {status}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


def offered_actions(client: Client, changelist: str) -> set[str]:
    html = client.get(changelist).content.decode()
    select = re.search(r'<select name="action"[^>]*>(.*?)</select>', html, re.S)
    options = set(re.findall(r'<option value="(\w+)"', select.group(1))) if select else set()
    return options


@pytest.mark.parametrize("role", ["support", "creative", "change_user"])
def test_each_role_is_offered_exactly_its_actions(client, roles, objects, role):
    client.force_login(roles[role])
    for model, expected in ACTIONS[role].items():
        assert offered_actions(client, f"/admin/{model}/") == expected, model


def test_a_superuser_is_offered_every_action(client, roles, objects):
    client.force_login(roles["superuser"])
    for modeladmin in admin.site._registry.values():
        opts = modeladmin.model._meta
        declared = {name for name in modeladmin.actions or []}
        offered = offered_actions(client, f"/admin/{opts.app_label}/{opts.model_name}/")
        assert declared <= offered, opts.label


def test_an_action_a_role_is_not_offered_does_nothing(client, roles, objects):
    photoshoot = objects["tunes_photoshoot"]
    client.force_login(roles["change_user"])
    response = client.post(
        "/admin/tunes/photoshoot/", {"action": "mark_failed", "_selected_action": [photoshoot.pk]}
    )
    assert response.status_code == 403
    client.force_login(roles["creative"])
    client.post("/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [1]})
    photoshoot.refresh_from_db()
    assert photoshoot.status != Photoshoot.Status.FAILED
    assert User.objects.filter(pk=objects["accounts_user"].pk).exists()


# --- The escalation itself ----------------------------------------------------------------


def user_form(user: User, **changes: Any) -> dict[str, Any]:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "credit_entries-TOTAL_FORMS": "0",
        "credit_entries-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_staff_with_change_user_cannot_make_themselves_superuser(client, roles):
    me = roles["change_user"]
    client.force_login(me)
    support = Group.objects.get(name="Support")
    everything = list(Permission.objects.values_list("pk", flat=True))

    client.post(
        f"/admin/accounts/user/{me.pk}/change/",
        user_form(
            me,
            is_staff="on",
            is_superuser="on",
            groups=[support.pk],
            user_permissions=everything,
            email="root2@example.com",
        ),
    )

    me.refresh_from_db()
    assert not me.is_superuser
    assert me.email == "helpdesk@example.com"
    assert not me.groups.exists()
    assert list(me.user_permissions.values_list("codename", flat=True)) == ["change_user"]


def test_staff_with_change_user_cannot_raise_a_customer_or_move_their_email(client, roles, owner):
    client.force_login(roles["change_user"])
    page = client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    for field in ("is_superuser", "is_staff", "groups", "user_permissions", "email"):
        assert f'name="{field}"' not in page, field

    response = client.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        user_form(owner, first_name="Ann", is_staff="on", is_superuser="on", email="x@evil.test"),
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.first_name == "Ann"  # what they may change, they change
    assert (owner.is_staff, owner.is_superuser, owner.email) == (False, False, "owner@example.com")


def test_staff_with_change_user_cannot_touch_another_staff_account(client, roles):
    client.force_login(roles["change_user"])
    root = roles["superuser"]
    response = client.post(
        f"/admin/accounts/user/{root.pk}/change/", user_form(root, first_name="Owned")
    )
    assert response.status_code == 403
    for target in (root, roles["support"]):
        assert client.get(f"/admin/accounts/user/{target.pk}/password/").status_code == 403
        response = client.post(
            f"/admin/accounts/user/{target.pk}/password/",
            {"password1": "taken-over-9-times", "password2": "taken-over-9-times"},
        )
        assert response.status_code == 403
        target.refresh_from_db()
        assert not target.check_password("taken-over-9-times")


def test_only_a_superuser_sets_a_password_in_admin(client, roles, owner):
    client.force_login(roles["change_user"])
    assert client.get(f"/admin/accounts/user/{owner.pk}/password/").status_code == 403
    client.force_login(roles["superuser"])
    response = client.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {
            "password1": "a-new-long-password-5",
            "password2": "a-new-long-password-5",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-new-long-password-5")


def test_support_cannot_edit_their_own_group_or_any_group(client, roles):
    client.force_login(roles["support"])
    group = Group.objects.get(name="Support")
    everything = list(Permission.objects.values_list("pk", flat=True))
    response = client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "Support", "permissions": everything}
    )
    assert response.status_code == 403
    assert not roles["support"].has_perm("auth.change_group")
    assert group.permissions.count() < len(everything)


def test_support_grants_credits_and_change_user_alone_cannot(client, roles, owner):
    client.force_login(roles["support"])
    response = client.post(
        f"/admin/accounts/user/{owner.pk}/credits/", {"amount": 5, "reason": "Sorry for the wait"}
    )
    assert response.status_code == 302
    assert CreditEntry.objects.get(user=owner).created_by == roles["support"]

    client.force_login(roles["change_user"])
    response = client.post(
        f"/admin/accounts/user/{owner.pk}/credits/", {"amount": 5, "reason": "Free money"}
    )
    assert response.status_code == 403
    assert CreditEntry.objects.filter(user=owner).count() == 1


def test_the_migration_makes_the_support_group_with_exactly_its_permissions(db):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    Group.objects.filter(name="Support").delete()
    # The group as the redesign's migration leaves it (0005 made it with the tune's rights).
    state = MigrationLoader(connection).project_state(("tunes", "0008_photoshoot_fields"))
    migration = importlib.import_module("tunes.migrations.0008_photoshoot_fields")
    migration.Migration.operations[-1].code(state.apps, None)
    codenames = set(
        Group.objects.get(name="Support").permissions.values_list("codename", flat=True)
    )
    assert codenames == {
        "view_user",
        "view_creditentry",
        "grant_credits",
        "view_photoshoot",
        "change_photoshoot",
        "view_trainedmodel",
        "view_prompt",
        "change_prompt",
        "view_photo",
        "view_callbackevent",
        "view_astriacall",
    }


def test_staff_given_email_address_permissions_still_cannot_move_an_address(client, owner):
    clerk = factories.UserFactory(email="clerk@example.com", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_emailaddress", "change_emailaddress"])
    )
    address = EmailAddress.objects.get(user=owner)
    client.force_login(clerk)

    response = client.post(
        f"/admin/account/emailaddress/{address.pk}/change/",
        {"user": owner.pk, "email": "thief@evil.test", "verified": "on", "primary": "on"},
    )

    assert response.status_code == 403
    address.refresh_from_db()
    assert address.email == "owner@example.com"


def test_support_cannot_grant_credits_to_themselves_or_other_staff(client, roles):
    client.force_login(roles["support"])
    for target in (roles["support"], roles["creative"], roles["superuser"]):
        url = f"/admin/accounts/user/{target.pk}/credits/"
        assert client.get(url).status_code == 403
        assert client.post(url, {"amount": 500, "reason": "Bonus"}).status_code == 403
    assert not CreditEntry.objects.exists()
