"""Who sees what in admin: staff everything they run, creatives packs and previews only,
customers nothing at all."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group

from tests import factories

pytestmark = pytest.mark.django_db

# {owner}, {set}, {tune}, {prompt}, {pack}: objects made by `urls`.
STAFF_PAGES = [
    "/admin/accounts/user/",
    "/admin/accounts/user/{owner}/change/",
    "/admin/accounts/user/{owner}/credits/",
    "/admin/uploads/selfieset/",
    "/admin/uploads/selfieset/{set}/change/",
    "/admin/tunes/tune/",
    "/admin/tunes/tune/{tune}/change/",
    "/admin/tunes/prompt/",
    "/admin/tunes/prompt/{prompt}/change/",
    "/admin/studio/previewsubject/add/",
    "/admin/auth/group/",
    "/admin/accounts/user/add/",
]
CREATIVE_PAGES = [
    "/admin/",
    "/admin/packs/pack/",
    "/admin/packs/pack/add/",
    "/admin/packs/pack/{pack}/change/",
    "/admin/studio/packpreview/",
    "/admin/studio/packpreview/add/",
    "/admin/studio/previewsubject/",
]


@pytest.fixture
def urls(owner) -> dict[str, int]:
    tune = factories.TuneFactory(owner=owner)
    prompt = factories.PromptFactory(tune=tune)
    return {
        "owner": owner.pk,
        "set": tune.selfie_set_id,
        "tune": tune.pk,
        "prompt": prompt.pk,
        "pack": tune.pack_id,
    }


def test_staff_open_every_page(client, staff, urls):
    client.force_login(staff)
    for page in STAFF_PAGES + CREATIVE_PAGES:
        assert client.get(page.format(**urls)).status_code == 200, page


def test_creatives_open_packs_and_previews_and_nothing_else(client, creative, urls):
    client.force_login(creative)
    for page in CREATIVE_PAGES:
        assert client.get(page.format(**urls)).status_code == 200, page
    for page in STAFF_PAGES:
        assert client.get(page.format(**urls)).status_code in (403, 404), page
    index = client.get("/admin/").context["app_list"]
    assert {app["app_label"]: [m["object_name"] for m in app["models"]] for app in index} == {
        "packs": ["Pack"],
        "studio": ["PackPreview", "PreviewSubject"],
    }


def test_customers_are_sent_to_the_admin_login(client, owner, urls):
    client.force_login(owner)
    for page in STAFF_PAGES + CREATIVE_PAGES:
        response = client.get(page.format(**urls))
        assert response.status_code == 302, page
        assert response["Location"].startswith("/admin/login/"), page


def test_the_migration_makes_the_creatives_group_with_its_permissions(db):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    Group.objects.filter(name="Creatives").delete()
    state = MigrationLoader(connection).project_state(("studio", "0002_creatives_group"))
    migration = importlib.import_module("studio.migrations.0002_creatives_group")
    migration.Migration.operations[0].code(state.apps, None)
    group = Group.objects.get(name="Creatives")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"change_pack", "add_packprompt", "delete_packsample", "add_packpreview"} <= codenames
    assert not {c for c in codenames if "tune" in c or "user" in c or "selfie" in c}
