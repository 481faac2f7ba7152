"""The Content-Security-Policy on every answer: every URL the resolver knows (the portal's,
admin's, allauth's and the sandbox's), for a visitor and for a signed-in superuser who owns the
objects, and the error pages (400, 403, 404, 500). Scripts come only from the portal's own
files: an injected `<script>` or `onclick=` never runs.

How to reach each portal URL is the data of test_url_access.py; admin's, allauth's and the
sandbox's path arguments are filled in by name below (a new name fails until it is listed).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import get_resolver, include, path, reverse

from accounts.models import User
from operations.watchdog import heartbeat_record
from packs.models import RefusedWord
from studio.models import PreviewSubject
from tests import factories
from tests.security.test_url_access import (
    CALLBACKS,
    OWNED,
    OWNED_IN_REQUEST,
    TABLES,
    Objects,
    _url,
    objects,  # noqa: F401 - fixture
    portal_urls,
)
from tunes.models import Photoshoot, Pricing
from uploads import storage

pytestmark = pytest.mark.django_db

HEADER = "Content-Security-Policy"


def policy_of(response: HttpResponse) -> dict[str, list[str]]:
    """The answer's policy, directive by directive."""
    header = response.headers.get(HEADER)
    assert header, f"{response.status_code} {response.get('Content-Type')}: no {HEADER}"
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_strict(response: HttpResponse) -> None:
    """Scripts only from the portal's own files, no plugins, no framing, no foreign forms."""
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', 'unsafe-eval', host or *
    assert not {"script-src-elem", "script-src-attr"} & set(policy), "scripts loosened"
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert not {"style-src-elem", "style-src-attr"} & set(policy), "styles loosened"


# --- Every URL --------------------------------------------------------------------------------


def parameters(name: str) -> list[str]:
    """The path arguments `reverse(name)` needs."""
    resolver = get_resolver()
    *namespaces, leaf = name.split(":")
    for namespace in namespaces:
        resolver = resolver.namespace_dict[namespace][1]
    (possibility, *_), *_ = resolver.reverse_dict.getlist(leaf)
    return list(possibility[0][1])


def admin_object_id(name: str, owned: Objects) -> str:
    """A row of the admin page's model (`superuser` makes one of most); for a model with none,
    an id admin answers "does not exist" to."""
    leaf = name.removeprefix("admin:")
    for model in admin.site._registry:
        if leaf.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
            pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            return str(pk or 0)
    if leaf == "view_on_site":
        return str(owned.photoshoot.pack.pk)
    raise AssertionError(f"{name}: which model's row should its object_id be?")


# Path arguments of admin's, allauth's and the sandbox's URLs, by name.
ARGUMENTS: dict[str, Callable[[str, Objects], str]] = {
    "object_id": admin_object_id,
    "id": lambda name, o: str(o.selfie_set.owner.pk),  # a user's password form
    "content_type_id": lambda name, o: str(ContentType.objects.get_for_model(o.photoshoot.pack).pk),
    "app_label": lambda name, o: "packs",
    "slug": lambda name, o: o.photoshoot.pack.slug,
    "image": lambda name, o: "cover",
    "key": lambda name, o: "no-such-key",  # allauth answers its "this link is bad" page
    "uidb36": lambda name, o: "1",
    "tune_id": lambda name, o: "1",
    "prompt_id": lambda name, o: "1",
    "token": lambda name, o: "no-such-token",
    "filename": lambda name, o: "photo.jpg",
    "session_id": lambda name, o: "cs_test_no_such_session",  # the Stripe sandbox's 404s
    "intent_id": lambda name, o: "pi_no_such_intent",
    "charge_id": lambda name, o: "ch_no_such_charge",
}


def url_of(name: str, owned: Objects) -> str:
    if name in OWNED or name in CALLBACKS:
        return _url(name, owned)
    missing = set(parameters(name)) - set(ARGUMENTS)
    assert not missing, f"{name}: say in ARGUMENTS how to fill {sorted(missing)}"
    return reverse(name, kwargs={p: ARGUMENTS[p](name, owned) for p in parameters(name)})


def methods_of(name: str) -> list[str]:
    """The portal's URLs: the methods test_url_access lists; admin, allauth, sandbox: GET."""
    for table in TABLES:
        entry = table.get(name)
        if entry is None:
            continue
        methods = entry[0] if isinstance(entry, tuple) else entry
        return [methods] if isinstance(methods, str) else list(methods)
    return ["get"]


def cases() -> list[tuple[str, str]]:
    # Admin's unnamed URLs (a row's bare address, the catch-all) are requested below.
    names = sorted({name for name, _ in portal_urls(left_out=())} - {"admin:None"})
    return [(name, method) for name in names for method in methods_of(name)]


@pytest.fixture
def superuser(objects: Objects) -> User:  # noqa: F811
    """The owner of `objects`, made a superuser, and a row of most models admin shows."""
    owner = objects.selfie_set.owner
    User.objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    PreviewSubject.objects.create(name="Anna", selfie_set=objects.selfie_set, model=objects.model)
    factories.PhotoshootFactory(
        owner=owner,
        model=objects.model,
        pack=objects.photoshoot.pack,
        kind=Photoshoot.Kind.PREVIEW,
        requested_by=owner,
        price=0,
    )
    Pricing.current()
    RefusedWord.objects.create(word="forbidden")
    heartbeat_record()  # beat is on time: its monitor answers 200
    return User.objects.get(pk=owner.pk)


def test_every_url_is_in_the_walk():
    walked = {name for name, _ in cases()}
    assert {"admin:index", "account_login", "astria_sandbox:root", "home"} <= walked
    assert set(OWNED) | set(OWNED_IN_REQUEST) <= walked


@pytest.mark.parametrize(("name", "method"), cases())
def test_every_answer_carries_the_policy(objects, superuser, name, method):  # noqa: F811
    url = url_of(name, objects)
    data = OWNED_IN_REQUEST[name][1](objects) if name in OWNED_IN_REQUEST else {}
    signed_in = Client()
    signed_in.force_login(superuser)
    for client in (Client(), signed_in):
        response = getattr(client, method)(url, data)
        assert response.status_code < 500, f"{method.upper()} {url}: {response.status_code}"
        assert_strict(response)


def test_admin_pages_and_their_unnamed_urls_carry_it(client, objects, superuser):  # noqa: F811
    client.force_login(superuser)
    pack = objects.photoshoot.pack.pk
    for url in (
        "/admin/",
        "/admin/packs/pack/",
        f"/admin/packs/pack/{pack}/change/",
        f"/admin/accounts/user/{superuser.pk}/credits/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
        assert_strict(response)
    bare = client.get(f"/admin/packs/pack/{pack}/")  # sends to the change page
    assert bare.status_code == 302
    assert_strict(bare)
    unknown = client.get("/admin/no-such-page/")
    assert unknown.status_code == 404
    assert_strict(unknown)


# --- Error pages ------------------------------------------------------------------------------


def test_a_404_carries_it(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert_strict(response)


def test_a_403_carries_it(client, creative, owner):
    client.force_login(creative)
    forbidden = client.get(f"/admin/accounts/user/{owner.pk}/change/")
    assert forbidden.status_code == 403
    assert_strict(forbidden)
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(owner)
    refused = csrf.post(reverse("uploads:set_create"), {"name": "forged"})
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("text/html")
    assert_strict(refused)


def test_a_400_for_a_foreign_host_carries_it(client):
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert_strict(response)


def boom(request: HttpRequest) -> HttpResponse:
    """A view with a bug, for the 500 page."""
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("photoshoot.urls"))]


@pytest.mark.urls(__name__)
def test_a_500_carries_it(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_strict(response)


# --- Storage outside the portal ---------------------------------------------------------------


def test_local_storage_is_the_portal_itself(client):
    policy = policy_of(client.get("/"))
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]


def test_images_and_uploads_may_reach_the_bucket_and_nothing_else(client, s3_storage):
    endpoint = s3_storage["endpoint_url"]  # moto on loopback, path-style: the URLs' origin
    policy = policy_of(client.get("/"))
    # Thumbnails are signed URLs on the bucket; the upload page POSTs the file straight there.
    assert policy["img-src"] == ["'self'", "data:", endpoint]
    assert policy["connect-src"] == ["'self'", endpoint]
    assert policy["form-action"] == ["'self'"]  # no form posts there, only the script


@pytest.mark.parametrize(
    "options",
    [
        {"region_name": "eu-west-1"},  # AWS, virtual-hosted: the bucket's own host
        {"region_name": "eu-west-1", "addressing_style": "path"},
        {"region_name": "auto", "endpoint_url": "https://account.r2.cloudflarestorage.com"},
    ],
)
def test_the_urls_the_portal_hands_out_are_the_ones_allowed(client, settings, owner, options):
    # Nothing is sent: boto3 signs URLs and upload targets without a request.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **settings.S3_STORAGE_OPTIONS,
                "bucket_name": "photoshoot-media",
                "access_key": "AKIDEXAMPLE",
                "secret_key": "example-secret",
                **options,
            },
        },
    }
    key = storage.new_key(owner, "uploads", ".jpg")
    shown = urlsplit(storage.private_url(key, owner=owner))
    posted = urlsplit(storage.upload_target_for(user=owner, key=key, content_type="image/jpeg").url)
    policy = policy_of(client.get("/"))
    assert policy["img-src"] == ["'self'", "data:", f"{shown.scheme}://{shown.netloc}"]
    assert policy["connect-src"] == ["'self'", f"{posted.scheme}://{posted.netloc}"]
