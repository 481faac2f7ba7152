"""The e-mails a photoshoot sends when it ends, in plain text and HTML: the site's name, what
happened, and a button to its page."""

from __future__ import annotations

import pytest
from django.core import mail

from tests import factories
from tests.emails import button_href, html_part
from tunes.photoshoots import photoshoot_fail, photoshoot_finish_if_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def generating(settings, owner):
    settings.PUBLIC_BASE_URL = "https://photos.example.com"
    pack = factories.PackFactory(title="Corporate headshots & more")
    return factories.PhotoshootFactory(owner=owner, pack=pack, status="generating", price=10)


def test_the_ready_email_links_the_gallery_in_text_and_html(
    generating, django_capture_on_commit_callbacks
):
    prompt = factories.PromptFactory(photoshoot=generating, status="done")
    factories.PhotoFactory.create_batch(3, prompt=prompt)
    with django_capture_on_commit_callbacks(execute=True):
        photoshoot_finish_if_done(photoshoot_id=generating.pk)
    [message] = mail.outbox
    link = f"https://photos.example.com/photoshoots/{generating.code}/"
    assert message.subject == "[PhotoShoot] Your Corporate headshots & more photos are ready"
    assert message.body.startswith("Hello from PhotoShoot!")
    assert "3 photos in your gallery" in message.body and link in message.body
    html = html_part(message)
    assert "Hello from PhotoShoot!" not in html  # its own heading…
    assert "PhotoShoot</span>" in html and "photos.example.com" in html  # …under the site's name
    assert button_href(html) == link and "See my photos</a>" in html
    assert "Corporate headshots &amp; more" in html  # escaped, unlike the text part
    assert "3 photos in your gallery" in html


def test_the_failed_email_says_why_and_the_refund_in_text_and_html(
    generating, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        photoshoot_fail(photoshoot_id=generating.pk, reason="Astria <refused> the scenes.")
    [message] = mail.outbox
    link = f"https://photos.example.com/photoshoots/{generating.code}/"
    assert (
        message.subject
        == "[PhotoShoot] Your Corporate headshots & more photoshoot could not be made"
    )
    assert "Astria <refused> the scenes." in message.body
    assert (
        "Your credits have been refunded. The 10 credits it cost are back in your account."
        in message.body
    )
    assert link in message.body and "PhotoShoot" in message.body
    html = html_part(message)
    assert "Astria &lt;refused&gt; the scenes." in html
    assert (
        "Your credits have been refunded. The 10 credits it cost are back in your account." in html
    )
    assert button_href(html) == link and "PhotoShoot</span>" in html


def test_a_preview_sends_no_email(settings, django_capture_on_commit_callbacks):
    preview = factories.PhotoshootFactory(status="generating", kind="preview")
    with django_capture_on_commit_callbacks(execute=True):
        photoshoot_fail(photoshoot_id=preview.pk, reason="No.")
    assert mail.outbox == []
