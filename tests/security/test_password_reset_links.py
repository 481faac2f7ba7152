"""A password-reset link works once: after it is used, after the password changed another way,
or once a newer link was sent, it is refused, and the old password no longer logs in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD
from tests.security.browsing import portal_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-31"
ATTACKER_PASSWORD = "the-attackers-choice-77"
REFUSED = b"This link no longer works"


@pytest.fixture
def request_link(django_capture_on_commit_callbacks):
    """Ask for a reset of `email` as anyone may; the path of the link the e-mail carries."""

    def request_link(email: str) -> str:
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/accounts/password/reset/", {"email": email})
        assert response.status_code == 302
        assert len(mail.outbox) == before + 1
        body = mail.outbox[-1].body
        return re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", body).group(1)

    return request_link


def use_link(link: str, password: str, client: Client | None = None) -> bool:
    """Open the link and set `password` through it, as its reader would; whether it worked."""
    client = client or Client()
    response = client.get(link)
    if response.status_code != 302:
        assert response.status_code == 200 and REFUSED in response.content
        return False
    response = client.post(response["Location"], {"password1": password, "password2": password})
    return response.status_code == 302 and response["Location"].endswith("/key/done/")


def can_log_in(email: str, password: str) -> bool:
    response = Client().post("/accounts/login/", {"login": email, "password": password})
    return response.status_code == 302 and response["Location"] == "/dashboard/"


def test_a_link_works_once(owner, request_link):
    link = request_link(owner.email)
    assert use_link(link, NEW_PASSWORD)
    assert not use_link(link, ATTACKER_PASSWORD)
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert not can_log_in(owner.email, PASSWORD)
    assert can_log_in(owner.email, NEW_PASSWORD)


def test_the_form_a_link_opened_cannot_be_sent_twice(owner, request_link):
    # The link's key is kept in the session of whoever opened it, behind the form's URL.
    client = Client()
    form_url = client.get(request_link(owner.email))["Location"]
    passwords = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert client.post(form_url, passwords).status_code == 302
    again = {"password1": ATTACKER_PASSWORD, "password2": ATTACKER_PASSWORD}
    response = client.post(form_url, again)
    assert not (response.status_code == 302 and response["Location"].endswith("/key/done/"))
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_link_dies_when_the_password_is_changed_another_way(client, owner, request_link):
    link = request_link(owner.email)
    portal_login(client, owner.email)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not use_link(link, ATTACKER_PASSWORD)
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_newer_link_replaces_the_older_ones(owner, request_link):
    # A link that leaked from an old e-mail (a shared inbox, a forwarded message) must not
    # outlive the one the user asked for last.
    oldest, older = request_link(owner.email), request_link(owner.email)
    newest = request_link(owner.email)
    assert len({oldest, older, newest}) == 3
    assert not use_link(oldest, ATTACKER_PASSWORD)
    assert not use_link(older, ATTACKER_PASSWORD)
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)  # nothing changed yet
    assert use_link(newest, NEW_PASSWORD)
    assert not can_log_in(owner.email, PASSWORD)


def test_a_link_opened_before_a_newer_one_was_sent_cannot_be_used(owner, request_link):
    client = Client()
    form_url = client.get(request_link(owner.email))["Location"]
    request_link(owner.email)
    response = client.post(
        form_url, {"password1": ATTACKER_PASSWORD, "password2": ATTACKER_PASSWORD}
    )
    assert not (response.status_code == 302 and response["Location"].endswith("/key/done/"))
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_link_is_for_its_own_account_only(owner, other_user, request_link):
    link = request_link(owner.email)
    _uid, key = re.match(r"/accounts/password/reset/key/(\w+)-(.+)/", link).groups()
    other_uid = re.match(r"/accounts/password/reset/key/(\w+)-", request_link(other_user.email))
    forged = f"/accounts/password/reset/key/{other_uid.group(1)}-{key}/"
    assert forged != link
    assert not use_link(forged, ATTACKER_PASSWORD)
    other_user.refresh_from_db()
    assert other_user.check_password(PASSWORD)
