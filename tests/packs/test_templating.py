from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from packs.models import Pack, PackPrompt
from packs.templating import TemplateError, prompt_render, template_check


def test_subject_renders_to_the_lora_tag_token_and_class():
    text = prompt_render(
        "{subject} in a navy suit, studio light", tune_id=123, token="ohwx", subject_class="man"
    )
    assert text == "<lora:123:1> ohwx man in a navy suit, studio light"


def test_the_lora_tag_leads_even_when_the_subject_comes_later():
    text = prompt_render(
        "a painting of {subject} in the style of Van Gogh",
        tune_id=9,
        token="ohwx",
        subject_class="woman",
    )
    assert text == "<lora:9:1> a painting of ohwx woman in the style of Van Gogh"


def test_token_and_class_can_be_used_apart():
    text = prompt_render(
        "{subject}, a {class} named {token}", tune_id=1, token="sks", subject_class="dog"
    )
    assert text == "<lora:1:1> sks dog, a dog named sks"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{subjet} in a suit",
            "Unknown placeholder {subjet}: use one of {subject}, {token}, {class}.",
        ),
        ("a man in a suit", "The template must name the person with {subject}."),
        ("{subject in a suit", "A { or } is not closed. Write placeholders as {subject}."),
        ("{subject} " + "x" * 1000, "The template is 1010 characters long; keep it under 1000."),
    ],
)
def test_a_broken_template_is_explained_to_its_editor(template, message):
    with pytest.raises(TemplateError) as info:
        template_check(template)
    assert str(info.value) == message


@pytest.mark.django_db
def test_a_pack_prompt_is_validated_when_saved_through_a_form():
    pack = Pack.objects.create(title="T", slug="t", price=1, classes=["man"])
    prompt = PackPrompt(pack=pack, template="{person} at sea")
    with pytest.raises(ValidationError) as info:
        prompt.full_clean()
    assert "Unknown placeholder {person}" in str(info.value)
    with pytest.raises(ValidationError) as info:
        PackPrompt(pack=pack, template="{subject}", num_images=9).full_clean()
    assert "num_images" in info.value.message_dict


@pytest.mark.django_db
def test_a_pack_refuses_unknown_classes():
    with pytest.raises(ValidationError):
        Pack(title="T", slug="t2", price=1, classes=["dragon"]).full_clean()


@pytest.mark.django_db
def test_prompts_can_be_limited_to_some_classes():
    pack = Pack.objects.create(title="T", slug="t3", price=1, classes=["man", "woman"])
    both = PackPrompt.objects.create(pack=pack, template="{subject} smiling")
    beard = PackPrompt.objects.create(pack=pack, template="{subject} with a beard", classes=["man"])
    assert pack.prompts_for("man") == [both, beard]
    assert pack.prompts_for("woman") == [both]
