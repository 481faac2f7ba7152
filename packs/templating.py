"""Pack prompt templates: how creatives name the subject, and how a template becomes the text
Astria receives.

A template names the person (or pet) as `{subject}`, e.g. `{subject} in a navy suit, studio
light`. Rendered for tune 123 of a man it reads `<lora:123:1> ohwx man in a navy suit, studio
light`: the LoRA tag always leads the text (as Astria's Flux examples do) and `{subject}` is the
token and class. `{token}` and `{class}` are there for templates that need them apart.
"""

from __future__ import annotations

import string

PLACEHOLDERS = ("subject", "token", "class")
MAX_LENGTH = 1000
LORA_STRENGTH = 1
TRIGGER_WORD = "ohwx"  # the token every LoRA is trained to recognise (Astria's default)


class TemplateError(ValueError):
    """A template that cannot be rendered; the message is for the creative who wrote it."""


def template_check(template: str) -> None:
    """Raise TemplateError unless `template` names the subject and nothing unknown."""
    if len(template) > MAX_LENGTH:
        raise TemplateError(
            f"The template is {len(template)} characters long; keep it under {MAX_LENGTH}."
        )
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
        ]
    except ValueError:
        raise TemplateError("A { or } is not closed. Write placeholders as {subject}.") from None
    names = [name for name, _, _ in fields if name is not None]
    if any(spec or conversion for _, spec, conversion in fields):
        raise TemplateError("Write placeholders plainly, as {subject}: no : or ! inside braces.")
    for name in names:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise TemplateError(f"Unknown placeholder {{{name}}}: use one of {known}.")
    if "subject" not in names:
        raise TemplateError("The template must name the person with {subject}.")


def prompt_render(template: str, *, tune_id: int | str, token: str, subject_class: str) -> str:
    """The text Astria receives for one pack prompt and one trained LoRA."""
    template_check(template)
    body = template.format(
        subject=f"{token} {subject_class}", token=token, **{"class": subject_class}
    )
    return f"<lora:{tune_id}:{LORA_STRENGTH}> {body.strip()}"
