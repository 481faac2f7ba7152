"""Who sees what in admin: staff everything they run, creatives packs and previews only,
customers nothing at all."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group

from tests import factories

pytestmark = pytest.mark.django_db

# {owner}, {set}, {model}, {photoshoot}, {prompt}, {pack}, {preview}: objects made by `urls`.
STAFF_PAGES = [
    "/admin/accounts/user/",
    "/admin/accounts/user/{owner}/change/",
    "/admin/accounts/user/{owner}/credits/",
    "/admin/uploads/selfieset/",
    "/admin/uploads/selfieset/{set}/change/",
    "/admin/tunes/trainedmodel/",
    "/admin/tunes/trainedmodel/{model}/change/",
    "/admin/tunes/photoshoot/",
    "/admin/tunes/photoshoot/{photoshoot}/change/",
    "/admin/tunes/prompt/",
    "/admin/tunes/prompt/{prompt}/change/",
    "/admin/tunes/pricing/",
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
    "/admin/studio/packpreview/{preview}/change/",
    "/admin/studio/previewsubject/",
]


@pytest.fixture
def urls(owner, staff) -> dict[str, int]:
    photoshoot = factories.PhotoshootFactory(owner=owner)
    prompt = factories.PromptFactory(photoshoot=photoshoot)
    # A preview is a photoshoot of the studio's account on a sample subject's model.
    preview = factories.PhotoshootFactory(owner=staff, kind="preview", pack=photoshoot.pack)
    return {
        "owner": owner.pk,
        "set": photoshoot.model.selfie_set_id,
        "model": photoshoot.model_id,
        "photoshoot": photoshoot.pk,
        "prompt": prompt.pk,
        "pack": photoshoot.pack_id,
        "preview": preview.pk,
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


def test_a_customers_photoshoot_is_no_preview(client, creative, urls):
    client.force_login(creative)
    # The proxy shows previews only: a customer's photoshoot is not found through it.
    response = client.get(f"/admin/studio/packpreview/{urls['photoshoot']}/change/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "doesn’t exist" in response.content.decode()
    listed = client.get("/admin/studio/packpreview/").context["cl"].result_list
    assert [p.pk for p in listed] == [urls["preview"]]


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


def test_the_creatives_group_has_no_rights_on_models_photoshoots_or_prices(creative):
    codenames = {
        (p.content_type.app_label, p.codename)
        for p in Group.objects.get(name="Creatives").permissions.select_related("content_type")
    }
    assert ("studio", "add_packpreview") in codenames
    assert ("studio", "view_packpreview") in codenames
    assert not {c for app, c in codenames if app == "tunes"}
    assert not {c for _, c in codenames if "photoshoot" in c or "trainedmodel" in c}
    assert not {c for _, c in codenames if "pricing" in c or "user" in c or "selfie" in c}
