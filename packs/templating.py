"""Pack prompt templates: how creatives name the subject, and how a template becomes the text
Astria receives.

A template names the person (or pet) as `{subject}`, e.g. `{subject} in a navy suit, studio
light`. Rendered for tune 123 of a man it reads `<lora:123:1> ohwx man in a navy suit, studio
light`: the LoRA tag always leads the text (as Astria's Flux examples do) and `{subject}` is the
token and class. `{token}` and `{class}` are there for templates that need them apart.

A template is plain words. Astria gives meaning to more than words in a prompt's text: a
`<lora:ID:1>` tag loads anyone's LoRA by its id (and ids are sequential), `<faceid:…>` borrows a
face, `--flags` switch features on, `BREAK` splits the picture between people, `{{key}}` takes a
tune's characteristics, `key=value` lines set the prompt's options. A creative who could write
any of that could put one customer's face into another's photoshoot, so all of it is refused
when a template is saved and again when a prompt's text is built, and the text that is sent
must name exactly one LoRA: the photoshoot's own.
"""

from __future__ import annotations

import re
import string
import unicodedata

PLACEHOLDERS = ("subject", "token", "class")
MAX_LENGTH = 1000
LORA_STRENGTH = 1
TRIGGER_WORD = "ohwx"  # the token every LoRA is trained to recognise (Astria's default)


class TemplateError(ValueError):
    """A template that cannot be rendered; the message is for the creative who wrote it."""


# Everything in a prompt's text that Astria reads as more than words, with what to tell the
# creative. Checked on the template (before formatting, so `{{` is still visible) and on the text.
ASTRIA_SYNTAX = [
    (
        re.compile(r"[<>]"),
        "Remove < and >: Astria reads <…> as a tag that loads a model or a face. "
        "The photoshoot's own LoRA is added for you.",
    ),
    (
        re.compile(r"\{\{|\}\}"),
        "Remove {{ and }}: Astria fills {{…}} with a model's characteristics.",
    ),
    (re.compile(r"--\w"), "Remove --flags: Astria reads them as settings."),
    (re.compile(r"\bBREAK\b"), "Remove BREAK: Astria reads it as a split between people."),
    (re.compile(r"\b\w+\s*="), "Remove name=value: Astria reads it as a setting of the prompt."),
    (
        re.compile(r":\s*\d*\.?\d+\s*\)"),
        "Write plain words instead of weights like (smile:1.2).",
    ),
    (
        re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"),
        "Keep the template on one line, without tabs or control characters.",
    ),
]


def astria_syntax_check(text: str) -> None:
    """Raise TemplateError if `text` holds anything Astria interprets (see ASTRIA_SYNTAX).

    Look-alikes count: a full-width ＜ reads as < once Unicode is normalised."""
    normalised = unicodedata.normalize("NFKC", text)
    for pattern, message in ASTRIA_SYNTAX:
        if pattern.search(normalised):
            raise TemplateError(message)


def template_check(template: str) -> None:
    """Raise TemplateError unless `template` is plain words that name the subject and
    nothing unknown."""
    if len(template) > MAX_LENGTH:
        raise TemplateError(
            f"The template is {len(template)} characters long; keep it under {MAX_LENGTH}."
        )
    astria_syntax_check(template)
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


IDEA_MAX_LENGTH = 200


def idea_check(idea: str, *, refused_words: list[str]) -> None:
    """Raise TemplateError unless a customer's own idea is one plain sentence, as a creative's
    template must be (no Astria syntax, no braces), short, and free of the refused words."""
    if not idea.strip():
        raise TemplateError("Describe the scene in a few words.")
    if len(idea) > IDEA_MAX_LENGTH:
        raise TemplateError(
            f"Your idea is {len(idea)} characters long; keep it under {IDEA_MAX_LENGTH}."
        )
    astria_syntax_check(idea)
    if "{" in idea or "}" in idea:
        raise TemplateError("Write your idea in plain words, without { or }.")
    words = set(re.findall(r"\w+", unicodedata.normalize("NFKC", idea).casefold()))
    refused = sorted(words & {w.casefold() for w in refused_words})
    if refused:
        raise TemplateError(f"Please leave out “{refused[0]}”: we cannot make that.")


def idea_template(idea: str) -> str:
    """The scene's template for a customer's own idea: the person, then their words."""
    return "{subject}, " + " ".join(idea.split())


def scene_words(template: str) -> str:
    """A scene in plain words for its customer: "{subject} in a navy suit" reads "In a navy
    suit", "a painting of {subject} by Van Gogh" reads "A painting of you by Van Gogh"."""
    lead = re.match(r"\s*\{subject\}[\s,;:]*", template)
    if lead:
        template = template[lead.end() :]
    words = template.replace("{subject}", "you").replace("{class}", "you")
    words = " ".join(words.replace("{token}", "").split())
    return words[:1].upper() + words[1:]


def prompt_render(template: str, *, tune_id: int | str, token: str, subject_class: str) -> str:
    """The text Astria receives for one pack prompt and one trained LoRA.

    Raises TemplateError for a template that is not plain words (one saved before the rules
    above, say), and for a token or class that would smuggle syntax into the text.
    """
    template_check(template)
    body = template.format(
        subject=f"{token} {subject_class}", token=token, **{"class": subject_class}
    ).strip()
    text = f"{lora_tag(tune_id)} {body}"
    prompt_text_check(text, tune_id=tune_id)
    return text


def prompt_text_check(text: str, *, tune_id: int | str) -> None:
    """The last word before a text goes to Astria (a photoshoot's scene, a preview's shot):
    it names exactly one LoRA, the tune's own, and after it only plain words."""
    own = lora_tag(tune_id)
    if not text.startswith(f"{own} ") or LORA_TAG.findall(text) != [own]:
        raise TemplateError("The text must name exactly one LoRA: the photoshoot's own.")
    astria_syntax_check(text.removeprefix(own))


LORA_TAG = re.compile(r"<lora:[^>]*>")


def lora_tag(tune_id: int | str) -> str:
    return f"<lora:{tune_id}:{LORA_STRENGTH}>"
