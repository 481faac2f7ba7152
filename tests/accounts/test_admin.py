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


def test_a_creative_without_user_permissions_cannot_see_users(client, creative, owner):
    client.force_login(creative)
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get(f"/admin/accounts/user/{owner.pk}/change/").status_code == 403
