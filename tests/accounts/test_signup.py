from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test.html import Element, parse_html

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def sign_up(client, capture, email="ann@example.com"):
    with capture(execute=True):
        return client.post(
            "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
        )


def confirmation_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)


def test_it_creates_an_unverified_user_and_sends_the_link(
    client, django_capture_on_commit_callbacks
):
    response = sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="ann@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ann@example.com"]
    assert mail.outbox[0].subject.startswith("[PhotoShoot]")


def test_the_email_names_the_site(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    body = mail.outbox[0].body
    assert body.startswith("Hello from PhotoShoot!")
    assert "register an account on testserver." in body
    assert body.endswith("Thank you for using PhotoShoot!\ntestserver")


def test_it_keeps_an_unverified_user_out(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    client.logout()
    response = client.post("/accounts/login/", {"login": "ann@example.com", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/dashboard/").status_code == 302


def test_the_link_verifies_and_the_user_then_logs_in(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    link = confirmation_link(mail.outbox[0])
    client.logout()
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="ann@example.com").verified

    response = client.post("/accounts/login/", {"login": "ann@example.com", "password": PASSWORD})
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_an_address_taken_in_other_letters_creates_no_second_user(
    client, owner, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks, email="OWNER@Example.com")
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1


def test_it_refuses_a_weak_password_with_a_plain_message(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "ann@example.com", "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert b"This password is too common." in response.content
    assert not User.objects.filter(email="ann@example.com").exists()


def field_block(html: str, name: str) -> Element:
    """The element that holds the form's input called `name`: its label, help and errors."""
    blocks = [parse_html(html)]
    while blocks:
        block = blocks.pop()
        children = [child for child in block.children if isinstance(child, Element)]
        if any(c.name == "input" and ("name", name) in c.attributes for c in children):
            return block
        blocks.extend(children)
    raise AssertionError(f"no input called {name}")


def test_a_password_error_sits_with_the_password_field(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "ann@example.com", "password1": "12345678", "password2": "12345678"},
    )
    html = response.content.decode()
    assert "This password is too common." in str(field_block(html, "password1"))
    assert "This password is too common." not in str(field_block(html, "email"))


def test_a_second_password_that_differs_is_flagged_there(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "ann@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    html = response.content.decode()
    assert "You must type the same password each time." in str(field_block(html, "password2"))
    assert "You must type the same password" not in str(field_block(html, "password1"))


def test_the_database_refuses_one_address_in_two_spellings(owner):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        User.objects.create_user("Owner@EXAMPLE.com", "pw")
