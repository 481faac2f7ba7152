"""Every page's first focusable element is "Skip to content", to the page's <main id="content">,
the error pages' included."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db

# What a keyboard reaches: links, buttons, fields, summaries (hidden inputs are not).
FOCUSABLE = re.compile(
    r'<(a\s[^>]*href|button|select|textarea|summary|input(?![^>]*type="hidden"))[^>]*>', re.S
)


def assert_skip_link_first(html: str) -> None:
    body = html[html.index("<body") :]
    first = FOCUSABLE.search(body)
    assert first is not None
    assert first.group(0) == '<a class="skip-link" href="#content">', first.group(0)
    assert body[first.end() :].startswith("Skip to content</a>")
    assert re.search(r'<main [^>]*id="content"', body)


@pytest.mark.parametrize("path", ["/", "/packs/", "/accounts/login/", "/accounts/signup/"])
def test_it_comes_first_for_a_visitor(client, path):
    assert_skip_link_first(client.get(path).content.decode())


@pytest.mark.parametrize("path", ["/dashboard/", "/sets/", "/models/", "/profile/", "/credits/"])
def test_it_comes_first_for_a_member(client, owner, path):
    client.force_login(owner)
    assert_skip_link_first(client.get(path).content.decode())


def test_it_comes_first_on_the_error_pages(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_skip_link_first(response.content.decode())
    assert_skip_link_first(render_to_string("500.html"))
