from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_the_admin_login(client, owner):
    response = client.get(f"/admin/accounts/user/{owner.pk}/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_customer_cannot_reach_another_users_admin_page(client, owner, other_user):
    client.force_login(owner)
    for url in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{other_user.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_staff_finds_a_user_by_email(client, staff, owner, other_user):
    client.force_login(staff)
    response = client.get("/admin/accounts/user/", {"q": "owner@"})
    assert response.status_code == 200
    assert b"owner@example.com" in response.content
    assert b"other@example.com" not in response.content


def test_staff_opens_a_user(client, staff, owner):
    client.force_login(staff)
    response = client.get(f"/admin/accounts/user/{owner.pk}/change/")
    assert response.status_code == 200
    assert b"owner@example.com" in response.content


def test_staff_adds_a_user_by_email(client, staff):
    from accounts.models import User

    client.force_login(staff)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@example.com",
            "usable_password": "true",
            "password1": "a-long-admin-password-7",
            "password2": "a-long-admin-password-7",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").check_password("a-long-admin-password-7")


@pytest.mark.parametrize("email", ["owner@example.com", "Owner@Example.COM"])
def test_adding_a_user_whose_email_is_taken_says_so_plainly(client, staff, owner, email):
    from accounts.models import User

    client.force_login(staff)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": email,
            "usable_password": "true",
            "password1": "a-long-admin-password-7",
            "password2": "a-long-admin-password-7",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Once, under the e-mail field.
    assert html.count("A user with this e-mail address already exists.") == 1
    assert '<ul class="errorlist" id="id_email_error"><li>A user with this e-mail' in html
    assert "accounts_user_email_ci_unique" not in html
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1


def test_changing_an_email_to_a_taken_one_says_so_plainly(client, staff, owner, other_user):
    client.force_login(staff)  # a superuser: only they change addresses
    response = client.post(
        f"/admin/accounts/user/{other_user.pk}/change/",
        {
            "email": "OWNER@example.com",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "credit_entries-TOTAL_FORMS": "0",
            "credit_entries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A user with this e-mail address already exists." in html
    assert "accounts_user_email_ci_unique" not in html
    other_user.refresh_from_db()
    assert other_user.email == "other@example.com"


def test_a_creative_without_user_permissions_cannot_see_users(client, creative, owner):
    client.force_login(creative)
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get(f"/admin/accounts/user/{owner.pk}/change/").status_code == 403


def test_staff_grants_credits_through_the_ledger(client, staff, owner):
    from django.contrib.admin.models import LogEntry

    from accounts.models import CreditEntry

    client.force_login(staff)
    page = client.get(f"/admin/accounts/user/{owner.pk}/change/")
    assert b"Grant or take credits" in page.content

    response = client.post(
        f"/admin/accounts/user/{owner.pk}/credits/",
        {"amount": "15", "reason": "Sorry for the wait"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.credits == 15
    entry = CreditEntry.objects.get(user=owner)
    assert (entry.kind, entry.amount, entry.reason, entry.created_by) == (
        "grant",
        15,
        "Sorry for the wait",
        staff,
    )
    assert LogEntry.objects.get(object_id=str(owner.pk)).get_change_message() == (
        "Credits +15: Sorry for the wait"
    )
    # The balance and the ledger are on the user's page.
    page = client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    assert "Sorry for the wait" in page and "staff@example.com" in page


def test_taking_more_credits_than_the_balance_changes_nothing(client, staff, owner):
    from accounts.credits import credits_grant
    from accounts.models import CreditEntry

    credits_grant(user=owner, amount=5, reason="Welcome credits")
    client.force_login(staff)
    url = f"/admin/accounts/user/{owner.pk}/credits/"
    response = client.post(url, {"amount": "-6", "reason": "Chargeback"})
    assert response.status_code == 200
    assert "owner@example.com has 5 credits: take at most that many." in response.content.decode()
    for bad in (
        {"amount": "0", "reason": "x"},
        {"amount": "ten", "reason": "x"},
        {"amount": "3"},
        {"amount": "99999999999", "reason": "x"},
    ):
        assert client.post(url, bad).status_code == 200
    owner.refresh_from_db()
    assert owner.credits == 5
    assert CreditEntry.objects.filter(user=owner).count() == 1

    client.post(url, {"amount": "-5", "reason": "Chargeback"})
    owner.refresh_from_db()
    assert owner.credits == 0


def test_a_creative_cannot_grant_credits(client, creative, owner):
    client.force_login(creative)
    response = client.post(
        f"/admin/accounts/user/{owner.pk}/credits/", {"amount": "100", "reason": "For me"}
    )
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.credits == 0
