"""A creative in Chromium edits a pack prompt, sees it rendered, previews the pack on a sample
subject and watches the results arrive beside the prompts (a real worker, the sandbox). The
subject trains and the preview runs on the same engine as a customer's photoshoot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from studio import services
from studio.models import PackPreview, PreviewSubject
from tests.astria.conftest import loopback, sandbox  # noqa: F401 - fixtures
from tests.conftest import wait_until
from tests.e2e.test_uploads_flow import log_in
from tests.tunes.conftest import pack, portal, ready_selfie_set, worker_env  # noqa: F401
from tunes.models import TrainedModel
from tunes.training import UNFINISHED

pytestmark = [pytest.mark.chromium, pytest.mark.postgres, pytest.mark.redis]


def test_a_creative_edits_a_prompt_and_previews_the_pack(
    page,
    portal,  # noqa: F811
    pack,  # noqa: F811
    staff,
    creative,
    celery_worker,
    tmp_path,
):
    portal.configure(train_seconds=1, generate_seconds=2)
    subject = PreviewSubject.objects.create(name="Anna", selfie_set=ready_selfie_set(staff))
    model = services.subject_train(subject=subject)
    wait_until(lambda: TrainedModel.objects.get(pk=model.pk).status not in UNFINISHED, timeout=60)
    subject.refresh_from_db()
    assert subject.ready, subject.model.failure_reason

    log_in(page, creative.email)
    page.goto(f"/admin/packs/pack/{pack.pk}/change/")
    page.locator("textarea[name='prompts-0-template']").fill("{subject} in a tweed jacket, autumn")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    rendered = page.locator(".inline-related").first.locator(".rendered-prompt")
    expect(rendered).to_have_text(
        [
            "man: <lora:TUNE_ID:1> ohwx man in a tweed jacket, autumn",
            "woman: <lora:TUNE_ID:1> ohwx woman in a tweed jacket, autumn",
        ]
    )

    page.screenshot(path=str(tmp_path / "pack-editor.png"), full_page=True)

    page.get_by_role("link", name="Preview this pack").click()
    page.get_by_label("Subject").select_option(label="Anna (woman)")
    page.get_by_role("button", name="Run the preview").click()

    shots = page.locator("tr.preview-shot")
    expect(shots).to_have_count(3)
    expect(shots.first).to_contain_text("{subject} in a tweed jacket, autumn")
    expect(shots.first).to_contain_text(f"<lora:{subject.model.astria_id}:1> ohwx woman in a tweed")
    # The page refreshes itself until every prompt has its two images.
    expect(page.locator("tr.preview-shot .images img")).to_have_count(6, timeout=60_000)
    # A function, not an expression: Playwright evaluates an expression again at each poll,
    # and the policy refuses eval.
    page.wait_for_function(
        "() => [...document.querySelectorAll('tr.preview-shot .images img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    expect(shots.first.locator(".status")).to_have_text("Done")
    page.screenshot(path=str(tmp_path / "pack-preview.png"), full_page=True)
    preview = PackPreview.objects.get()
    assert list(preview.prompts.values_list("status", flat=True)) == ["done"] * 3
    assert (preview.status, preview.price, preview.model_id) == ("ready", 0, model.pk)
