"""A session id known before logging in is worth nothing after it; a changed or reset password
ends every other session of the account, and logging out ends the session for good."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD
from tests.security.browsing import ADMIN, admin_login, portal_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-31"


def session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def planted_session() -> str:
    """A session an attacker holds (made by visiting the site) and gets into a victim's
    browser."""
    store = session_store()()
    store["planted"] = True
    store.create()
    return store.session_key


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie and cookie.value else None


def signed_in(client: Client) -> bool:
    response = client.get("/dashboard/")
    return response.status_code == 200


def client_with(key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


@pytest.mark.parametrize(
    ("login", "who"), [(portal_login, "owner"), (admin_login, "staff")], ids=["portal", "admin"]
)
def test_a_session_planted_before_login_is_not_the_one_after(request, login, who):
    user = request.getfixturevalue(who)
    planted = planted_session()
    victim = client_with(planted)
    login(victim, user.email)
    assert session_key(victim) not in (None, planted)
    assert signed_in(victim)
    # The attacker's copy of the planted id: no session at all, let alone the victim's.
    assert not session_store()().exists(planted)
    assert not signed_in(client_with(planted))


def test_an_invented_session_id_is_replaced_at_login(owner):
    invented = "attackerchosen0123456789abcdefgh"
    victim = client_with(invented)
    portal_login(victim, owner.email)
    assert session_key(victim) not in (None, invented)
    assert not signed_in(client_with(invented))


def test_logging_in_again_as_someone_else_starts_afresh(client, owner, other_user):
    portal_login(client, owner.email)
    first = session_key(client)
    client.post("/accounts/logout/")
    portal_login(client, other_user.email)
    assert session_key(client) != first
    assert not signed_in(client_with(first))


def test_logging_out_ends_the_session_for_good(client, owner):
    portal_login(client, owner.email)
    key = session_key(client)
    assert client.post("/accounts/logout/").status_code == 302
    assert not session_store()().exists(key)
    assert not signed_in(client_with(key))
    assert not signed_in(client)


def test_a_password_change_ends_every_other_session_and_renews_its_own(owner):
    here, elsewhere = Client(), Client()
    portal_login(here, owner.email)
    portal_login(elsewhere, owner.email)
    before = session_key(here)
    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    # The session that changed it goes on, under a new id; the old id is dead.
    assert signed_in(here)
    assert session_key(here) != before
    assert not signed_in(client_with(before))
    # Anywhere else (a stolen cookie, a forgotten laptop) is signed out.
    assert not signed_in(elsewhere)


def test_a_password_reset_ends_every_session_of_the_account(
    owner, django_capture_on_commit_callbacks
):
    elsewhere = Client()
    portal_login(elsewhere, owner.email)
    resetting = Client()
    with django_capture_on_commit_callbacks(execute=True):
        resetting.post("/accounts/password/reset/", {"email": owner.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form_url = resetting.get(link.group(1))["Location"]
    response = resetting.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not signed_in(elsewhere)
    assert not signed_in(resetting)  # a reset does not sign anyone in: they log in afresh


def test_staff_changing_their_password_in_admin_ends_their_other_sessions(staff):
    here, elsewhere = Client(), Client()
    admin_login(here, staff.email)
    admin_login(elsewhere, staff.email)
    response = here.post(
        f"{ADMIN}password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get(ADMIN).status_code == 200
    assert elsewhere.get(ADMIN).status_code == 302
