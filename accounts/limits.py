"""Per-user limits on expensive actions: how many in a window (a rate), and how many at once.

The counts live in Django's cache, which production shares between every process (Redis), and
use only its atomic operations (`add`, `incr`), so parallel requests cannot slip past a limit.
allauth's limiter (`allauth.core.ratelimit`, behind ACCOUNT_RATE_LIMITS) does not fit: its
public API reads allauth's own settings only and never limits a GET (a zip download is one),
it answers with one generic page, and it has nothing for "at most N at once".
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .http import AuthenticatedHttpRequest
from .models import User

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


@dataclass(frozen=True)
class Rate:
    """At most `amount` in `seconds`: the settings' "10/m", "5/300s", "100/h" (allauth's form)."""

    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*", text)
        if not found:
            raise ImproperlyConfigured(f"{text!r} is not a rate such as 10/m or 5/300s.")
        amount, count, unit = found.groups()
        return cls(int(amount), int(count or 1) * UNITS[unit])

    def window(self) -> tuple[str, str]:
        """The window in words, after "in the last …" and after "wait …"."""
        if self.seconds in NAMES:
            name = NAMES[self.seconds]
            return name, f"an {name}" if name == "hour" else f"a {name}"
        for seconds, name in reversed(NAMES.items()):
            if self.seconds % seconds == 0:
                words = f"{self.seconds // seconds} {name}s"
                return words, words
        raise AssertionError("every whole number of seconds has a name")  # pragma: no cover


def rate_consume(*, user: User, action: str, rate: Rate) -> bool:
    """Count one `action` of `user`; False once more than `rate.amount` came in its window.

    The window starts at the user's first `action` and ends `rate.seconds` later, when the
    count expires with its key."""
    key = f"limits:rate:{action}:{user.pk}"
    cache.add(key, 0, timeout=rate.seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls: this opens the next one
        cache.set(key, 1, timeout=rate.seconds)
        return True
    if count == 1:
        # Redis's incr is EXISTS then INCR: a key that expired in between comes back without
        # an expiry, and would count for ever. The first of a window sets the expiry again.
        cache.touch(key, timeout=rate.seconds)
    return count <= rate.amount


def too_many(request: HttpRequest, message: str, *, seconds: int, json: bool) -> HttpResponse:
    """The 429 answer: `message` as `{"error": …}` (what the upload page's script shows) or on
    a page; Retry-After says when at the latest it is worth trying again."""
    if json:
        response: HttpResponse = JsonResponse({"error": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def rate_limit(
    request: AuthenticatedHttpRequest, *, action: str, rate: str, done: str, json: bool = False
) -> HttpResponse | None:
    """Count one `action` of the signed-in user against `rate` (a setting's text); a 429 that
    says "You have `done` in the last minute; wait a minute and try again." once over it, or
    None to go on."""
    parsed = Rate.parse(rate)
    if rate_consume(user=request.user, action=action, rate=parsed):
        return None
    last, wait = parsed.window()
    message = f"You have {done} in the last {last}; wait {wait} and try again."
    return too_many(request, message, seconds=parsed.seconds, json=json)


@contextmanager
def slot_hold(*, user: User, action: str, slots: int, lapse: int) -> Iterator[bool]:
    """Hold one of `slots` places for `user`'s `action` while the block runs: True if one was
    free, False if all are taken. Each place is a cache key that lapses after `lapse` seconds
    on its own, so a process killed while holding one cannot keep it for ever."""
    token = secrets.token_hex(8)
    for index in range(slots):
        key = f"limits:slot:{action}:{user.pk}:{index}"
        if cache.add(key, token, timeout=lapse):
            try:
                yield True
            finally:
                # Only our own: had it lapsed, someone else may hold this place now.
                if cache.get(key) == token:
                    cache.delete(key)
            return
    yield False
