"""No redirect of the portal, allauth or admin leaves the site, whatever `next=` says.

Every URL the resolver knows is asked with each off-site target in every redirect parameter a
Django app commonly reads; then the flows that really redirect (log in, log out, sign up,
password reset and change, e-mail confirmation, the admin login) are completed with one. Only
the Location header is looked at: nothing is ever sent to those hosts.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests import factories
from tests.factories import PASSWORD
from tests.security.browsing import ADMIN, admin_login, assert_stays, on_site
from tests.security.test_url_access import (
    OWNED,
    PUBLIC,
    TABLES,
    Objects,
    objects,  # noqa: F401 - the fixture, shared with the URL table
    portal_urls,
)

pytestmark = pytest.mark.django_db

# How attackers spell "somewhere else", including what browsers repair into a host.
OFF_SITE = [
    "//evil.example",
    "///evil.example/",
    "https://evil.example/",
    "http://evil.example",
    "https:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "//testserver@evil.example",
    "https://testserver.evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]
# The names under which Django apps read a redirect target.
PARAMETERS = ["next", "redirect", "redirect_to", "return_to", "return", "back", "url", "continue"]
NEW_PASSWORD = "a-brand-new-password-31"
# A page of the site: where the flows below do go when told, so that each of them is shown to
# read the parameter it is given (a flow that ignored it would prove nothing).
ON_SITE = "/sets/"
TARGETS = [ON_SITE, *OFF_SITE]


def test_the_check_tells_off_site_from_on_site():
    assert all(not on_site(target) for target in OFF_SITE)
    assert all(on_site(u) for u in ["/dashboard/", "http://testserver/sets/", "?page=2", "sets/"])


def with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}"


def ask(client: Client, method: str, url: str, target: str):
    """`url` with `target` in every redirect parameter: the query of a GET, the query and
    the body of a POST."""
    query = {parameter: target for parameter in PARAMETERS}
    if method == "get":
        return client.get(url, query)
    return client.post(with_next(url, target), query)


def assert_goes_only_on_site(response, target: str, what: str) -> None:
    """A flow that honours its `next`: to the site's own page, and nowhere else."""
    assert response.status_code == 302, what
    if target == ON_SITE:
        assert response["Location"] == ON_SITE, what
    assert_stays(response, what)


# --- Every URL, with a target in every parameter ------------------------------------------------


def _kwargs(name: str, owned: Objects) -> dict[str, object]:
    if name in OWNED:
        return OWNED[name][1](owned)
    if name == "packs:pack_detail":
        return {"slug": owned.photoshoot.pack.slug}
    if name == "packs:image":
        return {"slug": owned.photoshoot.pack.slug, "image": "cover"}
    if name == "tunes:tune_callback":
        return {"code": owned.model.code}
    if name == "tunes:prompt_callback":
        return {"code": owned.photoshoot.prompts.get().code}
    return {}


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_portal_url_redirects_off_site(client, owner, objects, target):  # noqa: F811
    names = [name for table in TABLES for name in table]
    assert "packs:pack_detail" in PUBLIC  # the table still has the pages this test fills in
    for signed_in in (False, True):
        if signed_in:
            client.force_login(owner)
        for name in names:
            url = reverse(name, kwargs=_kwargs(name, objects))
            for method in ("get", "post"):
                assert_stays(ask(client, method, url, target), f"{method.upper()} {name}")


def allauth_and_admin_urls() -> list[str]:
    """Every allauth and admin URL that takes no argument."""
    names = [name for name, _ in portal_urls(left_out=("sandbox/",))]
    urls = []
    for name in names:
        if not name or not name.startswith(("account_", "admin:")):
            continue
        with contextlib.suppress(NoReverseMatch):  # those that need arguments are left out
            urls.append(reverse(name))
    return sorted(urls, key=lambda url: "logout" in url)  # logging out ends the round


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_allauth_or_admin_url_redirects_off_site(client, owner, staff, target):
    urls = allauth_and_admin_urls()
    assert reverse("account_login") in urls and reverse("admin:login") in urls
    for user in (None, owner, staff):
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            for method in ("get", "post"):
                assert_stays(ask(client, method, url, target), f"{method.upper()} {url} as {user}")


@pytest.mark.parametrize(
    "path", ["//evil.example", "//evil.example/", "/\\evil.example", "/admin//evil.example"]
)
def test_a_path_that_looks_like_a_host_is_not_a_redirect_off_site(client, staff, path):
    # CommonMiddleware and admin's catch-all append slashes: never to make //host/.
    for user in (None, staff):
        if user is not None:
            client.force_login(user)
        assert_stays(client.get(path), f"GET {path}")


# --- The flows that redirect, completed ---------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_logging_in_never_leaves_the_site(client, owner, target):
    response = client.post(
        with_next("/accounts/login/", target),
        {"login": owner.email, "password": PASSWORD, "next": target},
    )
    assert_goes_only_on_site(response, target, "login")
    # Signed in, the login page sends the visitor on: not there either.
    response = client.get("/accounts/login/", {"next": target})
    assert_goes_only_on_site(response, target, "login when signed in")


@pytest.mark.parametrize("target", TARGETS)
def test_logging_out_never_leaves_the_site(client, owner, target):
    client.force_login(owner)
    response = client.post(with_next("/accounts/logout/", target), {"next": target})
    assert_goes_only_on_site(response, target, "logout")


@pytest.mark.parametrize("target", TARGETS)
def test_signing_up_never_leaves_the_site(client, target, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            with_next("/accounts/signup/", target),
            {
                "email": "new@example.com",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
                "next": target,
            },
        )
    assert response.status_code == 302
    assert_stays(response, "signup")
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    response = client.post(with_next(link.group(1), target), {"next": target})
    assert_goes_only_on_site(response, target, "e-mail confirmation")


@pytest.mark.parametrize("target", TARGETS)
def test_a_password_reset_never_leaves_the_site(
    client, owner, target, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            with_next("/accounts/password/reset/", target), {"email": owner.email, "next": target}
        )
    assert_goes_only_on_site(response, target, "password reset request")
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    response = client.get(with_next(link.group(1), target))
    assert_stays(response, "password reset link")
    response = client.post(
        with_next(response["Location"], target),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "next": target},
    )
    assert_goes_only_on_site(response, target, "new password from the link")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)  # the flow really ran to its end


@pytest.mark.parametrize("target", TARGETS)
def test_a_password_change_never_leaves_the_site(client, owner, target):
    client.force_login(owner)
    response = client.post(
        with_next("/accounts/password/change/", target),
        {
            "oldpassword": PASSWORD,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "next": target,
        },
    )
    assert_goes_only_on_site(response, target, "password change")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("target", TARGETS)
def test_the_admin_login_and_logout_never_leave_the_site(staff, target):
    client = Client()
    landed, hops = admin_login(client, staff.email, query={"next": target})  # every hop checked
    assert landed.status_code == 200, hops
    response = client.post(with_next(f"{ADMIN}logout/", target), {"next": target})
    assert_goes_only_on_site(response, target, "admin logout")


def test_admins_view_on_site_never_leaves_the_site(client, staff, owner):
    from django.contrib.contenttypes.models import ContentType

    client.force_login(staff)
    selfie_set = factories.SelfieSetFactory(owner=owner)
    for obj in (owner, selfie_set, factories.PackFactory()):
        kind = ContentType.objects.get_for_model(obj)
        response = client.get(f"{ADMIN}r/{kind.pk}/{obj.pk}/")
        assert_stays(response, f"view on site of {obj!r}")
