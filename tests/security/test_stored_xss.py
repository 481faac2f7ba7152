"""Text that users and creatives save is shown escaped on every page, never as live markup.

Every text field a page can show is filled with a payload that names its field
(`'"><script>xss("title")</script><img src=x onerror=xss("title")>`): a customer's names,
e-mail address, selfie sets and file names, the credit ledger's reasons, a model's failure, a
photoshoot's and its scenes' texts and failures, Astria's call log, the packs' titles,
descriptions and prompt templates, the preview subjects and previews, groups and admin's log.
Some go in through the forms people use, the rest through factories (bypassing the pack
editor's template checks: this is about escaping, not validation). Then every page is opened:
each GET URL of the portal's URL table, every allauth page, and every admin URL the resolver
knows, filled in with these objects; a new page or a new admin model is covered without a
change here, or fails until this file can make its object. A page may show the payload's text;
no page may run it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.credits import credits_grant
from accounts.models import OutboxEmail, User
from operations.watchdog import heartbeat_record
from packs.models import RefusedWord
from payments.models import CreditPackage, Purchase, StripeEvent
from studio.models import PackPreview, PreviewSubject
from tests import factories
from tests.security.test_url_access import (
    OWNED,
    OWNED_IN_REQUEST,
    TABLES,
    Objects,
    objects,  # noqa: F401 - the owner's things, as the URL table reaches them
)
from tunes.models import AstriaCall, Photoshoot, Pricing, TrainedModel
from uploads.models import Selfie

pytestmark = pytest.mark.django_db

MARK = re.compile(r"""xss\(["']([\w.]+)["']\)""")


def payload(tag: str) -> str:
    """Breaks out of a quoted attribute or a text node, as a script and as an event handler;
    short enough for an 80-character name."""
    text = f"""'"><script>xss("{tag}")</script><img src=x onerror=xss("{tag}")>"""
    assert len(text) <= 80
    return text


# A valid address (a quoted local part may hold <, >, / and =) that is live markup if unescaped.
HOSTILE_EMAIL = """"<svg/onload=xss('email')>"@example.com"""


# --- Reading a page as a browser would ----------------------------------------------------------


@dataclass
class Marks:
    """The payloads a page shows as text (escaped) and those it would run (live)."""

    shown: set[str] = field(default_factory=set)
    live: set[str] = field(default_factory=set)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.marks = Marks()
        self.script: str | None = None  # the type of the <script> being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            found = set(MARK.findall(value or ""))
            # An event handler runs its value; any other attribute's value is only text.
            (self.marks.live if name.startswith("on") else self.marks.shown).update(found)
        if tag == "script":
            self.script = dict(attrs).get("type") or "text/javascript"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.script = None

    def handle_data(self, data: str) -> None:
        found = set(MARK.findall(data))
        if self.script is None:
            self.marks.shown.update(found)
        elif self.script == "application/json":
            # json_script's data: inert unless a "<" escaped it (</script><script>…).
            (self.marks.live if "<" in data else self.marks.shown).update(found)
        else:
            self.marks.live.update(found)


def marks_of(response: Any) -> Marks:
    reader = _Reader()
    reader.feed(response.content.decode())
    reader.close()
    return reader.marks


@dataclass
class Crawl:
    """What every page opened showed, by page."""

    pages: dict[str, Marks] = field(default_factory=dict)

    def open(self, client: Client, url: str, what: str, data: dict[str, str] | None = None) -> None:
        response = client.get(url, data or {})
        assert response.status_code < 500, f"{what} ({url}) answered {response.status_code}"
        if response.get("Content-Type", "").startswith("text/html"):
            self.pages[what] = marks_of(response)

    def send(self, client: Client, url: str, what: str, data: dict[str, str]) -> None:
        """POST a form, then open the page it leads to (where its messages are shown)."""
        response = client.post(url, data)
        assert response.status_code < 500, f"{what} ({url}) answered {response.status_code}"
        if response.status_code in (301, 302, 303):
            self.open(client, response["Location"], f"{what}, then")
        elif response.get("Content-Type", "").startswith("text/html"):
            self.pages[what] = marks_of(response)

    def live(self) -> dict[str, set[str]]:
        return {page: marks.live for page, marks in self.pages.items() if marks.live}

    def shown(self, page: str) -> set[str]:
        return self.pages[page].shown


# --- Hostile objects ----------------------------------------------------------------------------


@dataclass
class Hostile:
    owner: User
    staff: User
    objects: Objects
    by_model: dict[type[Model], Model]
    man_only_pack: Any


@pytest.fixture
def hostile(objects: Objects, staff: User) -> Hostile:  # noqa: F811
    owner = objects.selfie_set.owner
    User.objects.filter(pk=owner.pk).update(
        email=HOSTILE_EMAIL, first_name=payload("first"), last_name=payload("last")
    )
    owner.emailaddress_set.update(email=HOSTILE_EMAIL)
    owner.refresh_from_db()
    credits_grant(user=owner, amount=30, reason=payload("reason"), created_by=staff)
    Selfie.objects.filter(selfie_set=objects.selfie_set).update(original_name=payload("file"))
    objects.selfie_set.name = payload("set")
    objects.selfie_set.save()
    pack = objects.photoshoot.pack
    pack.title, pack.description = payload("title"), payload("desc")
    pack.save()
    factories.PackPromptFactory(pack=pack, template=f"{{subject}} {payload('template')}")
    # Its model failed to train, and the photoshoot on it with it.
    TrainedModel.objects.filter(pk=objects.model.pk).update(
        status="failed", failure_reason=payload("m.fail")
    )
    Photoshoot.objects.filter(pk=objects.photoshoot.pk).update(
        status="failed", failure_reason=payload("fail")
    )
    prompt = objects.photo.prompt
    prompt.template, prompt.text = payload("p.template"), payload("p.text")
    prompt.status, prompt.failure_reason = "failed", payload("p.fail")
    prompt.save()
    AstriaCall.objects.create(
        model=objects.model, method="GET", path=payload("call.path"), error=payload("call.err"),
        elapsed_ms=1,
    )  # fmt: skip
    AstriaCall.objects.create(
        prompt=prompt, method="POST", path=payload("pcall.path"), error=payload("pcall.err"),
        elapsed_ms=1,
    )  # fmt: skip
    # A sample subject trained again after a failure (whose reason its model still keeps).
    sample_model = factories.TrainedModelFactory(
        owner=staff,
        selfie_set=factories.SelfieSetFactory(owner=staff, name=payload("staff.set")),
        status="ready",
        astria_id=4242,
        trained_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
        failure_reason=payload("subject.f"),
    )
    subject = PreviewSubject.objects.create(
        name=payload("subject"), selfie_set=sample_model.selfie_set, model=sample_model
    )
    preview_row = factories.PhotoshootFactory(
        owner=staff, model=sample_model, pack=pack, kind="preview", requested_by=staff, price=0,
        status="ready",
    )  # fmt: skip
    factories.PromptFactory(
        photoshoot=preview_row, template=payload("shot.t"), text=payload("shot.text"),
        num_images=1, status="failed", failure_reason=payload("shot.fail"),
    )  # fmt: skip
    preview = PackPreview.objects.get(pk=preview_row.pk)
    group = Group.objects.create(name=payload("group"))
    owner.groups.add(group)
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[objects.selfie_set],
        action_flag=CHANGE,
        change_message=payload("log"),
    )
    heartbeat_record()  # beat is on time: its monitor answers 200
    # Staff's package name, and what Stripe's events carry (a receipt link, an event's type).
    package = factories.CreditPackageFactory(name=payload("package"))
    purchase = objects.purchase
    purchase.package = package
    purchase.receipt_url = "https://pay.stripe.com/" + payload("receipt")
    purchase.save()
    credits_grant(user=owner, amount=5, reason=payload("bought"), cause=purchase)
    event = StripeEvent.objects.create(event_id=payload("evt"), type=payload("evt.type"))
    by_model: dict[type[Model], Model] = {
        CreditPackage: package,
        Purchase: purchase,
        StripeEvent: event,
        User: owner,
        Group: group,
        type(objects.selfie_set): objects.selfie_set,
        type(pack): pack,
        TrainedModel: objects.model,
        Photoshoot: objects.photoshoot,
        type(prompt): prompt,
        Pricing: Pricing.current(),
        RefusedWord: RefusedWord.objects.create(word=payload("w")),
        # An e-mail to the hostile address, about a pack with a hostile title.
        OutboxEmail: OutboxEmail.objects.create(
            subject=f"Your {pack.title} photos are ready",
            body=payload("mail"),
            to=[HOSTILE_EMAIL],
            last_error=payload("error"),
            next_try_at=timezone.now(),
        ),
        PreviewSubject: subject,
        PackPreview: preview,
        apps.get_model("account", "EmailAddress"): owner.emailaddress_set.get(),
    }
    if apps.is_installed("allauth.mfa"):
        from allauth.mfa.models import Authenticator

        by_model[Authenticator] = Authenticator.objects.create(
            user=owner, type=Authenticator.Type.TOTP, data={"secret": payload("mfa")}
        )
    man_only = factories.PackFactory(title=payload("man.title"), classes=["man"])
    return Hostile(owner, staff, objects, by_model, man_only)


# --- The pages ----------------------------------------------------------------------------------


def _portal_kwargs(name: str, hostile: Hostile) -> dict[str, Any]:
    if name in OWNED:
        return OWNED[name][1](hostile.objects)
    extra = {
        "packs:pack_detail": {"slug": hostile.objects.photoshoot.pack.slug},
        "packs:image": {"slug": hostile.objects.photoshoot.pack.slug, "image": "cover"},
    }
    if name in extra:
        return extra[name]
    try:
        reverse(name)
    except NoReverseMatch:
        pytest.fail(f"say in {__name__} which objects open {name}")
    return {}


def portal_pages() -> list[str]:
    """Every URL name of the URL table that answers a GET."""
    names = []
    for table in TABLES:
        for name, entry in table.items():
            methods = entry[0] if isinstance(entry, tuple) else entry
            if "get" in (methods if isinstance(methods, list) else [methods]):
                names.append(name)
    return names


def walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, str, Any]]:
    """Route, `namespace:name` and pattern of every URL pattern."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{ns}{pattern.namespace}:" if pattern.namespace else ns
            yield from walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield route, f"{ns}{pattern.name}", pattern


def parameters(pattern: URLPattern) -> set[str]:
    return set(pattern.pattern.regex.groupindex)


def admin_pages(hostile: Hostile) -> Iterator[tuple[str, str]]:
    """(name, URL) of every admin page, each object page filled with a hostile object."""
    models = {
        f"{m._meta.app_label}_{m._meta.model_name}_": m for m in admin.site._registry
    }  # fmt: skip
    for route, name, pattern in walk(get_resolver().url_patterns):
        if not route.startswith(settings.ADMIN_URL):
            continue
        needs = parameters(pattern)
        if not needs:
            yield name, reverse(name)
        elif needs == {"app_label"}:
            for label in {m._meta.app_label for m in admin.site._registry}:
                yield f"{name} {label}", reverse(name, kwargs={"app_label": label})
        elif needs == {"object_id"} or name == "admin:auth_user_password_change":
            short = name.removeprefix("admin:").replace("auth_user_", "accounts_user_")
            model = next((m for prefix, m in models.items() if short.startswith(prefix)), None)
            assert model is not None, f"which model is {name} about?"
            obj = hostile.by_model.get(model)
            assert obj is not None, f"make a hostile {model.__name__} in {__name__} for {name}"
            yield name, reverse(name, args=[obj.pk])
        # Others redirect (view on site, the catch-all): tests/security/test_open_redirects.py


def allauth_pages() -> list[str]:
    """Every allauth page that takes no argument (MFA's too, when it is on)."""
    return [
        reverse(name)
        for route, name, pattern in walk(get_resolver().url_patterns)
        if route.startswith("accounts/") and not parameters(pattern)
    ]


def crawl(hostile: Hostile) -> Crawl:
    seen = Crawl()
    owner_client, staff_client, anonymous = Client(), Client(), Client()
    owner_client.force_login(hostile.owner)
    staff_client.force_login(hostile.staff)

    # The forms people use, with payloads of their own.
    set_code = hostile.objects.selfie_set.code
    names = {"first_name": payload("f.first"), "last_name": payload("f.last")}
    seen.send(owner_client, reverse("profile"), "profile form", names)
    new_set = {"name": payload("f.set"), "subject_class": "man"}
    seen.send(owner_client, reverse("uploads:set_create"), "set form", new_set)
    seen.send(
        owner_client, reverse("uploads:set_rename", args=[set_code]), "rename",
        {"name": payload("f.rename")},
    )  # fmt: skip
    seen.send(
        staff_client, reverse("admin:accounts_user_credits", args=[hostile.owner.pk]),
        "credits form", {"amount": "1", "reason": payload("f.reason")},
    )  # fmt: skip
    # A message that quotes a pack's title (it is not for a woman).
    seen.send(
        owner_client, reverse("tunes:photoshoot_start"), "start a pack for men",
        {"selfie_set": str(set_code), "pack": hostile.man_only_pack.slug, "start_token": "x"},
    )  # fmt: skip
    # Admin's messages quote objects too: a failed photoshoot's scenes are not retried alone.
    seen.send(
        staff_client, reverse("admin:tunes_photoshoot_changelist"), "an admin action",
        {"action": "retry_failed_scenes", "_selected_action": str(hostile.objects.photoshoot.pk)},
    )  # fmt: skip
    # What is typed into allauth's forms comes back in them.
    seen.send(anonymous, reverse("account_login"), "login form", {"login": payload("f.login")})
    seen.send(anonymous, reverse("account_signup"), "signup form", {"email": payload("f.signup")})

    for name in portal_pages():
        client = owner_client
        if name in OWNED_IN_REQUEST:
            seen.open(client, reverse(name), name, OWNED_IN_REQUEST[name][1](hostile.objects))
            continue
        url = reverse(name, kwargs=_portal_kwargs(name, hostile))
        seen.open(client, url, name)
        seen.open(anonymous, url, f"{name} (anonymous)")
    for url in allauth_pages():
        seen.open(owner_client, url, url)
    for name, url in admin_pages(hostile):
        seen.open(staff_client, url, name)
        if name.endswith("_changelist"):
            seen.open(staff_client, url, f"{name} searched", {"q": payload("f.search")})
    return seen


# Pages the issue names, and the payloads each must show (as text): proof that the crawl saw
# the fields at all, so that "nothing live" means something.
EXPECTED = {
    "uploads:set_detail": {"f.rename", "file"},
    "uploads:set_list": {"f.rename", "f.set"},
    "tunes:photoshoot_new": {"f.rename", "title", "desc"},
    "packs:pack_list": {"title", "desc", "man.title"},
    "packs:pack_detail": {"title", "desc", "template"},
    "tunes:dashboard": {"title"},
    "tunes:photoshoot_detail": {"title", "fail"},
    "tunes:models": {"f.rename", "m.fail"},
    "tunes:photo_detail": {"title"},
    "profile": {"f.first", "f.last", "email"},
    "credit_history": {"reason"},
    "admin:accounts_user_change": {"email", "f.first", "f.last", "reason", "f.reason", "group"},
    "admin:accounts_user_changelist": {"email", "f.first", "f.last"},
    "admin:uploads_selfieset_change": {"f.rename", "file", "email"},
    "admin:packs_pack_change": {"title", "desc", "template"},
    "admin:tunes_photoshoot_change": {"fail", "title", "p.text", "p.fail", "email"},
    "admin:tunes_trainedmodel_change": {"m.fail", "f.rename", "call.path", "call.err", "email"},
    "admin:tunes_prompt_change": {"p.template", "p.text", "p.fail", "pcall.path", "pcall.err"},
    "admin:studio_previewsubject_change": {"subject", "subject.f"},
    "admin:studio_packpreview_change": {"title", "subject", "shot.t", "shot.text", "shot.fail"},
    "admin:studio_packpreview_add": {"title", "subject"},
    "admin:uploads_selfieset_history": {"log"},
    "admin:index": {"set", "email"},
    "start a pack for men, then": {"man.title"},
    "an admin action, then": {"title", "email"},
    "credits form, then": {"email", "f.reason"},
    "login form": {"f.login"},
    "signup form": {"f.signup"},
    "admin:accounts_user_changelist searched": {"f.search"},
}


def test_no_page_runs_what_users_and_creatives_saved(hostile):
    seen = crawl(hostile)
    assert not seen.live(), f"live markup from saved text, by page: {seen.live()}"
    missing = {
        page: tags - seen.shown(page)
        for page, tags in EXPECTED.items()
        if page not in seen.pages or tags - seen.shown(page)
    }
    assert not missing, f"these pages did not show these payloads at all: {missing}"
    everything = set().union(*(marks.shown for marks in seen.pages.values()))
    # Every payload stored was shown somewhere (else its field is not tested by any page).
    stored = {"set", "email", "reason", "file", "title", "desc", "template", "fail", "staff.set"}
    stored |= {"m.fail", "p.template", "p.text", "p.fail", "call.path", "call.err", "subject"}
    stored |= {"pcall.path", "pcall.err", "w"}
    stored |= {"subject.f", "shot.t", "shot.text", "shot.fail", "group", "log", "man.title"}
    assert stored <= everything, stored - everything


def test_the_reader_tells_live_markup_from_text():
    from django.http import HttpResponse
    from django.utils.html import escape, json_script

    raw = HttpResponse(f"<p>{payload('a')}</p>")
    escaped = HttpResponse(f"<p title='{escape(payload('b'))}'>{escape(payload('c'))}</p>")
    assert marks_of(raw).live == {"a"}
    assert marks_of(escaped).live == set() and marks_of(escaped).shown == {"b", "c"}
    data = HttpResponse(json_script({"name": "</script><script>xss('d')</script>"}, "config"))
    assert marks_of(data).live == set() and marks_of(data).shown == {"d"}
    broken = '<script type="application/json">["</script><script>xss(\'e\')</script>"]</script>'
    assert marks_of(HttpResponse(broken)).live == {"e"}
    assert marks_of(HttpResponse(f"<div>{HOSTILE_EMAIL}</div>")).live == {"email"}
