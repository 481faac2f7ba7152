"""The portal's own pages for 404, 403, a refused form (CSRF) and 500: in its layout, with a
way on, and the 500 one without the database or context processors (which may be what failed)."""

from __future__ import annotations

import pytest
from django.test import Client


def exploding(request: object) -> dict[str, object]:
    raise RuntimeError("a context processor that fails")


@pytest.mark.django_db
def test_a_missing_page_is_the_portals_404(client, owner):
    client.force_login(owner)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We can't find that page" in page
    assert 'class="site-header"' in page and "Log out" in page  # the layout, signed in
    assert 'href="/dashboard/"' in page


@pytest.mark.django_db
def test_a_refused_page_is_the_portals_403(client, creative):
    client.force_login(creative)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You can't open this page" in page
    assert 'class="site-header"' in page


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_a_plain_explanation(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/profile/", {"first_name": "Ann"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert 'class="site-header"' in page and "Log out" in page
    assert "CSRF" not in page.split("<main", 1)[1]  # no jargon for the user


def test_a_crash_is_the_portals_500_without_database_or_context_processors(settings):
    settings.ROOT_URLCONF = "tests.photoshoot.failing_urls"
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [
        {
            **engine,
            "OPTIONS": {
                **engine["OPTIONS"],
                "context_processors": [
                    *engine["OPTIONS"]["context_processors"],
                    "tests.photoshoot.test_error_pages.exploding",
                ],
            },
        }
    ]
    # No django_db mark: any query while answering raises, and Django would fall back to its
    # bare "Server Error (500)".
    response = Client(raise_request_exception=False).get("/fail/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'class="site-header"' in page
    assert 'href="/"' in page
