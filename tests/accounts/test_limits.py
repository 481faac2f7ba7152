"""accounts/limits.py: rates as the settings write them, and counts that parallel requests
cannot slip past, on Redis as production shares them (tests/security/test_flooding.py has the
views' limits)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from accounts import limits
from accounts.models import User


@pytest.mark.parametrize(
    ("text", "amount", "seconds", "words"),
    [
        ("10/m", 10, 60, ("minute", "a minute")),
        ("5/300s", 5, 300, ("5 minutes", "5 minutes")),
        ("100/h", 100, 3600, ("hour", "an hour")),
        ("2/1s", 2, 1, ("second", "a second")),
        ("3/90s", 3, 90, ("90 seconds", "90 seconds")),
        ("20/2d", 20, 172800, ("2 days", "2 days")),
    ],
)
def test_it_reads_a_rate_and_says_its_window(text, amount, seconds, words):
    rate = limits.Rate.parse(text)
    assert (rate.amount, rate.seconds) == (amount, seconds)
    assert rate.window() == words


@pytest.mark.parametrize("text", ["ten a minute", "10", "10/w", "/m", ""])
def test_it_refuses_a_rate_it_cannot_read(text):
    with pytest.raises(ImproperlyConfigured, match="is not a rate"):
        limits.Rate.parse(text)


def test_every_default_rate_reads():
    for name in [
        "ZIP_RATE",
        "TUNE_START_RATE",
        "UPLOAD_START_RATE",
        "UPLOAD_FINISH_RATE",
        "SELFIE_SET_CREATE_RATE",
    ]:
        assert limits.Rate.parse(getattr(django_settings, name)).amount > 0, name


@pytest.fixture
def redis_cache(settings: Any) -> str:
    """The cache on Redis, as in production, under a key prefix of this test's own (its keys
    expire within seconds; flushing would empty the broker's database too)."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    return prefix


def at_once(count: int, work: Any) -> list[Any]:
    """`work()` in `count` threads released together."""
    barrier = threading.Barrier(count)

    def run(_: int) -> Any:
        barrier.wait(timeout=10)
        return work()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.redis
def test_thirty_at_once_on_redis_pass_a_rate_of_ten_exactly_ten_times(redis_cache):
    user, other = User(pk=101), User(pk=102)
    rate = limits.Rate(10, 5)
    allowed = at_once(30, lambda: limits.rate_consume(user=user, action="zip", rate=rate))
    assert allowed.count(True) == 10
    assert limits.rate_consume(user=other, action="zip", rate=rate)


@pytest.mark.redis
def test_thirty_at_once_on_redis_get_exactly_three_places(redis_cache):
    user = User(pk=103)
    inside = threading.Barrier(30)

    def hold() -> bool:
        with limits.slot_hold(user=user, action="upload_finish", slots=3, lapse=5) as held:
            inside.wait(timeout=10)  # every thread holds what it got until all have tried
            return held

    assert at_once(30, hold).count(True) == 3
    with limits.slot_hold(user=user, action="upload_finish", slots=3, lapse=5) as held:
        assert held  # all given back


def test_a_place_that_lapsed_and_was_taken_again_is_not_given_back_by_its_first_holder():
    from django.core.cache import cache

    user = User(pk=104)
    with limits.slot_hold(user=user, action="finish", slots=1, lapse=60) as held:
        assert held
        cache.set(f"limits:slot:finish:{user.pk}:0", "someone else's", timeout=60)
    with limits.slot_hold(user=user, action="finish", slots=1, lapse=60) as held:
        assert not held
