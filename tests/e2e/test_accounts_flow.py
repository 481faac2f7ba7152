"""A newcomer in Chromium: sign up, verify from the e-mail, log in, reach the dashboard."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import csp_check, csp_watch
from tests.factories import PASSWORD

pytestmark = [pytest.mark.chromium, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "sunny-tripod-lens-84"


def test_it_signs_up_verifies_logs_in_and_sees_the_dashboard(page):
    page.goto("/")
    page.get_by_role("link", name="Create your account").click()
    page.get_by_label("E-mail").fill("newcomer@example.com")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    assert [m.to for m in mail.outbox] == [["newcomer@example.com"]]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    page.get_by_label("E-mail").fill("newcomer@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("You have no photoshoots yet.")).to_be_visible()


def test_a_wrong_password_gets_a_clear_message(page, owner):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD + "-typo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That e-mail and password do not match.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/dashboard/"])
def test_pages_fit_a_phone_screen(browser, live_server, owner, path):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True
    )
    violations: list[str] = []
    csp_watch(context, violations)
    try:
        phone = context.new_page()
        if path == "/dashboard/":
            phone.goto("/accounts/login/")
            phone.get_by_label("E-mail").fill("owner@example.com")
            phone.get_by_label("Password").fill(PASSWORD)
            phone.get_by_role("button", name="Log in").click()
        phone.goto(path)
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 360px screen"
        phone.screenshot(path=f"var/screenshots/phone{path.replace('/', '_')}.png", full_page=True)
    finally:
        context.close()
    csp_check(violations)
