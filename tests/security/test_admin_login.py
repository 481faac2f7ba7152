"""Hole 3 of the red-team pass: admin's login had no rate limit (20 wrong passwords, then the
right one worked). Admin now signs in through the portal's login, with its limits and
lock-out, and two-factor authentication (TOTP) is offered to everyone and required of staff
where STAFF_REQUIRE_MFA is on (by default in production)."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from tests.factories import PASSWORD
from tests.photoshoot.test_settings import PRODUCTION, manage

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts. Try again later."


def totp_for(user) -> str:
    """Activate an authenticator app for `user`; returns its secret."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(user, secret)
    return secret


def code_now(secret: str) -> str:
    """The app's code now; near the end of a 30 s step, the next step's, once it has begun
    (allauth accepts the current step only, and the test must not straddle two)."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def admin_opens(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_admin_sends_people_to_the_portals_login(client):
    response = client.get("/admin/login/?next=/admin/tunes/photoshoot/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Ftunes%2Fphotoshoot%2F"


def test_twenty_wrong_passwords_at_admins_login_then_the_right_one_opens_nothing(client, staff):
    for attempt in range(20):
        client.post("/admin/login/", {"username": staff.email, "password": f"guess-{attempt}"})

    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})

    assert not admin_opens(client)


def test_the_login_admin_sends_to_locks_after_five_failures(client, staff):
    url = "/accounts/login/?next=/admin/"
    for attempt in range(5):
        client.post(url, {"login": staff.email, "password": f"guess-{attempt}"})

    response = client.post(url, {"login": staff.email, "password": PASSWORD})

    assert LOCKED in response.content.decode()
    assert not admin_opens(client)


def test_staff_sign_in_to_admin_with_the_portal_login(client, staff):
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert admin_opens(client)


def test_with_an_authenticator_the_password_alone_opens_nothing(client, staff):
    secret = totp_for(staff)

    response = client.post(
        "/accounts/login/?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )

    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert not admin_opens(client)
    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "Incorrect code." in response.content.decode()
    assert not admin_opens(client)
    response = client.post("/accounts/2fa/authenticate/", {"code": code_now(secret)})
    assert response.status_code == 302
    assert admin_opens(client)


def test_a_customer_can_turn_on_two_factor_from_their_profile(client, owner):
    client.force_login(owner)
    assert 'href="/accounts/2fa/"' in client.get("/profile/").content.decode()
    # allauth asks for the password again before two-factor settings change.
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post("/accounts/2fa/totp/activate/", {"code": code_now(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=owner, type=Authenticator.Type.TOTP).exists()


def test_where_required_staff_set_up_two_factor_before_admin_opens(client, staff, settings):
    settings.STAFF_REQUIRE_MFA = True
    client.force_login(staff)

    response = client.get("/admin/tunes/photoshoot/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    totp_for(staff)
    assert client.get("/admin/tunes/photoshoot/").status_code == 200


def test_the_requirement_leaves_customers_and_the_portal_alone(client, owner, staff, settings):
    settings.STAFF_REQUIRE_MFA = True
    client.force_login(owner)
    assert client.get("/profile/").status_code == 200
    client.force_login(staff)
    assert client.get("/profile/").status_code == 200


def test_production_requires_two_factor_of_staff_by_default():
    script = "from django.conf import settings as s; print(s.STAFF_REQUIRE_MFA)"
    assert manage("shell", "--no-imports", "-c", script, **PRODUCTION).stdout.strip() == "True"
    development = manage("shell", "--no-imports", "-c", script, DJANGO_ENV="development")
    assert development.stdout.strip() == "False"


def test_superusers_see_who_has_two_factor_before_giving_staff_status(client, staff, owner):
    totp_for(owner)
    client.force_login(staff)
    rows = client.get("/admin/accounts/user/").context["cl"].result_list
    assert {user.email: user.has_totp for user in rows} == {
        "owner@example.com": True,
        "staff@example.com": False,
    }
