from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-31"


def test_a_user_changes_the_password(client, owner):
    client.force_login(owner)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_wrong_current_password_changes_nothing(client, owner):
    client.force_login(owner)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "not-it", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert b"Please type your current password." in response.content
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_user_resets_a_forgotten_password_by_email(
    client, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "owner@example.com"})
    assert mail.outbox[0].to == ["owner@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    # The key in the link is swapped for a session token by a redirect, as in Django's own flow.
    form_url = client.get(link.group(1))["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    response = client.post(
        "/accounts/login/", {"login": "owner@example.com", "password": NEW_PASSWORD}
    )
    assert response["Location"] == "/dashboard/"


def test_the_reset_email_names_the_site(client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "owner@example.com"})
    body = mail.outbox[0].body
    assert body.startswith("Hello from PhotoShoot!")
    assert body.endswith("Thank you for using PhotoShoot!\ntestserver")
