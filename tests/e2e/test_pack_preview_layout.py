"""The admin pack preview at a laptop's width: every result of every scene can be seen, none
cut off by the form row around the table. Rows are made by factories; the preview's whole run on
the sandbox is test_pack_preview.py."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from tests import factories
from tests.conftest import csp_check
from tests.e2e.test_photoshoot_progress import signed_in_tab
from tests.images import photo_bytes
from tunes.models import Photoshoot, Prompt
from uploads import storage

pytestmark = [pytest.mark.chromium, pytest.mark.postgres]

# Each result's centre, and whether it is the topmost element there once the window is scrolled
# down to it: an image clipped by an ancestor's overflow (or off to the right) is not. Only the
# window scrolls: scrollIntoView would scroll the clipping box itself and show what a person
# cannot reach.
VISIBLE = """imgs => imgs.map(img => {
  window.scrollTo(0, img.getBoundingClientRect().top + window.scrollY - 200);
  const box = img.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const seen = x >= 0 && x <= document.documentElement.clientWidth && box.width >= 64 &&
    document.elementFromPoint(x, y) === img;
  return img.alt + (seen ? " seen" : " hidden");
})"""


@pytest.mark.parametrize("width", [1280, 1024])
def test_it_shows_all_four_images_of_each_scene(browser, live_server, creative, width, tmp_path):
    preview = factories.PhotoshootFactory(
        kind=Photoshoot.Kind.PREVIEW, requested_by=creative, status=Photoshoot.Status.READY
    )
    thumbnail = photo_bytes((512, 512))
    for order in range(2):
        scene = factories.PromptFactory(
            photoshoot=preview,
            order=order,
            status=Prompt.Status.DONE,
            num_images=4,
            template="{subject} in a long scene description, " * 6,
            text="<lora:1:1> ohwx woman in a long scene description, " * 6,
        )
        for index in range(4):
            photo = factories.PhotoFactory(prompt=scene, index=index)
            for key in (photo.image, photo.thumbnail):
                storage.storage().save(key, ContentFile(thumbnail))
    violations: list[str] = []
    context, tab = signed_in_tab(
        browser, live_server, creative, violations, viewport={"width": width, "height": 800}
    )
    tab.goto(f"/admin/studio/packpreview/{preview.pk}/change/")
    images = tab.locator("tr.preview-shot .images img")
    assert images.count() == 8
    tab.wait_for_function(
        "() => [...document.querySelectorAll('tr.preview-shot .images img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    tab.screenshot(path=str(tmp_path / f"preview-{width}.png"), full_page=True)
    seen = images.evaluate_all(VISIBLE)
    assert seen == [f"Result {n} seen" for n in (1, 2, 3, 4)] * 2
    context.close()
    csp_check(violations)
