"""Per-user limits on expensive actions: how many in a window (a rate), and how many at once.

The counts live in Django's cache, which production shares between every process (Redis), and
use only its atomic operations (`add`, `incr`, `decr`), so parallel requests cannot slip past a
limit.
allauth's limiter (`allauth.core.ratelimit`, behind ACCOUNT_RATE_LIMITS) does not fit: its
public API reads allauth's own settings only and never limits a GET (a zip download is one),
it answers with one generic page, and it has nothing for "at most N at once".

photoshoot/settings.py reads every rate with `Rate.parse` at start, so this module imports
nothing of the portal at run time (the user and request types are for the type checker only).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from .http import AuthenticatedHttpRequest
    from .models import User

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)

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
            raise ValueError(f"not a rate such as 10/m or 5/300s: {text!r}")
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


def _rate_key(user: User, action: str) -> str:
    return f"limits:rate:{action}:{user.pk}"


def rate_consume(*, user: User, action: str, rate: Rate) -> bool:
    """Count one `action` of `user`; False once more than `rate.amount` came in its window.

    The window starts at the user's first `action` and ends `rate.seconds` later, when the
    count expires with its key."""
    key = _rate_key(user, action)
    cache.add(key, 0, timeout=rate.seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls: this opens the next one
        cache.set(key, 1, timeout=rate.seconds)
        return True
    if count <= 1:
        # Redis's incr and decr are EXISTS then INCRBY: a key that expired in between comes
        # back without an expiry (at 1, or at -1 from a count given back), and would count for
        # ever. A count of at most 1 begins a window: it sets the expiry again.
        cache.touch(key, timeout=rate.seconds)
    return count <= rate.amount


def rate_refund(*, user: User, action: str) -> None:
    """Give back one counted `action` of `user` that did none of its work (refused as busy, to
    be asked again): only what was done uses up a rate. Nothing once its window has ended."""
    with suppress(ValueError):  # no count: the window has ended, there is nothing to give back
        cache.decr(_rate_key(user, action))


def rate_reset(*, user: User, action: str) -> None:
    """End `user`'s window for `action` now: their next one opens a new window, as when the
    count expires on its own. What tests use instead of waiting for a window to pass."""
    cache.delete(_rate_key(user, action))


def too_many(request: HttpRequest, message: str, *, seconds: int, json: bool) -> HttpResponse:
    """The 429 answer: `message` as `{"error": …}` (what the upload page's script shows) or on
    a page; Retry-After says when at the latest it is worth trying again."""
    if json:
        response: HttpResponse = JsonResponse({"error": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def per_user_limit(
    *, action: str, rate_setting: str, done: str, json: bool = False
) -> Callable[
    [Callable[Concatenate[AuthenticatedHttpRequest, P], R]],
    Callable[Concatenate[AuthenticatedHttpRequest, P], R | HttpResponse],
]:
    """Count one `action` of the signed-in user each time the decorated view runs, against the
    rate of the setting `rate_setting` (read at each call, so a changed setting applies at once;
    settings.py has checked the environment's at start); once over it the view does not run
    and the answer is a 429 that says "You have `done` in the last minute; wait a minute and
    try again." (as JSON with `json`). A view decorates the part of its work that costs:
    what it looks up or refuses first (a 404, a form's errors) is free."""

    def decorate(
        view: Callable[Concatenate[AuthenticatedHttpRequest, P], R],
    ) -> Callable[Concatenate[AuthenticatedHttpRequest, P], R | HttpResponse]:
        @wraps(view)
        def limited(
            request: AuthenticatedHttpRequest, *args: P.args, **kwargs: P.kwargs
        ) -> R | HttpResponse:
            rate = Rate.parse(getattr(settings, rate_setting))
            if rate_consume(user=request.user, action=action, rate=rate):
                return view(request, *args, **kwargs)
            last, wait = rate.window()
            message = f"You have {done} in the last {last}; wait {wait} and try again."
            return too_many(request, message, seconds=rate.seconds, json=json)

        return limited

    return decorate


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
