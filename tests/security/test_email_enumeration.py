"""Nobody learns whether an address has an account: sign-up, password reset, login and adding
an address answer the same for a customer's address and an unknown one (the same status, the
same redirects, the same page apart from the address itself). Timing is not measured here."""

from __future__ import annotations

import difflib
import re
from html.parser import HTMLParser
from itertools import chain

import pytest
from allauth.account import app_settings
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.factories import PASSWORD
from tests.security.browsing import follow, portal_login

pytestmark = pytest.mark.django_db

KNOWN = "owner@example.com"
UNKNOWN = "ownerless@example.com"  # sorts where KNOWN does in a list of addresses
NEW_PASSWORD = "pale-green-door-7"


class _Page(HTMLParser):
    """What a visitor can read or send back: the text, and the form fields with their values
    (but the CSRF token, which differs on every page)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(" ".join(data.split()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag in ("input", "textarea", "select") and fields.get("name") != "csrfmiddlewaretoken":
            self.parts.append(f"<{tag} {fields.get('name')}={fields.get('value')}>")


def seen(responses: list, address: str) -> list[str]:
    """Everything a visitor saw on the way, a line each, the address itself made anonymous."""
    out: list[str] = []
    for response in responses:
        out.append(f"status {response.status_code}")
        if response.get("Location"):
            out.append(f"to {response['Location']}")
        if response.get("Content-Type", "").startswith("text/html"):
            page = _Page()
            page.feed(response.content.decode())
            out += page.parts
    return [re.sub(re.escape(address), "ADDRESS", line, flags=re.IGNORECASE) for line in out]


def assert_same(known: list[str], unknown: list[str]) -> None:
    diff = "\n".join(difflib.unified_diff(known, unknown, "known", "unknown", lineterm=""))
    assert known == unknown, f"the answers tell the addresses apart:\n{diff}"


def visit(client: Client, method: str, url: str, data: dict[str, str]) -> list:
    """A request and the pages its redirects lead to."""
    response = getattr(client, method)(url, data)
    final, _ = follow(client, response, url)
    return [response, final] if final is not response else [response]


def test_allauth_is_set_to_hide_which_addresses_have_accounts():
    # True, not "strict": with mandatory verification True hides a taken address at sign-up
    # too, and "strict" would make a second account for it (which the database refuses).
    assert app_settings.PREVENT_ENUMERATION is True
    assert app_settings.EMAIL_VERIFICATION == app_settings.EmailVerificationMethod.MANDATORY
    assert app_settings.UNIQUE_EMAIL


@pytest.mark.parametrize("taken", [KNOWN, "OWNER@Example.COM"])
def test_signing_up_with_a_taken_address_looks_like_signing_up(
    owner, taken, django_capture_on_commit_callbacks
):
    def sign_up(address: str) -> list[str]:
        data = {"email": address, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        with django_capture_on_commit_callbacks(execute=True):
            return seen(visit(Client(), "post", "/accounts/signup/", data), address)

    assert_same(sign_up(taken), sign_up(UNKNOWN))
    assert User.objects.filter(email__iexact=KNOWN).count() == 1  # and no second account
    # Each address got an e-mail, so its owner, not the visitor, learns which it was.
    assert sorted(m.to[0].lower() for m in mail.outbox) == sorted([KNOWN, UNKNOWN])


def test_a_password_reset_answers_the_same_for_any_address(
    owner, django_capture_on_commit_callbacks
):
    def reset(address: str) -> list[str]:
        with django_capture_on_commit_callbacks(execute=True):
            responses = visit(Client(), "post", "/accounts/password/reset/", {"email": address})
        return seen(responses, address)

    assert_same(reset(KNOWN), reset(UNKNOWN))
    assert [m.to for m in mail.outbox] == [[KNOWN], [UNKNOWN]]


def test_a_wrong_password_reads_the_same_as_an_unknown_address(owner):
    def log_in(address: str) -> list[str]:
        data = {"login": address, "password": "not-the-password"}
        return seen(visit(Client(), "post", "/accounts/login/", data), address)

    assert_same(log_in(KNOWN), log_in(UNKNOWN))


def test_the_lock_out_reads_the_same_for_an_unknown_address(owner):
    """Five failures lock an account out; an address without one must look locked too."""

    def fail_repeatedly(address: str, ip: str) -> list[list[str]]:
        client = Client(REMOTE_ADDR=ip)  # the per-address limit, not the per-IP one
        data = {"login": address, "password": "not-the-password"}
        return [seen(visit(client, "post", "/accounts/login/", data), address) for _ in range(7)]

    known, unknown = fail_repeatedly(KNOWN, "127.0.0.2"), fail_repeatedly(UNKNOWN, "127.0.0.3")
    assert known[0] != known[-1]  # the lock-out did set in, and reads differently
    assert_same(list(chain(*known)), list(chain(*unknown)))


def test_adding_an_address_someone_else_has_reads_like_adding_a_free_one(
    other_user, django_capture_on_commit_callbacks, owner
):
    def add(address: str) -> list[str]:
        client = Client()
        portal_login(client, other_user.email)
        data = {"email": address, "action_add": ""}
        with django_capture_on_commit_callbacks(execute=True):
            answer = seen(visit(client, "post", "/accounts/email/", data), address)
        EmailAddress.objects.filter(user=other_user, primary=False).delete()  # as it was
        return answer

    assert_same(add(KNOWN), add(UNKNOWN))
    owner.refresh_from_db()
    assert owner.emailaddress_set.get().email == KNOWN  # still only the owner's


def test_the_unverified_sign_up_of_a_taken_address_cannot_log_in(
    owner, django_capture_on_commit_callbacks
):
    # Sign-up with a customer's address and the visitor's own password: the visitor must not
    # get in, nor get the customer's account, nor learn from the answer which it was.
    data = {"email": KNOWN, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/signup/", data)
    response = Client().post("/accounts/login/", {"login": KNOWN, "password": NEW_PASSWORD})
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
