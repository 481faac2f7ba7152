"""The photoshoot page's progress line in Chromium, with its script and without: the training
estimate reads the same in any time zone, and photos arrive where the finished gallery puts them.
Rows are made by factories (the engine's own journey is test_photoshoot_journey.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.conftest import csp_check, csp_watch
from tunes.models import Photoshoot, TrainedModel

pytestmark = [pytest.mark.chromium, pytest.mark.postgres]


def signed_in_tab(browser: Any, live_server: Any, user: Any, violations: list[str], **options: Any):
    """A tab of its own context (time zone, script on or off) with `user` signed in."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(15_000)
    csp_watch(context, violations)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return context, context.new_page()


def training_photoshoot(owner: Any, minutes_left: float) -> Photoshoot:
    model = factories.TrainedModelFactory(
        owner=owner,
        status=TrainedModel.Status.TRAINING,
        eta=timezone.now() + timedelta(minutes=minutes_left),
    )
    return factories.PhotoshootFactory(owner=owner, model=model, status=Photoshoot.Status.TRAINING)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles"])
def test_it_shows_one_estimate_with_its_script_and_without(browser, live_server, owner, zone):
    photoshoot = training_photoshoot(owner, minutes_left=14.5)
    violations: list[str] = []
    seen = []
    for script in (False, True):
        context, tab = signed_in_tab(
            browser, live_server, owner, violations, timezone_id=zone, java_script_enabled=script
        )
        tab.goto(f"/photoshoots/{photoshoot.code}/")
        detail = tab.locator("#photoshoot-detail")
        expect(detail).to_have_text(re.compile(r"^ready in about 1[34]\sminutes$"))
        if script:
            # The script's first refresh (after 2 s) writes the same sentence, no clock time.
            tab.wait_for_timeout(2_800)
            expect(detail).to_have_text(re.compile(r"^ready in about 1[34]\sminutes$"))
        seen.append(detail.inner_text())
        context.close()
    assert not any(re.search(r"\d:\d\d", text) for text in seen), seen
    csp_check(violations)


def test_it_says_any_minute_once_the_estimate_has_passed(browser, live_server, owner):
    photoshoot = training_photoshoot(owner, minutes_left=-3)
    violations: list[str] = []
    context, tab = signed_in_tab(browser, live_server, owner, violations)
    tab.goto(f"/photoshoots/{photoshoot.code}/")
    expect(tab.locator("#photoshoot-detail")).to_have_text("ready any minute now")
    context.close()
    csp_check(violations)


def gallery_codes(tab: Any) -> list[str]:
    return tab.eval_on_selector_all("#gallery li", "items => items.map(li => li.dataset.code)")


def test_photos_arrive_in_the_order_the_finished_gallery_shows(browser, live_server, owner):
    photoshoot = factories.PhotoshootFactory(
        owner=owner,
        model__status=TrainedModel.Status.READY,
        status=Photoshoot.Status.GENERATING,
    )
    scenes = [factories.PromptFactory(photoshoot=photoshoot, order=n) for n in range(3)]
    last = factories.PhotoFactory(prompt=scenes[2], index=0)
    violations: list[str] = []
    context, tab = signed_in_tab(browser, live_server, owner, violations)
    tab.goto(f"/photoshoots/{photoshoot.code}/")
    detail = tab.locator("#photoshoot-detail")
    expect(detail).to_have_text("1 of 6 photos taken")
    assert gallery_codes(tab) == [str(last.code)]

    # The first scene's photos arrive after the last scene's first one, one of them while its
    # scene is still under way: the page counts the photos, not the scenes done.
    first = [factories.PhotoFactory(prompt=scenes[0], index=n) for n in range(2)]
    expect(detail).to_have_text("3 of 6 photos taken")
    live = gallery_codes(tab)
    assert live == [str(p.code) for p in [*first, last]]
    alts = tab.eval_on_selector_all("#gallery img", "imgs => imgs.map(i => i.alt)")
    assert alts == ["Photo 1", "Photo 2", "Photo 3"]

    tab.reload()
    expect(detail).to_have_text("3 of 6 photos taken")
    assert gallery_codes(tab) == live
    context.close()
    csp_check(violations)
