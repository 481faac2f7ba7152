"""The pack editor in admin, for creatives: prompts in order, checked as they are saved,
shown as Astria will receive them."""

from __future__ import annotations

import pytest

from packs.models import Pack, PackPrompt
from tests import factories
from tests.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack() -> Pack:
    pack = factories.PackFactory(title="Studio", classes=["woman", "man"])
    factories.PackPromptFactory(pack=pack, template="{subject} by the sea", order=2)
    factories.PackPromptFactory(pack=pack, template="{subject} in a navy suit", order=1)
    return pack


def url(pack: Pack) -> str:
    return f"/admin/packs/pack/{pack.pk}/change/"


def test_the_editor_shows_prompts_in_order_rendered_for_each_class(client, creative, pack):
    client.force_login(creative)
    html = client.get(url(pack)).content.decode()
    assert html.index("in a navy suit") < html.index("by the sea")
    assert "<strong>woman</strong>: <code>&lt;lora:TUNE_ID:1&gt; ohwx woman in a navy suit" in html
    assert "<strong>man</strong>: <code>&lt;lora:TUNE_ID:1&gt; ohwx man by the sea" in html
    assert "Preview this pack" in html


def test_a_creative_edits_a_prompt_and_sees_it_rendered(client, creative, pack):
    client.force_login(creative)
    data = admin_form_data(client.get(url(pack)))
    first = PackPrompt.objects.get(pack=pack, order=1)
    key = next(k for k, v in data.items() if k.endswith("-id") and v == first.pk)
    data[key.replace("-id", "-template")] = "{subject} in a {class}'s tuxedo, {token} smiling"
    data["_continue"] = "Save and continue editing"
    response = client.post(url(pack), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    first.refresh_from_db()
    assert first.template == "{subject} in a {class}'s tuxedo, {token} smiling"
    html = client.get(url(pack)).content.decode()
    assert "ohwx man in a man&#x27;s tuxedo, ohwx smiling" in html


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{subject} in a {colour} suit", "Unknown placeholder {colour}: use one of"),
        ("a woman in a navy suit", "The template must name the person with {subject}."),
        ("{subject} " + "very " * 250, "keep it under 1000"),
        ("{subject} in a {suit", "A { or } is not closed."),
        ("{subject:d} in a suit", "Write placeholders plainly, as {subject}"),
        ("{subject!r} in a suit", "Write placeholders plainly, as {subject}"),
        ("{subject.upper} in a suit", "Unknown placeholder {subject.upper}"),
    ],
)
def test_a_bad_template_is_refused_with_a_plain_message(client, creative, pack, template, message):
    client.force_login(creative)
    data = admin_form_data(client.get(url(pack)))
    key = next(k for k in data if k.endswith("-template"))
    before = {p.pk: p.template for p in pack.prompts.all()}
    data[key] = template
    response = client.post(url(pack), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert {p.pk: p.template for p in pack.prompts.all()} == before


def test_a_creative_adds_a_pack_and_reorders_packs(client, creative, pack):
    client.force_login(creative)
    response = client.get("/admin/packs/pack/add/")
    data = admin_form_data(response)
    data.update(
        {
            "title": "Van Gogh",
            "slug": "van-gogh",
            "price": "8",
            "classes": ["woman"],
            "is_active": "on",
            "order": "0",
            "prompts-TOTAL_FORMS": "1",
            "prompts-0-template": "{subject} painted in swirling brushstrokes",
            "prompts-0-num_images": "4",
            "prompts-0-aspect_ratio": "1:1",
            "prompts-0-order": "0",
        }
    )
    response = client.post("/admin/packs/pack/add/", data)
    assert response.status_code == 302
    added = Pack.objects.get(slug="van-gogh")
    assert added.classes == ["woman"]
    assert list(added.prompts.values_list("template", flat=True)) == [
        "{subject} painted in swirling brushstrokes"
    ]
    # The list edits the order of packs in place (same order: by title, Studio first).
    ours = Pack.objects.filter(pk__in=[pack.pk, added.pk])
    assert list(ours.values_list("slug", flat=True)) == [pack.slug, "van-gogh"]
    response = client.post(
        "/admin/packs/pack/",
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": str(added.pk),
            "form-0-order": "1",
            "form-0-is_active": "on",
            "form-1-id": str(pack.pk),
            "form-1-order": "5",
            "form-1-is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert list(ours.values_list("slug", flat=True)) == ["van-gogh", pack.slug]
