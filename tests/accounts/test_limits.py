"""accounts/limits.py: rates as the settings write them, and counts that parallel requests
cannot slip past, on Redis as production shares them (tests/security/test_flooding.py has the
views' limits)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings

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
    # (settings.py reads every rate setting with it at start: tests/photoshoot/test_settings.py)
    with pytest.raises(ValueError, match="not a rate such as 10/m or 5/300s"):
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
def redis_cache(settings: Any) -> Iterator[redis.Redis]:
    """The cache on Redis, as in production, under a key prefix of this test's own; the Redis
    server itself, to read the keys' expiries. Its keys are deleted after the test (flushing
    would empty the broker's database too)."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield server
    for key in server.scan_iter(match=f"{prefix}:*", count=100):
        server.delete(key)


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
    rate = limits.Rate(10, 3600)  # an hour: the thirty come in one window however slowly
    allowed = at_once(30, lambda: limits.rate_consume(user=user, action="zip", rate=rate))
    assert allowed.count(True) == 10
    assert limits.rate_consume(user=other, action="zip", rate=rate)


@pytest.mark.redis
def test_thirty_at_once_on_redis_get_exactly_three_places(redis_cache):
    user = User(pk=103)
    inside = threading.Barrier(30)

    def hold() -> bool:
        with limits.slot_hold(user=user, action="upload_finish", slots=3, lapse=3600) as held:
            inside.wait(timeout=10)  # every thread holds what it got until all have tried
            return held

    assert at_once(30, hold).count(True) == 3
    with limits.slot_hold(user=user, action="upload_finish", slots=3, lapse=3600) as held:
        assert held  # all given back


def test_a_place_that_lapsed_and_was_taken_again_is_not_given_back_by_its_first_holder():
    from django.core.cache import cache

    user = User(pk=104)
    with limits.slot_hold(user=user, action="finish", slots=1, lapse=60) as held:
        assert held
        cache.set(f"limits:slot:finish:{user.pk}:0", "someone else's", timeout=60)
    with limits.slot_hold(user=user, action="finish", slots=1, lapse=60) as held:
        assert not held


def rate_key(user: User, action: str) -> str:
    from django.core.cache import cache

    return cache.make_key(f"limits:rate:{action}:{user.pk}")


@pytest.mark.redis
def test_a_window_on_redis_ends_its_rate_s_seconds_after_its_first_count(redis_cache):
    user = User(pk=105)
    rate = limits.Rate(2, 3600)
    assert limits.rate_consume(user=user, action="zip", rate=rate)
    key = rate_key(user, "zip")
    assert 3590 < redis_cache.ttl(key) <= 3600
    redis_cache.expire(key, 1800)  # half an hour later
    assert limits.rate_consume(user=user, action="zip", rate=rate)
    assert 0 < redis_cache.ttl(key) <= 1800  # a later count does not move the window's end


@pytest.mark.redis
def test_a_count_that_came_back_without_an_expiry_gets_one_again(redis_cache):
    """Redis's decr is EXISTS then DECRBY: a count given back as its window ends may come back
    as -1 with no expiry at all."""
    user = User(pk=106)
    key = rate_key(user, "zip")
    redis_cache.set(key, -1)
    assert limits.rate_consume(user=user, action="zip", rate=limits.Rate(2, 3600))
    assert 3590 < redis_cache.ttl(key) <= 3600


def test_a_count_given_back_lets_one_more_in_and_none_is_given_after_its_window():
    user = User(pk=107)
    rate = limits.Rate(1, 3600)
    assert limits.rate_consume(user=user, action="zip", rate=rate)
    limits.rate_refund(user=user, action="zip")  # it did none of its work
    assert limits.rate_consume(user=user, action="zip", rate=rate)
    assert not limits.rate_consume(user=user, action="zip", rate=rate)

    limits.rate_reset(user=user, action="zip")  # the hour has passed
    limits.rate_refund(user=user, action="zip")  # nothing to give back: no credit for later
    assert limits.rate_consume(user=user, action="zip", rate=rate)
    assert not limits.rate_consume(user=user, action="zip", rate=rate)
