"""allauth's e-mails leave in two parts, plain text and HTML, both naming the site and holding
the link the reader needs (the HTML part as a button)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.emails import button_href, html_part

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def test_it_sends_the_sign_up_link_in_text_and_html(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {"email": "ann@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    [message] = mail.outbox
    link = re.search(r"http://testserver/accounts/confirm-email/\S+/", message.body).group(0)
    html = html_part(message)
    assert "Hello from PhotoShoot!" in message.body and "Hello from PhotoShoot!" in html
    assert "Thank you for using PhotoShoot!" in html and "testserver" in html
    assert button_href(html) == link
    assert "Confirm my e-mail address</a>" in html
    assert "ann@example.com" in html


def test_it_sends_the_reset_link_in_text_and_html(
    client, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "owner@example.com"})
    [message] = mail.outbox
    link = re.search(r"http://testserver/accounts/password/reset/key/\S+/", message.body).group(0)
    html = html_part(message)
    assert "PhotoShoot" in message.body and "Hello from PhotoShoot!" in html
    assert button_href(html) == link
    assert "Choose a new password</a>" in html
    # The link in the HTML part works like the one in the text.
    assert client.get(link.removeprefix("http://testserver")).status_code == 302


def test_an_unknown_address_gets_the_sign_up_link_in_html_too(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    [message] = mail.outbox
    html = html_part(message)
    assert button_href(html) == "http://testserver/accounts/signup/"
    assert "Hello from PhotoShoot!" in html


def test_a_taken_address_at_sign_up_gets_the_reset_link_in_html_too(
    client, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {"email": "owner@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    [message] = mail.outbox
    html = html_part(message)
    assert button_href(html) == "http://testserver/accounts/password/reset/"
    assert "an account with this address exists already" in html
