"""Demo packs, so that a new installation (and `make run`) has real choices to show."""

from __future__ import annotations

from django.db import migrations

PEOPLE = ["man", "woman"]
EVERYONE = ["man", "woman", "boy", "girl", "couple"]

PACKS = [
    {
        "slug": "corporate-headshots",
        "title": "Corporate headshots",
        "description": "Polished, friendly headshots for LinkedIn, your website and press.",
        "price": 10,
        "classes": PEOPLE,
        "prompts": [
            ("{subject} in a navy suit, studio headshot, soft key light, grey backdrop", "4:5"),
            ("{subject} in a white shirt, smiling, modern office with windows behind", "4:5"),
            ("{subject} with arms crossed, business casual, bright co-working space", "2:3"),
            ("{subject} speaking at a conference podium, warm stage light", "3:2"),
        ],
    },
    {
        "slug": "van-gogh-portraits",
        "title": "Van Gogh portraits",
        "description": "You, painted in thick swirling brushstrokes under a starry sky.",
        "price": 8,
        "classes": EVERYONE,
        "prompts": [
            ("a painting of {subject} in the style of Van Gogh, swirling starry night sky", "4:5"),
            ("a self-portrait of {subject} by Van Gogh, straw hat, blue and orange strokes", "4:5"),
            ("{subject} in a field of sunflowers, oil painting in the style of Van Gogh", "1:1"),
        ],
    },
    {
        "slug": "space-explorers",
        "title": "Space explorers",
        "description": "An astronaut's photo shoot, for people and their pets.",
        "price": 6,
        "classes": ["man", "woman", "boy", "girl", "cat", "dog"],
        "prompts": [
            ("{subject} as an astronaut in a white spacesuit, Earth in the background", "1:1"),
            ("{subject} floating inside a space station, cinematic light", "16:9"),
            ("{subject} on the surface of Mars, dusty red landscape, helmet visor up", "3:2"),
        ],
    },
]


def create(apps, schema_editor):
    Pack = apps.get_model("packs", "Pack")
    PackPrompt = apps.get_model("packs", "PackPrompt")
    for order, spec in enumerate(PACKS):
        pack, created = Pack.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "description": spec["description"],
                "price": spec["price"],
                "classes": spec["classes"],
                "order": order,
            },
        )
        if created:
            for position, (template, ratio) in enumerate(spec["prompts"]):
                PackPrompt.objects.create(
                    pack=pack,
                    template=template,
                    aspect_ratio=ratio,
                    order=position,
                    seed=1000 + position,
                )


def remove(apps, schema_editor):
    apps.get_model("packs", "Pack").objects.filter(slug__in=[p["slug"] for p in PACKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("packs", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
