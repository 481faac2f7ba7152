"""allauth's pages speak the portal's words: "Sign up", "Log in", "Log out", "e-mail" (allauth
says "Sign Up", "Sign In", "Sign Out", "Email", "Email address"), in what a person sees or
hears: text, labels, placeholders, buttons and titles."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core import mail

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ALLAUTH_WORDS = re.compile(r"Sign In|Sign Up|Sign Out|Sign in|\bEmail\b|\bemail\b|Signup")


class VisibleText(HTMLParser):
    """The page's text nodes (not scripts or styles), and the attributes people read."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title", "alt") and value:
                self.parts.append(value)
            if name == "value" and value and ("type", "submit") in attrs:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def visible(response) -> str:
    assert response.status_code == 200, response
    parser = VisibleText()
    parser.feed(response.content.decode())
    return " | ".join(parser.parts)


def assert_portal_words(response) -> str:
    text = visible(response)
    assert not ALLAUTH_WORDS.findall(text), f"allauth's words in: {text}"
    return text


def test_the_login_page_says_log_in_and_e_mail(client):
    text = assert_portal_words(client.get("/accounts/login/"))
    assert "Log in | · PhotoShoot" in text or text.startswith("Log in")
    assert "E-mail" in text and "Sign up" in text


def test_the_signup_page_says_sign_up(client):
    text = assert_portal_words(client.get("/accounts/signup/"))
    assert "Sign up" in text and "E-mail" in text and "Password again" in text


def test_the_login_error_says_e_mail(client, owner):
    response = client.post("/accounts/login/", {"login": owner.email, "password": "wrong-1"})
    text = assert_portal_words(response)
    assert "e-mail" in text


def test_the_password_reset_pages_say_e_mail(client, owner, django_capture_on_commit_callbacks):
    assert_portal_words(client.get("/accounts/password/reset/"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": owner.email}, follow=True)
    assert "Check your e-mail" in assert_portal_words(response)
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in assert_portal_words(form)
    done = client.post(
        form.redirect_chain[-1][0],
        {"password1": "new-sunny-lens-42", "password2": "new-sunny-lens-42"},
        follow=True,
    )
    assert "Your password is changed" in assert_portal_words(done)
    # The same link again: used, so it says so in the same words.
    assert "This link no longer works" in assert_portal_words(
        client.get(link.group(1), follow=True)
    )


def test_the_verification_and_confirm_pages_say_e_mail(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            "/accounts/signup/",
            {"email": "ann@example.com", "password1": PASSWORD, "password2": PASSWORD},
            follow=True,
        )
    assert "Check your e-mail" in assert_portal_words(sent)
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    confirm = assert_portal_words(client.get(link.group(1)))
    assert "Confirm your e-mail" in confirm and "ann@example.com" in confirm
    assert "expired" in assert_portal_words(client.get("/accounts/confirm-email/not-a-key/"))


def test_the_logout_page_says_log_out(client, owner):
    client.force_login(owner)
    text = assert_portal_words(client.get("/accounts/logout/"))
    assert "Log out" in text
    response = client.post("/accounts/logout/", follow=True)
    assert "You have logged out." in assert_portal_words(response)


def test_logging_in_says_logged_in(client, owner):
    response = client.post(
        "/accounts/login/", {"login": owner.email, "password": PASSWORD}, follow=True
    )
    assert "You are logged in as" in visible(response)


@pytest.mark.parametrize("path", ["/accounts/email/", "/accounts/password/change/"])
def test_the_account_pages_a_member_reaches_from_the_profile_say_e_mail(client, owner, path):
    client.force_login(owner)
    text = assert_portal_words(client.get(path))
    assert "e-mail" in text or "password" in text
