"""The hosted pay page in Chromium, on a phone: it fits, breaks no CSP rule, and its buttons do
what they say (the `page` fixture fails the test on any CSP violation)."""

from __future__ import annotations

import stripe

from tests.stripe_sandbox.conftest import checkout_params


def test_on_a_phone_decline_then_pay_lands_back_on_the_portal(stripe_sandbox, webhooks, page):
    portal = stripe_sandbox.url.removesuffix("/sandbox/stripe")
    session = stripe.checkout.Session.create(
        **checkout_params(success_url=f"{portal}/?paid={{CHECKOUT_SESSION_ID}}")
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(session.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_role("button", name="Decline (card refused)").click()
    assert page.get_by_role("alert").inner_text() == (
        "Your card was declined. Try again, or use another card."
    )
    page.get_by_role("button", name="Pay", exact=True).click()

    page.wait_for_url(f"{portal}/?paid={session.id}")
    assert webhooks.types() == ["checkout.session.completed"]
