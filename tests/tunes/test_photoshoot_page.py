"""The photoshoot page and its status while it works (steps, bar, estimate), when it failed
(why, the refund, try again), and its gallery by scene."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from tests import factories
from tests.conftest import free_port
from tests.tunes.conftest import ready_selfie_set, start
from tunes.models import Photoshoot, Prompt, TrainedModel

CLOSE_TAB = "You can close this tab: we'll e-mail you when your photos are ready."


def words(page: str) -> str:
    """The page's text as a reader sees it, without its tags."""
    return re.sub(r"<[^>]+>", "", page)


def steps(page: str) -> list[tuple[str, str, bool]]:
    """The page's steps as (key, state, marked current)."""
    found = re.findall(
        r'<li class="progress-step (\w+)" data-step="(\w+)"( aria-current="step")?', page
    )
    return [(key, state, bool(current)) for state, key, current in found]


def training_photoshoot(owner, *, minutes_done: int, minutes_left: int) -> Photoshoot:
    now = timezone.now()
    model = factories.TrainedModelFactory(
        owner=owner,
        status=TrainedModel.Status.TRAINING,
        submitted_at=now - timedelta(minutes=minutes_done),
        eta=now + timedelta(minutes=minutes_left),
    )
    photoshoot = factories.PhotoshootFactory(
        owner=owner, model=model, with_training=True, status=Photoshoot.Status.TRAINING
    )
    for order in range(3):
        factories.PromptFactory(photoshoot=photoshoot, order=order)
    return photoshoot


def test_it_shows_training_as_the_current_step_with_the_models_estimate(client, owner):
    photoshoot = training_photoshoot(owner, minutes_done=10, minutes_left=10)
    client.force_login(owner)
    status = client.get(f"/photoshoots/{photoshoot.code}/status/").json()
    assert status["step"] == "training"
    assert [(s["key"], s["state"]) for s in status["steps"]] == [
        ("checked", "done"),
        ("training", "current"),
        ("scenes", "todo"),
        ("ready", "todo"),
    ]
    # Half the time to the ETA is behind it: half of training's part of the bar.
    assert 0.36 <= status["fraction"] <= 0.39
    assert re.fullmatch(r"ready in about (9|10)\xa0minutes", status["estimate"])

    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert steps(page) == [
        ("checked", "done", False),
        ("training", "current", True),
        ("scenes", "todo", False),
        ("ready", "todo", False),
    ]
    assert "Making scenes: 0 of 3" in page
    bar = re.search(r'id="photoshoot-bar" max="100" value="(\d+)"', page)
    assert bar and 36 <= int(bar[1]) <= 39
    assert re.search(r"ready in about (9|10)\xa0minutes", page)
    assert CLOSE_TAB in words(page)


def test_while_it_waits_for_astria_the_bar_stays_at_the_start_and_no_time_is_made_up(client, owner):
    model = factories.TrainedModelFactory(owner=owner, status=TrainedModel.Status.QUEUED)
    photoshoot = factories.PhotoshootFactory(owner=owner, model=model, with_training=True)
    client.force_login(owner)
    status = client.get(f"/photoshoots/{photoshoot.code}/status/").json()
    assert (status["step"], status["fraction"], status["estimate"]) == ("training", 0.05, "")


def test_it_counts_the_scenes_and_says_a_few_minutes_while_making_them(client, owner):
    # A model trained before this photoshoot: the scenes are the whole bar.
    model = factories.TrainedModelFactory(
        owner=owner,
        status=TrainedModel.Status.READY,
        trained_at=timezone.now() - timedelta(days=1),
    )
    photoshoot = factories.PhotoshootFactory(
        owner=owner, model=model, status=Photoshoot.Status.GENERATING
    )
    done = factories.PromptFactory(photoshoot=photoshoot, order=0, status=Prompt.Status.DONE)
    factories.PromptFactory(photoshoot=photoshoot, order=1, status=Prompt.Status.SUBMITTED)
    factories.PhotoFactory(prompt=done, index=0)
    client.force_login(owner)
    status = client.get(f"/photoshoots/{photoshoot.code}/status/").json()
    assert status["step"] == "scenes"
    assert status["steps"][2] == {
        "key": "scenes",
        "label": "Making scenes: 1 of 2",
        "state": "current",
        "current": True,
    }
    assert status["fraction"] == 0.29  # 1 photo of 4, after the checked photos' 5 %
    assert status["estimate"] == "usually a few minutes more"

    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert ("scenes", "current", True) in steps(page)
    assert 'value="29"' in page
    assert "Usually a few minutes more" in page and "1 of 4 photos taken" in page
    assert CLOSE_TAB in words(page)


def test_a_ready_photoshoot_shows_no_bar_nor_the_close_tab_note(client, owner):
    photoshoot = factories.PhotoshootFactory(owner=owner, status=Photoshoot.Status.READY)
    client.force_login(owner)
    status = client.get(f"/photoshoots/{photoshoot.code}/status/").json()
    assert (status["step"], status["fraction"]) == ("ready", 1.0)
    assert [s["state"] for s in status["steps"]] == ["done"] * 4
    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert "photoshoot-bar" not in page and CLOSE_TAB not in words(page)


def start_fields(page: str) -> dict[str, str]:
    form = page.split('class="try-again"')[1].split("</form>")[0]
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))


def test_a_failed_photoshoot_says_why_what_was_refunded_and_starts_again_on_its_model(
    client, portal, funded_owner, pack
):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error=1)
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "failed"
    client.force_login(funded_owner)
    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert "<strong>What happened:</strong> None of the scenes could be made." in page
    # The three scenes' refunds, from the ledger: 3 credits each.
    assert "<strong>Refunded:</strong> 9 credits, back in your balance" in page
    assert 'href="/credits/"' in page
    assert ("scenes", "failed", True) in steps(page)
    assert CLOSE_TAB not in words(page)
    # Its model is trained: the same pack again, without training, at the price it shows.
    assert "Try again for 4 credits" in page and "on your model, no training." in page
    form = start_fields(page)
    assert form["pack"] == pack.slug and form["price"] == "4"
    assert form["selfie_set"] == str(photoshoot.model.selfie_set.code)

    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error=0)
    response = client.post("/photoshoots/start/", form)
    again = Photoshoot.objects.exclude(pk=photoshoot.pk).get()
    assert response["Location"] == f"/photoshoots/{again.code}/"
    assert again.model_id == photoshoot.model_id and again.status == "ready"
    funded_owner.refresh_from_db()
    assert funded_owner.credits == 20 - 9 + 9 - 4


def test_a_photoshoot_whose_training_failed_offers_to_train_again(
    client, portal, funded_owner, pack, settings
):
    # The portal's public address is wrong, so Astria cannot fetch the selfies: 422.
    settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{free_port()}"
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "failed"
    client.force_login(funded_owner)
    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert "Astria refused the photos" in page
    assert "<strong>Refunded:</strong> 9 credits" in page
    assert ("training", "failed", True) in steps(page)
    assert "Try again for 9 credits" in page and "includes training a new model." in page


def test_a_failed_photoshoot_without_its_pack_offers_no_start_but_another_pack(client, owner):
    photoshoot = factories.PhotoshootFactory(
        owner=owner, status=Photoshoot.Status.FAILED, failure_reason="It broke."
    )
    photoshoot.pack.is_active = False
    photoshoot.pack.save()
    client.force_login(owner)
    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert "It broke." in page and "Try again" not in page and "Refunded" not in page
    assert f"/photoshoots/new/?set={photoshoot.model.selfie_set.code}" in page


def test_a_ready_photoshoot_with_a_failed_scene_says_what_that_scene_gave_back(
    client, portal, funded_owner, pack
):
    portal.configure(train_seconds=0, generate_seconds=0, prompt_user_error_match="by the sea")
    photoshoot = start(funded_owner, ready_selfie_set(funded_owner), pack)
    photoshoot.refresh_from_db()
    assert photoshoot.status == "ready"
    client.force_login(funded_owner)
    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert "1 scene could not be made: 3 credits refunded to your balance." in page


def headings_and_photos(page: str) -> list[tuple[str, int]]:
    sections = page.split('<section class="scene"')[1:]
    return [
        (re.search(r'<h2 class="scene-title">([^<]*)</h2>', s)[1], s.count('class="photo done"'))
        for s in sections
    ]


def test_the_gallery_groups_its_photos_under_a_heading_per_scene(client, owner, settings):
    settings.GALLERY_PAGE_SIZE = 4
    photoshoot = factories.PhotoshootFactory(owner=owner, status=Photoshoot.Status.READY)
    suit = factories.PromptFactory(photoshoot=photoshoot, order=0)
    painting = factories.PromptFactory(
        photoshoot=photoshoot, order=1, template="a painting of {subject} by Van Gogh"
    )
    for n in range(3):
        factories.PhotoFactory(prompt=suit, index=n)
        factories.PhotoFactory(prompt=painting, index=n)
    # "More like this" of the first scene: its photos join that scene's heading.
    more = factories.PromptFactory(photoshoot=photoshoot, order=0, price=2)
    factories.PhotoFactory(prompt=more, index=0)
    client.force_login(owner)

    page = client.get(f"/photoshoots/{photoshoot.code}/").content.decode()
    assert headings_and_photos(page) == [("In a navy suit", 4)]
    page = client.get(f"/photoshoots/{photoshoot.code}/?page=2").content.decode()
    assert headings_and_photos(page) == [("A painting of you by Van Gogh", 3)]
    assert 'alt="Photo 5"' in page  # numbered through the whole gallery
    photos = client.get(f"/photoshoots/{photoshoot.code}/status/").json()["photos"]
    assert [p["scene_title"] for p in photos] == ["In a navy suit"] * 4
    assert len({p["scene"] for p in photos}) == 1


def test_the_photo_page_names_its_scene_and_leads_back_to_its_gallery_page(client, owner, settings):
    settings.GALLERY_PAGE_SIZE = 2
    photoshoot = factories.PhotoshootFactory(owner=owner, status=Photoshoot.Status.READY)
    scene = factories.PromptFactory(photoshoot=photoshoot, template="{subject} by the sea")
    photos = [factories.PhotoFactory(prompt=scene, index=n) for n in range(3)]
    client.force_login(owner)
    page = client.get(f"/photoshoots/{photoshoot.code}/photos/{photos[2].code}/").content.decode()
    assert '<span class="photo-scene">By the sea</span>' in page
    assert f'href="/photoshoots/{photoshoot.code}/?page=2"' in page
    assert 'rel="prev"' in page and 'rel="next"' not in page
    assert "js/viewer.js" in page
