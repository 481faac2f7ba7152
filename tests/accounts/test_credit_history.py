"""The credit history: every grant, debit and refund of the signed-in user, newest first."""

from __future__ import annotations

import re

import pytest

from accounts.credits import credits_debit, credits_grant, credits_refund
from tests import factories

pytestmark = pytest.mark.django_db


def rows(page: str) -> list[str]:
    """Each row of the history as its text, spaces squeezed."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in found]


def test_it_sends_anonymous_users_to_login(client):
    response = client.get("/credits/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/credits/"


def test_it_lists_grants_debits_and_refunds_newest_first(client, owner, staff):
    photoshoot = factories.PhotoshootFactory(owner=owner)
    credits_grant(user=owner, amount=20, reason="Welcome credits")
    credits_debit(user=owner, amount=9, reason="Navy suits photoshoot", cause=photoshoot)
    credits_refund(user=owner, amount=3, reason="A scene could not be made", cause=photoshoot)
    credits_grant(user=owner, amount=5, reason="Sorry for the wait", created_by=staff)
    client.force_login(owner)
    page = client.get("/credits/").content.decode()
    assert [row.split(" ", 3)[3] for row in rows(page)] == [
        "Added +5 Sorry for the wait",
        "Refunded +3 A scene could not be made",
        "Spent −9 Navy suits photoshoot",
        "Added +20 Welcome credits",
    ]
    assert "19 credits" in page  # the balance they add up to
    assert "staff@example.com" not in page  # who granted it is staff's business


def test_it_shows_only_the_users_own_entries(client, owner, other_user):
    credits_grant(user=owner, amount=20, reason="Welcome credits")
    credits_grant(user=other_user, amount=50, reason="Someone else's gift")
    client.force_login(owner)
    page = client.get("/credits/").content.decode()
    assert "Welcome credits" in page
    assert "Someone else" not in page


def test_it_has_an_empty_state(client, owner):
    client.force_login(owner)
    page = client.get("/credits/").content.decode()
    assert "No credits have come or gone yet." in page


def test_it_comes_a_page_at_a_time(client, owner):
    for number in range(55):
        credits_grant(user=owner, amount=1, reason=f"Gift {number}")
    client.force_login(owner)
    first = client.get("/credits/").content.decode()
    assert len(rows(first)) == 50 and "Gift 54" in first and 'href="?page=2"' in first
    second = client.get("/credits/?page=2").content.decode()
    assert len(rows(second)) == 5 and "Gift 0" in second


def test_the_dashboard_and_the_profile_link_to_it(client, owner):
    client.force_login(owner)
    for url in ("/dashboard/", "/profile/"):
        assert 'href="/credits/"' in client.get(url).content.decode(), url


def test_the_admin_credit_form_names_the_page_the_user_sees(client, staff, owner):
    client.force_login(staff)
    page = client.get(f"/admin/accounts/user/{owner.pk}/credits/").content.decode()
    assert "ledger" not in page
    assert "credit history" in page
