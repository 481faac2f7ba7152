"""Every URL of the portal, from the URL resolver: who may reach it, and that nobody else can.

The tables below say what guards each URL. A URL added to the portal without an entry here
fails `test_every_url_has_an_entry`, so nobody can add a page and forget its access rule.
Admin, allauth and the sandbox are left out: Django's admin and allauth guard their own pages
(tested in tests/photoshoot/test_admin_access.py and tests/accounts), and the sandbox checks
its own Bearer key (tests/astria).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import CreditEntry
from payments.models import Purchase
from tests import factories
from tests.images import photo_bytes
from tests.tunes.conftest import ready_selfie_set
from tunes.models import Photo, Photoshoot, Prompt, TrainedModel
from uploads import services as uploads
from uploads.models import Selfie, SelfieSet

pytestmark = pytest.mark.django_db

LEFT_OUT = ("admin/", "accounts/", "sandbox/")


@dataclass
class Objects:
    """One owner's things, and what a URL needs of them."""

    selfie_set: SelfieSet
    selfie: Selfie
    pending: Selfie
    model: TrainedModel
    photoshoot: Photoshoot
    photo: Photo
    purchase: Purchase

    def snapshot(self) -> tuple[Any, ...]:
        """What a request by someone else must leave as it was."""
        return (
            list(SelfieSet.objects.values_list("pk", "name")),
            list(Selfie.objects.values_list("pk", "status")),
            list(TrainedModel.objects.values_list("pk", "status")),
            list(Photoshoot.objects.values_list("pk", "status")),
            list(Prompt.objects.values_list("pk", "status")),
            list(Photo.objects.values_list("pk", "liked")),
            CreditEntry.objects.count(),
            list(Purchase.objects.values_list("pk", "status")),
        )


# name: (methods, URL arguments from the owner's objects). Looked up through the owner: anyone
# else gets 404.
OWNED: dict[str, tuple[list[str], Callable[[Objects], dict[str, Any]]]] = {
    "uploads:set_detail": (["get"], lambda o: {"code": o.selfie_set.code}),
    "uploads:set_rename": (["post"], lambda o: {"code": o.selfie_set.code}),
    "uploads:set_delete": (["get", "post"], lambda o: {"code": o.selfie_set.code}),
    "uploads:upload_start": (["post"], lambda o: {"code": o.selfie_set.code}),
    "uploads:upload_finish": (
        ["post"],
        lambda o: {"code": o.selfie_set.code, "upload_code": o.pending.code},
    ),
    "uploads:photo_delete": (
        ["post"],
        lambda o: {"code": o.selfie_set.code, "photo_code": o.selfie.code},
    ),
    "tunes:model_idea": (["post"], lambda o: {"code": o.model.code}),
    "tunes:photoshoot_detail": (["get"], lambda o: {"code": o.photoshoot.code}),
    "tunes:photoshoot_status": (["get"], lambda o: {"code": o.photoshoot.code}),
    "tunes:photoshoot_zip": (["get"], lambda o: {"code": o.photoshoot.code}),
    "tunes:photo_detail": (
        ["get"],
        lambda o: {"code": o.photoshoot.code, "photo_code": o.photo.code},
    ),
    "tunes:photo_like": (
        ["post"],
        lambda o: {"code": o.photoshoot.code, "photo_code": o.photo.code},
    ),
    "tunes:photo_more": (
        ["post"],
        lambda o: {"code": o.photoshoot.code, "photo_code": o.photo.code},
    ),
    "tunes:photo_download": (
        ["get"],
        lambda o: {"code": o.photoshoot.code, "photo_code": o.photo.code},
    ),
    # Where Stripe Checkout sends the buyer back (GET: a redirect from Stripe).
    "payments:success": (["get"], lambda o: {"code": o.purchase.code}),
    "payments:status": (["get"], lambda o: {"code": o.purchase.code}),
    "payments:cancel": (["get"], lambda o: {"code": o.purchase.code}),
}
# The owner's object travels in the query or the form instead of the path.
OWNED_IN_REQUEST: dict[str, tuple[str, Callable[[Objects], dict[str, str]]]] = {
    "tunes:photoshoot_new": ("get", lambda o: {"set": str(o.selfie_set.code)}),
    "tunes:photoshoot_start": (
        "post",
        lambda o: {
            "selfie_set": str(o.selfie_set.code),
            "pack": o.photoshoot.pack.slug,
            "start_token": str(uuid.uuid4()),
            "price": str(o.photoshoot.pack.price),
        },
    ),
}
# The signed-in user's own pages: no object of anyone else to reach.
ACCOUNT = {
    "home": ["get"],
    "profile": ["get"],
    "credit_history": ["get"],
    "payments:pricing": ["get", "post"],
    "uploads:set_list": ["get"],
    "uploads:set_create": ["get", "post"],
    "tunes:dashboard": ["get"],
    "tunes:models": ["get"],
}
# A signed, expiring token in the query is the key (tests/uploads/test_access.py).
TOKEN = {
    "uploads:direct_upload": ["post"],
    "uploads:private_file": ["get"],
    "uploads:fetch_file": ["get"],
}
# Astria's callbacks (a per-object secret) and Stripe's webhook (Stripe's signature): the one
# kind of view exempt from CSRF.
CALLBACKS = {
    "tunes:tune_callback": ["post"],
    "tunes:prompt_callback": ["post"],
    "payments:stripe_webhook": ["post"],
}
# Anyone, signed in or not: the catalogue of active packs, and the load balancer's checks
# (readiness names components and states only: tests/operations/test_health.py).
PUBLIC = {
    "packs:pack_list": ["get"],
    "packs:pack_detail": ["get"],
    "packs:image": ["get"],
    "healthz": ["get"],
    "healthz_ready": ["get"],
    "healthz_beat": ["get"],
}

TABLES = [OWNED, OWNED_IN_REQUEST, ACCOUNT, TOKEN, CALLBACKS, PUBLIC]


def portal_urls(
    patterns: list[Any] | None = None,
    prefix: str = "",
    ns: str = "",
    left_out: tuple[str, ...] = LEFT_OUT,
) -> Iterator[tuple[str, Callable[..., Any]]]:
    """`namespace:name` and view of every URL pattern but those under `left_out`."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(left_out):
            continue
        if isinstance(pattern, URLResolver):
            inner = f"{ns}{pattern.namespace}:" if pattern.namespace else ns
            yield from portal_urls(pattern.url_patterns, route, inner, left_out)
        elif isinstance(pattern, URLPattern):
            yield f"{ns}{pattern.name}", pattern.callback


def test_every_url_has_an_entry():
    listed = [name for table in TABLES for name in table]
    assert len(listed) == len(set(listed)), "a URL is in two tables"
    names = {name for name, _ in portal_urls()}
    missing = names - set(listed)
    assert not missing, f"say who may reach these URLs in {__name__}: {sorted(missing)}"
    assert set(listed) <= names, "an entry for a URL that no longer exists"


@pytest.fixture
def objects(owner) -> Objects:
    selfie_set = ready_selfie_set(owner)
    pending, _ = uploads.selfie_upload_start(
        selfie_set=selfie_set, filename="late.jpg", content_type="image/jpeg", size=100
    )
    storages["default"].save(pending.upload_key, ContentFile(photo_bytes()))
    model = factories.TrainedModelFactory(
        owner=owner,
        selfie_set=selfie_set,
        status="ready",
        astria_id=1001,
        trained_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    photoshoot = factories.PhotoshootFactory(owner=owner, model=model, status="ready")
    prompt = factories.PromptFactory(photoshoot=photoshoot, status="done", astria_id=2001)
    photo = factories.PhotoFactory(prompt=prompt)
    for name in (photo.image, photo.thumbnail):
        storages["default"].save(name, ContentFile(photo_bytes()))
    return Objects(
        selfie_set=selfie_set,
        selfie=selfie_set.selfies.filter(status="ready").first(),
        pending=pending,
        model=model,
        photoshoot=photoshoot,
        photo=photo,
        # No Checkout Session yet: its pages ask Stripe nothing.
        purchase=factories.PurchaseFactory(user=owner, checkout_session_id=None),
    )


def owned_cases() -> list[tuple[str, str]]:
    return [(name, method) for name, (methods, _) in OWNED.items() for method in methods]


@pytest.mark.parametrize(("name", "method"), owned_cases())
def test_another_user_gets_404_and_changes_nothing(client, other_user, objects, name, method):
    url = reverse(name, kwargs=OWNED[name][1](objects))
    before = objects.snapshot()
    client.force_login(other_user)
    response = getattr(client, method)(url, {"name": "mine now", "liked": "1"})
    assert response.status_code == 404
    assert objects.snapshot() == before


@pytest.mark.parametrize(("name", "method"), owned_cases())
def test_the_owner_reaches_it(client, owner, objects, name, method):
    client.force_login(owner)
    response = getattr(client, method)(reverse(name, kwargs=OWNED[name][1](objects)))
    assert response.status_code not in (403, 404) and response.status_code < 500


@pytest.mark.parametrize("name", list(OWNED_IN_REQUEST))
def test_another_users_object_in_the_request_gets_404(client, other_user, objects, name):
    method, data = OWNED_IN_REQUEST[name]
    before = objects.snapshot()
    client.force_login(other_user)
    response = getattr(client, method)(reverse(name), data(objects))
    assert response.status_code == 404
    assert objects.snapshot() == before


@pytest.mark.parametrize(
    ("name", "method"),
    owned_cases()
    + [(n, m) for n, methods in ACCOUNT.items() for m in methods if n != "home"]
    + [(n, m) for n, (m, _) in OWNED_IN_REQUEST.items()],
)
def test_anonymous_visitors_are_sent_to_log_in(client, objects, name, method):
    kwargs = OWNED[name][1](objects) if name in OWNED else {}
    response = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# The lists of a user's own things, and what of the owner's each would show.
LISTS: dict[str, Callable[[Objects], str]] = {
    "tunes:dashboard": lambda o: str(o.photoshoot.code),
    "tunes:models": lambda o: str(o.selfie_set.code),
    "uploads:set_list": lambda o: str(o.selfie_set.code),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_a_list_shows_another_user_nothing_of_the_owners(client, owner, other_user, objects, name):
    mark = LISTS[name](objects)
    client.force_login(owner)
    assert mark in client.get(reverse(name)).content.decode()  # the owner sees it there
    client.force_login(other_user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert mark not in response.content.decode()


# --- CSRF -------------------------------------------------------------------------------------


def state_changing() -> list[tuple[str, str]]:
    cases = [(n, "post") for n, (methods, _) in OWNED.items() if "post" in methods]
    cases += [(n, "post") for n, (m, _) in OWNED_IN_REQUEST.items() if m == "post"]
    for table in (ACCOUNT, TOKEN, CALLBACKS):
        cases += [(n, "post") for n, methods in table.items() if "post" in methods]
    return cases


def _url(name: str, objects: Objects) -> str:
    if name in OWNED:
        return reverse(name, kwargs=OWNED[name][1](objects))
    if name == "payments:stripe_webhook":
        return reverse(name)
    if name in CALLBACKS:
        code = objects.model.code if name == "tunes:tune_callback" else uuid.uuid4()
        return reverse(name, args=[code])
    return reverse(name)


@pytest.mark.parametrize(("name", "method"), state_changing())
def test_a_post_without_the_csrf_token_is_refused(owner, objects, name, method):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    before = objects.snapshot()
    response = client.post(_url(name, objects), {"name": "forged"})
    if name in CALLBACKS:
        # Astria and Stripe cannot send a token: the secret or the signature guards it.
        assert response.status_code != 403
    else:
        assert response.status_code == 403
    assert objects.snapshot() == before


def test_the_callbacks_are_the_only_views_exempt_from_csrf():
    # Admin's and allauth's views too; only the sandbox, an API with keys that production
    # does not mount, is left out.
    views = portal_urls(left_out=("sandbox/",))
    exempt = {name for name, view in views if getattr(view, "csrf_exempt", False)}
    assert exempt == set(CALLBACKS)
