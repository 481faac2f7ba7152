"""The photo viewer in Chromium (arrow keys, a finger's swipe, like without a reload), and the
photoshoot's pages at 360 and 1280 px: nothing wider than the screen, screenshots for a look
(var/screenshots/gallery/). Rows come from factories, with real pictures in storage."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import storages
from django.utils import timezone
from playwright.sync_api import expect

from accounts.credits import credits_refund
from packs.models import Pack
from tests import factories
from tests.conftest import csp_check
from tests.e2e.test_photoshoot_progress import signed_in_tab
from tests.images import photo_bytes
from tunes.models import Photo, Photoshoot, Prompt, TrainedModel

pytestmark = [pytest.mark.chromium, pytest.mark.postgres]

SCREENSHOTS = Path("var/screenshots/gallery")
PHONE = {"width": 360, "height": 740}


def stored_photo(prompt: Prompt, index: int) -> Photo:
    """A photo whose image and thumbnail are real JPEGs in storage."""
    photo = factories.PhotoFactory(prompt=prompt, index=index)
    seed = prompt.order * 10 + index
    for name, size in ((photo.image, (768, 960)), (photo.thumbnail, (320, 320))):
        assert storages["default"].save(name, io.BytesIO(photo_bytes(size, seed=seed))) == name
    return photo


def gallery(owner: Any, *, scenes: int = 2, per_scene: int = 2) -> tuple[Photoshoot, list[Photo]]:
    # The demo pack (its migration made it), or one like it where a test emptied the tables.
    pack = Pack.objects.filter(slug="corporate-headshots").first() or factories.PackFactory(
        title="Corporate headshots", slug="corporate-headshots"
    )
    photoshoot = factories.PhotoshootFactory(
        owner=owner, pack=pack, status=Photoshoot.Status.READY, model__status="ready"
    )
    templates = [
        "{subject} in a navy suit, studio light",
        "{subject} smiling in a modern office",
        "a black and white portrait of {subject}, soft window light",
    ]
    photos = []
    for order in range(scenes):
        prompt = factories.PromptFactory(
            photoshoot=photoshoot, order=order, template=templates[order], status="done"
        )
        photos += [stored_photo(prompt, n) for n in range(per_scene)]
    return photoshoot, photos


def photo_url(photoshoot: Photoshoot, photo: Photo) -> str:
    return f"/photoshoots/{photoshoot.code}/photos/{photo.code}/"


def touch_swipe(tab: Any, cdp: Any, *, from_x: int, to_x: int) -> None:
    """A finger across the photo, as the phone's touch screen sends it."""
    box = tab.locator("#viewer img").bounding_box()
    y = box["y"] + box["height"] / 2
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": from_x, "y": y}]}
    )
    for step in range(1, 6):
        x = from_x + (to_x - from_x) * step / 5
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_the_viewer_follows_the_arrow_keys_and_a_swipe_and_likes_without_a_reload(
    browser, live_server, owner
):
    photoshoot, photos = gallery(owner)
    violations: list[str] = []
    context, tab = signed_in_tab(
        browser, live_server, owner, violations, viewport=PHONE, has_touch=True, is_mobile=True
    )
    tab.goto(photo_url(photoshoot, photos[1]))
    expect(tab.locator(".photo-count")).to_have_text("Photo 2 of 4")

    tab.keyboard.press("ArrowRight")
    expect(tab).to_have_url(re.compile(re.escape(photo_url(photoshoot, photos[2])) + "$"))
    expect(tab.locator(".photo-scene")).to_have_text("Smiling in a modern office")
    tab.keyboard.press("ArrowLeft")
    expect(tab).to_have_url(re.compile(re.escape(photo_url(photoshoot, photos[1])) + "$"))

    cdp = context.new_cdp_session(tab)
    touch_swipe(tab, cdp, from_x=300, to_x=60)  # to the left: the next photo
    expect(tab).to_have_url(re.compile(re.escape(photo_url(photoshoot, photos[2])) + "$"))
    cdp = context.new_cdp_session(tab)
    touch_swipe(tab, cdp, from_x=60, to_x=300)  # to the right: the previous one
    expect(tab).to_have_url(re.compile(re.escape(photo_url(photoshoot, photos[1])) + "$"))
    tab.evaluate("() => { window.samePage = true; }")

    tab.get_by_role("button", name="♡ Like").click()
    expect(tab.get_by_role("button", name="♥ Liked")).to_be_visible()
    assert Photo.objects.get(pk=photos[1].pk).liked
    tab.get_by_role("button", name="♥ Liked").click()
    expect(tab.get_by_role("button", name="♡ Like")).to_be_visible()
    assert not Photo.objects.get(pk=photos[1].pk).liked
    assert tab.evaluate("() => window.samePage") is True  # never reloaded
    context.close()
    csp_check(violations)


def no_wider_than_the_screen(tab: Any, width: int) -> None:
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= width


def training(owner: Any) -> Photoshoot:
    now = timezone.now()
    model = factories.TrainedModelFactory(
        owner=owner,
        status=TrainedModel.Status.TRAINING,
        submitted_at=now - timedelta(minutes=6),
        eta=now + timedelta(minutes=14),
    )
    photoshoot = factories.PhotoshootFactory(
        owner=owner, model=model, with_training=True, status=Photoshoot.Status.TRAINING
    )
    for order in range(3):
        factories.PromptFactory(photoshoot=photoshoot, order=order)
    return photoshoot


def failed_on_a_live_model(owner: Any) -> Photoshoot:
    """Failed with its scenes, refunded by the ledger, on a model that can start it again."""
    reason = "None of the scenes could be made."
    failed = factories.PhotoshootFactory(
        owner=owner,
        status=Photoshoot.Status.FAILED,
        failure_reason=reason,
        model__status=TrainedModel.Status.READY,
        model__expires_at=timezone.now() + timedelta(days=20),
    )
    for order in range(3):
        factories.PromptFactory(
            photoshoot=failed, order=order, status=Prompt.Status.FAILED, failure_reason=reason
        )
    credits_refund(user=owner, amount=9, reason="Photoshoot failed", cause=failed)
    return failed


@pytest.mark.parametrize("width", [360, 1280])
def test_the_photoshoots_pages_fit_the_screen(browser, live_server, owner, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    waiting = training(owner)
    photoshoot, photos = gallery(owner, scenes=3, per_scene=3)
    failed = failed_on_a_live_model(owner)
    violations: list[str] = []
    context, tab = signed_in_tab(
        browser, live_server, owner, violations, viewport={"width": width, "height": 800}
    )
    pages = {
        "progress": f"/photoshoots/{waiting.code}/",
        "gallery": f"/photoshoots/{photoshoot.code}/",
        "photo": photo_url(photoshoot, photos[4]),
        "failed": f"/photoshoots/{failed.code}/",
    }
    for name, url in pages.items():
        tab.goto(url)
        # Every picture loaded: a function, as the policy refuses eval.
        tab.wait_for_function(
            "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
        no_wider_than_the_screen(tab, width)
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    context.close()
    csp_check(violations)
