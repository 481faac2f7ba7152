"""The photoshoot's progress sentence (tunes/progress.py), from factory rows."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests import factories
from tunes.models import Photoshoot, Prompt, TrainedModel
from tunes.progress import photoshoot_progress


def test_it_counts_the_photos_each_scene_will_bring(db):
    photoshoot = factories.PhotoshootFactory(status=Photoshoot.Status.GENERATING)
    # Astria made 3 where the pack asked for 2; a failed scene brings only what it made.
    made_three = factories.PromptFactory(photoshoot=photoshoot, result_count=3)
    failed = factories.PromptFactory(photoshoot=photoshoot, status=Prompt.Status.FAILED)
    factories.PromptFactory(photoshoot=photoshoot)
    factories.PhotoFactory(prompt=made_three, index=0)
    factories.PhotoFactory(prompt=failed, index=0)
    progress = photoshoot_progress(photoshoot)
    assert progress["progress"] == {"taken": 2, "expected": 6}
    assert progress["detail"] == "2 of 6 photos taken"


def test_it_gives_the_training_estimate_as_time_left(db):
    now = timezone.now()
    model = factories.TrainedModelFactory(
        status=TrainedModel.Status.TRAINING, eta=now + timedelta(hours=1, minutes=5)
    )
    photoshoot = factories.PhotoshootFactory(owner=model.owner, model=model)
    assert (
        photoshoot_progress(photoshoot, now)["detail"] == "ready in about 1\xa0hour, 5\xa0minutes"
    )
    assert photoshoot_progress(photoshoot, now + timedelta(hours=2))["detail"] == (
        "ready any minute now"
    )
