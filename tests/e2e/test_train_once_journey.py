"""Train once, shoot many, in Chromium on a live server with a real Celery worker and the
sandbox: upload, train, the first pack ready; then two more packs on the same model and one
"more like this". Astria is asked to train exactly once, and each gallery holds its own."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from accounts.credits import credits_grant
from packs.models import Pack, PackPrompt
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.e2e.test_uploads_flow import log_in, selfies_upload
from tests.tunes.conftest import pack, portal, worker_env  # noqa: F401 - fixtures
from tunes.models import Photoshoot, Prompt, TrainedModel

pytestmark = [pytest.mark.chromium, pytest.mark.postgres, pytest.mark.redis]


def a_pack(title: str, price: int, scenes: list[str], images: int) -> Pack:
    made = Pack.objects.create(
        title=title, slug=f"{title.lower()}-{uuid.uuid4().hex[:6]}", price=price, classes=["woman"]
    )
    for order, template in enumerate(scenes):
        PackPrompt.objects.create(pack=made, template=template, num_images=images, order=order)
    return made


def wait_ready(page, photos: int) -> None:
    expect(page.locator("#gallery img")).to_have_count(photos, timeout=60_000)
    expect(page.get_by_role("link", name="Download all as a zip")).to_be_visible(timeout=30_000)
    expect(page.locator("#photoshoot-status")).to_have_text("Ready")


def test_one_training_then_two_more_packs_and_more_like_this(
    page,
    portal,  # noqa: F811
    pack,  # noqa: F811
    owner,
    celery_worker,
):
    credits_grant(user=owner, amount=40, reason="Test credits")
    van_gogh = a_pack("Painterly", 9, ["{subject} as a Van Gogh portrait", "{subject}, starry"], 1)
    outdoor = a_pack("Hilltop", 6, ["{subject} on a hill"], 2)
    portal.configure(train_seconds=2, generate_seconds=1)
    log_in(page, owner.email)

    selfies_upload(page)

    # The first pack trains the model: its price says so.
    page.get_by_role("link", name="Pick a pack").click()
    expect(page.locator("#model-note")).to_contain_text("trains a model of these selfies first")
    first = page.locator(".pack", has_text=pack.title)
    expect(first.locator(".price-note")).to_have_text("Includes training your model.")
    first.get_by_role("button", name="Start for 9 credits").click()
    expect(page).to_have_url(re.compile(r"/photoshoots/[0-9a-f-]+/$"))
    wait_ready(page, 6)

    # Two more packs on the same model: no training, the lower price shown before starting.
    for other, price, photos in [(van_gogh, 4, 2), (outdoor, 1, 2)]:
        page.get_by_role("link", name="Another pack on the same model").click()
        expect(page.locator("#model-note")).to_contain_text("is trained")
        card = page.locator(".pack", has_text=other.title)
        expect(card.locator(".price-note")).to_have_text("On your model: no training.")
        card.get_by_role("button", name=f"Start for {price} credit").click()
        wait_ready(page, photos)

    # More like this, from the last gallery's first photo: two more photos join it.
    page.locator("#gallery a").first.click()
    page.get_by_role("button", name="More like this · 2 credits").click()
    expect(page.locator(".messages")).to_contain_text("More like this is on its way")
    expect(page.locator("#gallery img")).to_have_count(4, timeout=60_000)
    expect(page.get_by_role("link", name="Download all as a zip")).to_be_visible(timeout=30_000)
    expect(page.locator(".balance")).to_have_text(f"{40 - 9 - 4 - 1 - 2} credits")

    page.get_by_role("link", name="Models", exact=True).click()
    expect(page.locator(".model-row")).to_have_count(1)
    expect(page.locator(".model-row .model-state")).to_contain_text(
        "Ready for new photoshoots until"
    )
    expect(page.locator(".model-row")).to_contain_text("3 photoshoots")

    # Astria trained once, and ran every scene of the three packs and the extra one.
    log = [(r["method"], r["path"]) for r in portal.requests_log()]
    assert log.count(("POST", "/tunes")) == 1
    assert log.count(("POST", "/tunes/1504944/prompts")) == 3 + 2 + 1 + 1
    model = TrainedModel.objects.get()
    shoots = {s.pack_id: s for s in Photoshoot.objects.filter(model=model)}
    assert {pk: s.photos.count() for pk, s in shoots.items()} == {
        pack.pk: 6,
        van_gogh.pk: 2,
        outdoor.pk: 4,
    }
    assert [s.with_training for s in (shoots[pack.pk], shoots[van_gogh.pk])] == [True, False]
    extra = Prompt.objects.get(more_of__isnull=False)
    assert extra.photoshoot == shoots[outdoor.pk] and extra.status == "done"
    assert {p.status for p in Photoshoot.objects.all()} == {"ready"}
