"""The whole journey in Chromium, on a live server with a real Celery worker and the sandbox:
sign in, make a selfie set, upload, pick a pack, start, watch, like, download the zip, then a
second pack on the same model, which costs less and trains nothing."""

from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import expect

from accounts.credits import credits_grant
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.e2e.test_uploads_flow import log_in, uploader_ready
from tests.images import photo_bytes
from tests.tunes.conftest import pack, portal, worker_env  # noqa: F401 - fixtures
from tunes.models import Photo, Photoshoot, TrainedModel

pytestmark = [pytest.mark.chromium, pytest.mark.postgres, pytest.mark.redis]


def test_the_whole_photoshoot(page, portal, pack, owner, celery_worker, tmp_path):  # noqa: F811
    credits_grant(user=owner, amount=20, reason="Test credits")
    portal.configure(train_seconds=2, generate_seconds=1)
    log_in(page, owner.email)

    page.get_by_role("link", name="Selfies", exact=True).click()
    page.get_by_role("link", name="New selfie set").click()
    page.get_by_label("Name of the set").fill("Me")
    page.get_by_label("Who is in the photos").select_option("woman")
    page.get_by_role("button", name="Create the set").click()
    uploader_ready(page, "Me")
    page.locator("#file-input").set_input_files(
        [
            {
                "name": f"me-{n}.jpg",
                "mimeType": "image/jpeg",
                "buffer": photo_bytes((900, 1100), seed=n),
            }
            for n in range(4)
        ]
    )
    expect(page.locator(".photo.done img")).to_have_count(4, timeout=30_000)

    page.get_by_role("link", name="Pick a pack").click()
    page.locator(".pack", has_text=pack.title).get_by_role(
        "button", name="Start for 9 credits"
    ).click()
    expect(page).to_have_url(re.compile(r"/photoshoots/[0-9a-f-]+/$"))
    expect(page.locator(".balance")).to_have_text("11 credits")

    # The page follows the work by itself, then fills with photos.
    expect(page.locator("#photoshoot-status")).to_have_text(
        re.compile("Learning your face|Taking the photos|Ready"), timeout=15_000
    )
    expect(page.locator("#gallery img")).to_have_count(6, timeout=60_000)
    # Once ready the page reloads itself as the finished gallery.
    expect(page.get_by_role("link", name="Download all as a zip")).to_be_visible(timeout=30_000)
    expect(page.locator("#photoshoot-status")).to_have_text("Ready")
    # A function, not an expression: Playwright evaluates an expression again at each poll,
    # and the policy refuses eval.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gallery img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )

    page.locator("#gallery a").first.click()
    page.get_by_role("button", name="♡ Like").click()
    expect(page.get_by_role("button", name="♥ Liked")).to_be_visible()
    assert Photo.objects.filter(liked=True).count() == 1

    page.get_by_role("link", name=re.compile("← ")).first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all as a zip").click()
    path = tmp_path / "photos.zip"
    download.value.save_as(path)
    names = zipfile.ZipFile(path).namelist()
    assert len(names) == 6
    for name in names:
        content = zipfile.ZipFile(path).read(name)
        assert content[:2] == b"\xff\xd8"
    assert Photoshoot.objects.get().status == "ready"

    # Another pack on the same model: no training in its price, and none at Astria.
    page.get_by_role("link", name="Another pack on the same model").click()
    expect(page.locator("#model-note")).to_contain_text("Your model of these selfies is trained")
    card = page.locator(".pack", has_text=pack.title)
    expect(card.locator(".price-note")).to_have_text("On your model: no training.")
    card.get_by_role("button", name="Start for 4 credits").click()
    expect(page).to_have_url(re.compile(r"/photoshoots/[0-9a-f-]+/$"))
    expect(page.locator(".balance")).to_have_text("7 credits")
    expect(page.locator("#gallery img")).to_have_count(6, timeout=60_000)
    expect(page.locator("#photoshoot-status")).to_have_text("Ready", timeout=30_000)
    second = Photoshoot.objects.order_by("-created_at").first()
    assert (second.status, second.price, second.with_training) == ("ready", 4, False)
    assert TrainedModel.objects.count() == 1 and second.model.status == "ready"
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    assert log.count(("POST", "/tunes")) == 1
    assert log.count(("POST", "/tunes/1504944/prompts")) == 6
