"""Errors reach Sentry, without a secret or an e-mail address in them.

sentry-sdk's `data_collection` option (which replaces `send_default_pii`) keeps users and
cookies out and replaces headers, query parameters and local variables whose *names* look
secret (`auth`, `token`, `secret`, `password`, `key`…). Nothing in the SDK looks inside a value,
and secrets travel inside values here: a callback's secret and a signed URL's token ride in
query strings (the request's own, a `<WSGIRequest: POST '…?secret=…'>` among a frame's locals,
a URL in an exception's message), and the API key can sit in any string. So every string of
every event and breadcrumb is scrubbed too, on its way out.
"""

from __future__ import annotations

import re
from typing import Any

import sentry_sdk
from django.conf import settings
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST
from sentry_sdk.transport import Transport

FILTERED = "[Filtered]"

# Headers that say who a visitor is (the SDK's own list covers the secret ones).
IDENTIFYING_HEADERS = ["forwarded", "-ip", "remote-", "via", "-user"]

# A value under one of these names goes whole, wherever it is (a request's body, a breadcrumb's
# data, a dict among the locals): the SDK's list of names (its EventScrubber is off once
# `data_collection` is given), allauth's password and e-mail fields, ...
SECRET_NAMES = {
    *(name.lower() for name in DEFAULT_DENYLIST),
    "password1",
    "password2",
    "oldpassword",
    "email",
    "login",
    # The key of a password-reset or confirmation link, as allauth's views take it.
    "key",
    # Query strings: the SDK drops them (url_query_params off); should one slip through.
    "query_string",
    "http.query",
}
# ... and any name holding one of these words (`account_password`, `callback_secret`).
SECRET_WORDS = ("password", "passwd", "secret", "api_key", "apikey", "token", "dsn")

# Source lines and the SDK's own facts (`release` is a commit's hash): only the secrets this
# process was given are looked for there, not the patterns below.
PLAIN_KEYS = {"pre_context", "context_line", "post_context", "release", "modules", "sdk"}

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # scheme://user:password@host: a broker, database or SMTP URL.
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:@/\s]*):[^@/\s]+@", re.I), rf"\1:{FILTERED}@"),
    # Any query string: callback secrets, SigV4 signatures, the local signed URLs' ?t= tokens.
    (re.compile(r"\?[^\s\"'<>#]*=[^\s\"'<>#]*"), f"?{FILTERED}"),
    (re.compile(r"\b(Bearer|Basic|Token)\s+[\w.~+/=-]{6,}", re.I), rf"\1 {FILTERED}"),
    # name=value and "name": "value" outside a query string.
    (
        re.compile(
            r"\b(password\w*|passwd|secret\w*|api_?key|token|signature|x-amz-[a-z-]+)"
            r"([\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;)]+",
            re.I,
        ),
        rf"\1\2{FILTERED}",
    ),
    # allauth's links carry their key in the path: a password reset's, an address confirmation's.
    (re.compile(r"(/password/reset/key/|/confirm-email/)[^/\s\"'?#<>]+"), rf"\1{FILTERED}"),
    # Callback secrets are HMAC digests (40 hex digits), held bare in locals too.
    (re.compile(r"\b[0-9a-f]{40,}\b", re.I), FILTERED),
    (re.compile(r"[\w.%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.I), "[email]"),
]


def sentry_init(
    *, dsn: str, environment: str, traces_sample_rate: float, transport: Transport | None = None
) -> None:
    """Send errors (and a share of traces) of web requests and Celery tasks to Sentry.
    `transport`: the SDK's own (HTTPS to the DSN) unless a test hands one that keeps events."""
    sentry_sdk.init(
        dsn=dsn,
        transport=transport,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        # No user, cookies, SQL parameters or task payloads; no query strings (the request's,
        # outgoing calls': signed URLs); headers and locals without the secret-looking ones. A
        # request's body stays (a callback's is Astria's object), scrubbed like the rest.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": IDENTIFYING_HEADERS}},
            "http_bodies": ["incoming_request"],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "gen_ai": {"inputs": False, "outputs": False},
            "stack_frame_variables": {"mode": "denylist"},
        },
        before_send=event_scrub,
        before_send_transaction=event_scrub,
        before_breadcrumb=breadcrumb_scrub,
    )


def event_scrub(event: Any, hint: Any) -> Any:
    """An event as it leaves: every string in it scrubbed."""
    return value_scrub(event, secrets=known_secrets())


def breadcrumb_scrub(crumb: Any, hint: Any) -> Any:
    """A breadcrumb as it is recorded (log lines, outgoing requests): every string scrubbed."""
    return value_scrub(crumb, secrets=known_secrets())


def value_scrub(value: Any, *, secrets: list[str], key: str = "") -> Any:
    """`value` with the secrets and e-mail addresses in its strings replaced, however deep.
    `key`: the name `value` is kept under (items of a list inherit their list's)."""
    if key and is_secret_name(key):
        return FILTERED
    if isinstance(value, dict):
        return {
            k: value_scrub(v, secrets=secrets, key=k if isinstance(k, str) else "")
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [value_scrub(item, secrets=secrets, key=key) for item in value]
    if not isinstance(value, str):
        return value
    return text_scrub(value, secrets=secrets, patterns=key not in PLAIN_KEYS)


def is_secret_name(key: str) -> bool:
    name = key.lower()
    return name in SECRET_NAMES or any(word in name for word in SECRET_WORDS)


def text_scrub(text: str, *, secrets: list[str], patterns: bool = True) -> str:
    for secret in secrets:
        text = text.replace(secret, FILTERED)
    for pattern, replacement in PATTERNS if patterns else []:
        text = pattern.sub(replacement, text)
    return text


def known_secrets() -> list[str]:
    """The secrets this process was given, wherever they turn up (read when an event is sent,
    so a test's settings count). Short values would scrub ordinary words: not secrets."""
    storage_options = settings.STORAGES["default"].get("OPTIONS", {})
    values = [
        settings.SECRET_KEY,
        settings.ASTRIA_API_KEY,
        settings.ASTRIA_SANDBOX_KEY,
        *settings.ASTRIA_SANDBOX_EXTRA_KEYS,
        storage_options.get("secret_key"),
        getattr(settings, "EMAIL_HOST_PASSWORD", ""),
        *(db.get("PASSWORD") for db in settings.DATABASES.values()),
    ]
    return [value for value in values if isinstance(value, str) and len(value) >= 8]
