"""Astria's objects parsed at the edge: its own examples, loose types, unknown keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from astria.client import rails_form
from astria.errors import AstriaError
from astria.schemas import ImageInspection, Prompt, Tune
from tests.conftest import BASE_DIR

EXAMPLES = BASE_DIR / "docs" / "astria" / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_it_parses_astrias_trained_tune_example():
    tune = Tune.model_validate(example("tune-object-trained.json"))
    assert tune.id == 1
    assert tune.trained_at == datetime(2023, 10, 2, 14, 32, 40, 363000, tzinfo=UTC)
    assert tune.is_trained and not tune.is_training
    assert len(tune.orig_images) == 10


def test_a_tune_without_trained_at_is_training():
    tune = Tune.model_validate({"id": "7", "started_training_at": "2024-01-01T00:00:00.000Z"})
    assert tune.id == 7
    assert tune.is_training and not tune.is_trained


def test_it_parses_astrias_prompt_example_as_not_done_yet():
    prompt = Prompt.model_validate(example("prompt-create-response.json"))
    assert prompt.images == []
    assert not prompt.is_done and not prompt.is_failed


def test_numbers_as_strings_unknown_keys_and_null_lists_are_accepted():
    prompt = Prompt.model_validate(
        {"id": "12", "cfg_scale": "3.0", "steps": "30", "images": None, "brand_new_key": {"x": 1}}
    )
    assert (prompt.id, prompt.cfg_scale, prompt.steps, prompt.images) == (12, 3.0, 30, [])


def test_done_and_failed_prompts():
    assert Prompt.model_validate({"id": 1, "images": ["https://x/1.jpg"]}).is_done
    failed = Prompt.model_validate({"id": 1, "user_error": "NSFW"})
    assert failed.is_failed and not failed.is_done


def test_it_parses_astrias_inspection_example():
    inspection = ImageInspection.model_validate(example("image-inspect-response.json"))
    assert inspection.name == "woman"
    assert inspection.selfie is True and inspection.blurry is False
    assert inspection.hair_color == "brunette"


def test_rails_form_uses_bracket_keys_and_true_false():
    assert rails_form(
        "tune",
        {
            "name": "man",
            "face_crop": True,
            "image_urls": ["a", "b"],
            "characteristics": {"eye_color": "blue"},
            "steps": None,
        },
    ) == [
        ("tune[name]", "man"),
        ("tune[face_crop]", "true"),
        ("tune[image_urls][]", "a"),
        ("tune[image_urls][]", "b"),
        ("tune[characteristics][eye_color]", "blue"),
    ]


def test_errors_say_what_to_do():
    assert AstriaError.from_status(422, "x").permanent
    assert AstriaError.from_status(402, "x").permanent
    assert AstriaError.from_status(429, "x").transient
    assert AstriaError.from_status(503, "x").transient
    gateway = AstriaError.from_status(504, "x")
    assert gateway.transient and gateway.may_have_been_processed
    assert str(AstriaError.from_status(422, "name can't be blank")) == (
        "Astria 422: name can't be blank"
    )
