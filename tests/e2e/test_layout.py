"""The visual system on a 360 px phone: the header is one row and no page scrolls sideways;
every page is also photographed at 360 and 1280 px for a person to look at
(var/screenshots/ui/, ignored by git)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import storages

from tests import factories
from tests.conftest import csp_check, csp_watch
from tests.e2e.test_uploads_flow import log_in
from tests.images import photo_bytes
from tests.tunes.conftest import pack, ready_selfie_set  # noqa: F401 - fixtures
from tunes.models import Photoshoot

pytestmark = [pytest.mark.chromium, pytest.mark.django_db(transaction=True)]

SHOTS = Path("var/screenshots/ui")
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 800}

# The header's items (the brand, credits or "Sign up", the Menu) and their tops, the header's
# height, and how far the page is wider than the screen.
MEASURE = """() => {
  const row = document.querySelector(".site-header .header-row");
  const items = [...row.children].filter((el) => el.getClientRects().length > 0);
  return {
    tops: items.map((el) => Math.round(el.getBoundingClientRect().top)),
    names: items.map((el) => el.className),
    height: document.querySelector(".site-header").getBoundingClientRect().height,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
}"""


def photoshoots_make(owner, pack) -> None:  # noqa: F811
    """A dashboard with a finished photoshoot (its first photo as the cover) and one at work."""
    done = factories.PhotoshootFactory(owner=owner, pack=pack, status=Photoshoot.Status.READY)
    photo = factories.PhotoFactory(prompt=factories.PromptFactory(photoshoot=done))
    storages["default"].save(photo.thumbnail, io.BytesIO(photo_bytes((256, 256), seed=3)))
    factories.PhotoshootFactory(owner=owner, pack=factories.PackFactory(title="Van Gogh portraits"))


def test_the_header_is_one_row_and_nothing_overflows_on_a_phone(browser, live_server, owner, pack):  # noqa: F811
    selfie_set = ready_selfie_set(owner, count=2)
    photoshoots_make(owner, pack)
    public = [
        ("home", "/"),
        ("packs", "/packs/"),
        ("pack", f"/packs/{pack.slug}/"),
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
    ]
    private = [
        ("dashboard", "/dashboard/"),
        ("selfie-set", f"/sets/{selfie_set.code}/"),
        ("pick-a-pack", f"/photoshoots/new/?set={selfie_set.code}"),
        ("models", "/models/"),
        ("profile", "/profile/"),
        ("not-found", "/no-such-page/"),
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for viewport in (PHONE, DESK):
        violations: list[str] = []
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        csp_watch(context, violations)
        tab = context.new_page()
        try:
            for name, path in [*public, ("", "log in"), *private]:
                if path == "log in":
                    log_in(tab, owner.email)
                    continue
                tab.goto(path)
                tab.screenshot(path=str(SHOTS / f"{viewport['width']}-{name}.png"), full_page=True)
                if viewport is PHONE:
                    seen = tab.evaluate(MEASURE)
                    assert len(seen["tops"]) == 3, f"{path}: header items {seen['names']}"
                    assert max(seen["tops"]) - min(seen["tops"]) <= 4, f"{path}: two rows {seen}"
                    assert seen["height"] < 72, f"{path}: header {seen['height']}px high"
                    assert seen["overflow"] <= 0, f"{path} scrolls sideways by {seen['overflow']}px"
            if viewport is PHONE:
                # The Menu opens over the page and holds the links.
                tab.locator(".menu > summary", has_text="Menu").click()
                tab.get_by_role("link", name="Models").click()
                assert tab.url.endswith("/models/")
        finally:
            context.close()
        csp_check(violations)
