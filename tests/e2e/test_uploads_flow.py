"""A user in Chromium uploads several selfies at once, watches them, removes one."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import csp_check, csp_watch
from tests.factories import PASSWORD
from tests.images import photo_bytes
from uploads.models import Selfie, SelfieSet

pytestmark = [pytest.mark.chromium, pytest.mark.django_db(transaction=True)]


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def uploader_ready(page, name: str) -> None:
    """After "Create the set": the set's page is there and has loaded. uploads.js is deferred
    and listens for chosen files only once it has run: files set before that are never
    uploaded (seen on a loaded machine, where the heading shows well before the script runs)."""
    expect(page.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    page.wait_for_load_state("load")


def selfies_upload(page, count: int = 4) -> None:
    """From any page: a new selfie set of a woman, `count` photos uploaded and verified."""
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
            for n in range(count)
        ]
    )
    expect(page.locator(".photo.done img")).to_have_count(count, timeout=30_000)


def test_it_uploads_several_files_shows_progress_and_thumbnails_and_removes_one(page, owner):
    log_in(page, owner.email)
    page.get_by_role("link", name="Selfies", exact=True).click()
    page.get_by_role("link", name="New selfie set").click()
    page.get_by_label("Name of the set").fill("Me, this year")
    page.get_by_label("Who is in the photos").select_option("woman")
    page.get_by_role("button", name="Create the set").click()
    uploader_ready(page, "Me, this year")

    # Hold each upload a moment, as a phone connection would, so the progress can be seen.
    def slow(route):
        time.sleep(0.5)
        route.continue_()

    page.route("**/uploads/direct/", slow)
    files = [
        {"name": f"selfie-{n}.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes(seed=n)}
        for n in range(3)
    ]
    files.append({"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.5 notes"})
    page.locator("#file-input").set_input_files(files)

    expect(page.get_by_label("Uploading selfie-0.jpg")).to_be_visible()
    done = page.locator(".photo.done img")
    expect(done).to_have_count(3, timeout=30_000)
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^This is a PDF document, not a photo\.")
    )
    expect(page.locator("#photo-count")).to_have_text("3")
    for n in range(3):
        expect(page.get_by_alt_text(f"selfie-{n}.jpg")).to_be_visible()
    assert page.evaluate(
        "[...document.querySelectorAll('.photo.done img')].every(i => i.naturalWidth > 0)"
    )

    page.locator(".photo.done", has=page.get_by_alt_text("selfie-1.jpg")).get_by_role(
        "button", name="Remove"
    ).click()
    expect(done).to_have_count(2)
    expect(page.locator("#photo-count")).to_have_text("2")
    names = set(Selfie.objects.values_list("original_name", flat=True))
    assert names == {"selfie-0.jpg", "selfie-2.jpg"}

    # After a reload the page shows what the server kept.
    page.reload()
    expect(page.locator(".photo img")).to_have_count(2)
    assert SelfieSet.objects.get().owner == owner


def test_the_upload_page_fits_a_phone(browser, live_server, owner):
    SelfieSet.objects.create(owner=owner, name="Phone set", subject_class="man")
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True
    )
    violations: list[str] = []
    csp_watch(context, violations)
    try:
        phone = context.new_page()
        log_in(phone, owner.email)
        phone.goto("/sets/")
        phone.get_by_role("link", name="Phone set").click()
        expect(phone.get_by_text("Choose photos")).to_be_visible()
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        phone.screenshot(path="var/screenshots/phone_set_detail.png", full_page=True)
    finally:
        context.close()
    csp_check(violations)
