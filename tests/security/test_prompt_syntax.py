"""Hole 1 of the red-team pass: a creative wrote `<lora:1504950:1> {subject} as a Van Gogh
portrait` (1504950: another customer's tune) and the preview rendered that customer's face.

Everything Astria reads as more than words is refused when a template is saved (the admin
form), when a customer sends their own idea, and again when a scene's text is built as it is
sent (photoshoots and previews alike), and the text sent names exactly one LoRA: the
photoshoot's model's own."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.credits import credits_grant
from accounts.models import CreditEntry
from packs.models import PackPrompt
from packs.templating import (
    TemplateError,
    idea_check,
    prompt_render,
    prompt_text_check,
    template_check,
)
from studio import services as studio
from studio.models import PackPreview
from tests import factories
from tests.admin_forms import admin_form_data
from tests.tunes.conftest import (  # noqa: F401 - fixtures used here
    funded_owner,
    loopback,
    pack,
    portal,
    ready_selfie_set,
    sandbox,
    start,
)
from tunes.models import Photoshoot, Prompt
from tunes.photoshoots import Scene, photoshoot_create

STOLEN_FACE = "<lora:1504950:1> {subject} as a Van Gogh portrait"

ASTRIA_SYNTAX = [
    STOLEN_FACE,
    "{subject} as a Van Gogh portrait <lora:1504950:1>",
    "{subject} <faceid:1504950:1> in a suit",
    "{subject} <lyco:77:0.8>",
    "{subject} ＜lora:1504950:1＞ in a suit",  # full-width look-alikes
    "{subject} in a suit --tiled_upscale",
    "{subject} in a suit,--hires_cfg_scale 9",
    "{subject} BREAK a second person",
    "{subject} with {{eye_color}} eyes",
    "{subject} in a suit\nnum_images=8",
    "{subject} in a suit, negative_prompt=smile",
    "({subject}:1.4) in a suit",
    "(smiling:.5) {subject}",
    "{subject}\tin a suit",
    "{subject}\u2028num_images=8",
    "{subject}\x85in a suit",
]


@pytest.mark.parametrize("template", ASTRIA_SYNTAX)
def test_it_refuses_every_astria_syntax_in_a_template(template):
    with pytest.raises(TemplateError):
        template_check(template)


@pytest.mark.parametrize("template", ASTRIA_SYNTAX)
def test_it_refuses_the_syntax_again_when_the_text_is_built(template):
    with pytest.raises(TemplateError):
        prompt_render(template, tune_id=42, token="ohwx", subject_class="man")


@pytest.mark.parametrize(
    ("token", "subject_class"),
    [("ohwx", "man <lora:1504950:1>"), ("<lora:1504950:1>", "man"), ("ohwx --flag", "man")],
)
def test_the_text_cannot_gain_syntax_from_the_token_or_class(token, subject_class):
    with pytest.raises(TemplateError):
        prompt_render("{subject} in a suit", tune_id=42, token=token, subject_class=subject_class)


def test_the_text_names_exactly_one_lora_the_photoshoots_own():
    text = prompt_render(
        "a painting of {subject}, oil", tune_id=42, token="ohwx", subject_class="man"
    )
    assert text == "<lora:42:1> a painting of ohwx man, oil"


@pytest.mark.parametrize(
    "template",
    [
        "{subject} in a navy suit, studio light, 85mm, f/1.8",
        "a painting of {subject} in the style of Van Gogh (1889)",
        "{subject} smiling: candid, warm light; film grain",
        "{subject}'s portrait, 50% grey backdrop, well-lit",
    ],
)
def test_plain_prompts_still_pass(template):
    template_check(template)


@pytest.mark.django_db
def test_the_pack_editor_refuses_a_template_with_another_customers_lora(client, creative):
    van_gogh = factories.PackFactory(title="Van Gogh", classes=["man"])
    prompt = factories.PackPromptFactory(pack=van_gogh, template="{subject} as a Van Gogh portrait")
    client.force_login(creative)
    url = f"/admin/packs/pack/{van_gogh.pk}/change/"
    data = admin_form_data(client.get(url))
    key = next(k for k, v in data.items() if k.endswith("-id") and v == prompt.pk)
    data[key.replace("-id", "-template")] = STOLEN_FACE

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Remove &lt; and &gt;: Astria reads &lt;…&gt; as a tag" in response.content.decode()
    prompt.refresh_from_db()
    assert prompt.template == "{subject} as a Van Gogh portrait"


@pytest.mark.django_db
def test_the_pack_editor_refuses_a_new_prompt_with_a_flag(client, creative):
    van_gogh = factories.PackFactory(title="Van Gogh", classes=["man"])
    client.force_login(creative)
    url = f"/admin/packs/pack/{van_gogh.pk}/change/"
    data = admin_form_data(client.get(url))
    data.update(
        {
            "prompts-TOTAL_FORMS": "1",
            "prompts-0-template": "{subject} --tiled_upscale",
            "prompts-0-num_images": "4",
            "prompts-0-aspect_ratio": "1:1",
            "prompts-0-order": "0",
            "prompts-0-super_resolution": "on",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Remove --flags" in response.content.decode()
    assert not PackPrompt.objects.filter(pack=van_gogh).exists()


def test_a_photoshoot_never_sends_a_template_saved_before_the_rules(portal, funded_owner, pack):  # noqa: F811
    """A template already in the database (saved before these rules, or written around the
    form) fails its own scene with a refund; the others run on the model's LoRA only."""
    bad = pack.prompts.order_by("order").first()
    PackPrompt.objects.filter(pk=bad.pk).update(template=STOLEN_FACE)
    selfie_set = ready_selfie_set(funded_owner)

    photoshoot = start(funded_owner, selfie_set, pack)

    photoshoot.refresh_from_db()
    assert photoshoot.status == Photoshoot.Status.READY, photoshoot.failure_reason
    refused = Prompt.objects.get(photoshoot=photoshoot, template=STOLEN_FACE)
    assert refused.status == Prompt.Status.FAILED
    assert refused.astria_id is None
    assert refused.failure_reason.startswith("This scene's prompt was refused: Remove < and >")
    sent = list(photoshoot.prompts.exclude(pk=refused.pk).values_list("text", flat=True))
    assert_own_lora_only(sent, photoshoot.model.astria_id)
    assert CreditEntry.objects.filter(user=funded_owner, kind="refund").count() == 1
    assert prompt_posts(portal) == 2


def prompt_posts(portal) -> int:  # noqa: F811
    """How many scenes were sent to Astria (its lookups, by GET, send nothing)."""
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    return log.count(("POST", "/tunes/1504944/prompts"))


def assert_own_lora_only(sent: list[str], astria_id: int | None) -> None:
    assert len(sent) == 2
    assert all(text.count("<lora:") == 1 for text in sent)
    assert all(text.startswith(f"<lora:{astria_id}:1> ") for text in sent)
    assert "1504950" not in " ".join(sent)


def test_a_preview_refuses_a_pack_with_such_a_template(portal, staff, pack):  # noqa: F811
    from tests.studio.conftest import subject_for

    subject = subject_for(staff)
    PackPrompt.objects.filter(pk=pack.prompts.first().pk).update(template=STOLEN_FACE)

    with pytest.raises(studio.CannotPreview) as info:
        studio.preview_start(pack=pack, subject=subject, user=staff)

    assert "was refused: Remove < and >" in str(info.value)
    assert not PackPreview.objects.exists()


def test_a_preview_scene_saved_before_the_rules_is_never_sent(portal, staff, pack):  # noqa: F811
    """A preview's scenes are rendered and checked as they are sent, as a customer's are: a
    preview started before the rules (preview_start checks them now) sends its clean scenes
    on the subject's LoRA alone and never the copied template."""
    from tests.studio.conftest import subject_for

    subject = subject_for(staff)
    model = subject.model
    PackPrompt.objects.filter(pk=pack.prompts.order_by("order").first().pk).update(
        template=STOLEN_FACE
    )
    before = prompt_posts(portal)

    with transaction.atomic():
        preview = photoshoot_create(
            owner=model.owner,
            model=model,
            pack=pack,
            scenes=[Scene.of(p) for p in pack.prompts_for(model.subject_class)],
            price=0,
            kind=Photoshoot.Kind.PREVIEW,
            requested_by=staff,
        )

    refused = preview.prompts.get(template=STOLEN_FACE)
    assert refused.status == Prompt.Status.FAILED
    assert refused.astria_id is None
    assert refused.failure_reason.startswith("This scene's prompt was refused: Remove < and >")
    sent = list(preview.prompts.exclude(pk=refused.pk).values_list("text", flat=True))
    assert_own_lora_only(sent, model.astria_id)
    assert prompt_posts(portal) - before == 2


def test_the_text_sent_is_its_own_models_lora_and_plain_words():
    prompt_text_check("<lora:42:1> ohwx man in a suit", tune_id=42)


@pytest.mark.parametrize(
    ("text", "tune_id"),
    [
        ("<lora:42:1> ohwx man in a suit", 43),
        ("ohwx man <lora:42:1>", 42),
        ("<lora:42:1> <lora:7:1> ohwx man", 42),
        ("<lora:42:1> ohwx man --tiled_upscale", 42),
    ],
)
def test_any_other_text_is_not_sent(text, tune_id):
    with pytest.raises(TemplateError):
        prompt_text_check(text, tune_id=tune_id)


# --- The customer's own idea ------------------------------------------------------------------


def idea_of(template: str) -> str:
    """A template as a customer would type it: their words, without the {subject} slot."""
    return template.replace("{subject}", "me")


@pytest.mark.parametrize("template", ASTRIA_SYNTAX)
def test_it_refuses_every_astria_syntax_in_an_own_idea(template):
    with pytest.raises(TemplateError):
        idea_check(idea_of(template), refused_words=[])


@pytest.mark.django_db
def test_an_idea_naming_another_customers_lora_starts_nothing_and_costs_nothing(client, owner):
    model = factories.TrainedModelFactory(
        owner=owner,
        status="ready",
        astria_id=4242,
        trained_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    credits_grant(user=owner, amount=20, reason="Test credits")
    client.force_login(owner)

    response = client.post(
        f"/models/{model.code}/idea/",
        {"idea": idea_of(STOLEN_FACE), "num_images": "2", "start_token": str(uuid.uuid4())},
        follow=True,
    )

    assert "Remove &lt; and &gt;: Astria reads &lt;…&gt; as a tag" in response.content.decode()
    assert not Photoshoot.objects.exists()
    assert not Prompt.objects.exists()
    assert CreditEntry.objects.filter(user=owner).count() == 1  # the grant alone
