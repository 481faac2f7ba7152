"""The Content-Security-Policy in Chromium: the `page` fixture's watch catches a real violation,
and every page the resolver knows (admin's and allauth's too) loads and works without one."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import User
from studio.models import PackPreview
from tests import factories
from tests.conftest import csp_check
from tests.e2e.test_uploads_flow import log_in
from tests.images import photo_bytes
from tests.security.test_csp import cases, superuser, url_of  # noqa: F401 - fixture
from tests.security.test_url_access import (  # noqa: F401 - fixture
    OWNED_IN_REQUEST,
    Objects,
    objects,
)
from uploads.models import SelfieSet
from uploads.storage import STUDIO_PREFIX

pytestmark = [pytest.mark.chromium, pytest.mark.django_db(transaction=True)]

# What an attacker's markup would try, added to the portal's own page as a script would be.
INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.inlineRan = true;";
  document.body.append(script);
  document.body.insertAdjacentHTML("beforeend",
    '<button id="handler" onclick="window.handlerRan = true">Click</button>' +
    '<p id="styled" style="color: rgb(255, 0, 0)">Red?</p>');
}"""


def events_of(page: Page, violations: list[str], count: int) -> list[str]:
    """The page's own violation events, once `count` have come (Playwright delivers them
    while it waits, not during time.sleep)."""
    for _ in range(50):
        events = sorted(v for v in violations if not v.startswith("console: "))
        if len(events) >= count:
            return events
        page.wait_for_timeout(100)
    return events


def test_the_watch_catches_an_injected_script_handler_and_style(page, csp_violations):
    page.goto("/")
    page.evaluate(INJECT)
    page.locator("#handler").click()
    assert page.evaluate("[window.inlineRan, window.handlerRan]") == [None, None]
    expect(page.locator("#styled")).not_to_have_css("color", "rgb(255, 0, 0)")
    assert events_of(page, csp_violations, 3) == [
        "script-src-attr refused inline on /",
        "script-src-elem refused inline on /",
        "style-src-attr refused inline on /",
    ]
    console = [v for v in csp_violations if v.startswith("console: ")]
    assert any("inline script violates" in v for v in console), console
    with pytest.raises(pytest.fail.Exception, match="Content-Security-Policy violations"):
        csp_check(csp_violations)  # what the fixture's teardown does with them
    csp_violations.clear()  # provoked on purpose: this test's teardown has nothing to report


def html_pages(user: User | None, owned: Objects) -> list[str]:
    """The GET URLs that answer `user` with an HTML page of their own (not a redirect)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    pages = []
    for name, method in cases():
        if method != "get":
            continue
        url = url_of(name, owned)
        if name in OWNED_IN_REQUEST:
            url += "?" + urlencode(OWNED_IN_REQUEST[name][1](owned))
        response = client.get(url)
        if response.status_code == 200 and "html" in response["Content-Type"]:
            pages.append(url)
    return pages


@pytest.fixture
def preview_with_images(objects: Objects, superuser: User) -> PackPreview:  # noqa: F811
    """A finished preview whose results (studio images) its admin page shows."""
    preview = PackPreview.objects.get()
    image, thumbnail = (
        storages["default"].save(f"{STUDIO_PREFIX}/{kind}.jpg", ContentFile(photo_bytes()))
        for kind in ("image", "thumbnail")
    )
    scene = factories.PromptFactory(
        photoshoot=preview,
        template="{subject} at the seaside",
        text="<lora:1:1> ohwx woman at the seaside",
        num_images=1,
        status="done",
    )
    factories.PhotoFactory(prompt=scene, index=0, image=image, thumbnail=thumbnail)
    PackPreview.objects.filter(pk=preview.pk).update(status="ready")
    return preview


def test_every_page_loads_without_a_violation(
    page,
    csp_violations,
    objects,  # noqa: F811
    superuser,  # noqa: F811
    preview_with_images,
):
    anonymous = html_pages(None, objects)
    signed_in = html_pages(superuser, objects)
    assert any(url.startswith("/admin/") for url in signed_in)
    assert "/accounts/login/" in anonymous
    for url in anonymous:
        page.goto(url)
        assert not csp_violations, url
    log_in(page, superuser.email)
    for url in signed_in:
        page.goto(url)
        page.wait_for_load_state("load")
        assert not csp_violations, url


def test_admin_scripts_work_under_the_policy(page, csp_violations, objects, superuser):  # noqa: F811
    log_in(page, superuser.email)
    page.goto("/admin/packs/pack/")
    page.locator("#action-toggle").check()  # actions.js: select every row
    expect(page.locator(".action-counter")).to_have_text(re.compile(r"^(\d+) of \1 selected"))
    page.goto(f"/admin/packs/pack/{objects.photoshoot.pack.pk}/change/")
    rows = page.locator("#prompts-group .inline-related:not(.empty-form)")
    before = rows.count()
    page.locator("#prompts-group .add-row a").click()  # inlines.js: a new prompt form
    expect(rows).to_have_count(before + 1)
    assert not csp_violations


def test_photos_go_to_the_bucket_and_show_from_it(page, owner, s3_storage):
    selfie_set = SelfieSet.objects.create(owner=owner, name="On S3", subject_class="woman")
    log_in(page, owner.email)
    page.goto(f"/sets/{selfie_set.code}/")
    photo = {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes(seed=3)}
    page.locator("#file-input").set_input_files([photo])
    thumbnail = page.locator(".photo.done img")
    expect(thumbnail).to_have_count(1, timeout=30_000)
    # The file went to the bucket (connect-src), the thumbnail comes from it (img-src).
    assert thumbnail.get_attribute("src").startswith(s3_storage["endpoint_url"] + "/")
    page.wait_for_function("() => document.querySelector('.photo.done img').naturalWidth > 0")
    assert selfie_set.selfies.get().status == "ready"
