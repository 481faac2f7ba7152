"""allauth's URLs (sign-up, login, e-mail, passwords, two-factor) say what guards them too.

test_url_access.py covers the portal's own URLs and test_admin_roles.py admin's; this table is
the rest under accounts/. A URL allauth adds (a new feature switched on, a new release) fails
`test_every_account_url_has_an_entry` until it is placed here."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.security.test_url_access import portal_urls

pytestmark = pytest.mark.django_db

# For someone signed out: the ways in, and the steps of a flow that carry their own key or
# state (a reset link's key, a pending login in the session).
SIGNED_OUT = {
    "account_login",
    "account_signup",
    "account_inactive",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_login_code",
    "mfa_authenticate",
    "account_logout",  # a POST that ends the session; for a visitor there is nothing to end
}
# Only for someone signed in: a visitor is sent to log in.
SIGNED_IN = {
    "account_reauthenticate",
    "account_email",
    "account_change_password",
    "account_set_password",
    "mfa_index",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
}


def account_url_names() -> set[str]:
    everything = portal_urls(left_out=("admin/", "sandbox/"))
    return {name for name, _ in everything if name.startswith(("account_", "mfa_"))}


def test_every_account_url_has_an_entry():
    assert not SIGNED_OUT & SIGNED_IN
    names = account_url_names()
    missing = names - SIGNED_OUT - SIGNED_IN
    assert not missing, f"say who may reach these URLs in {__name__}: {sorted(missing)}"
    assert names >= SIGNED_OUT | SIGNED_IN, "an entry for a URL that no longer exists"


@pytest.mark.parametrize("name", sorted(SIGNED_IN))
def test_a_visitor_is_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "name", sorted(SIGNED_OUT - {"account_confirm_email", "account_reset_password_from_key"})
)
def test_a_visitor_reaches_the_ways_in(client, name):
    """No 500 and no 403 for someone signed out (a step out of order sends them back)."""
    assert client.get(reverse(name)).status_code in (200, 302)
