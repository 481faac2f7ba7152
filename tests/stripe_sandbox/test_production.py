"""The Stripe sandbox is never mounted in production, and production refuses to be told to."""

from __future__ import annotations

from tests.photoshoot.test_settings import PRODUCTION, manage

STRIPE_SANDBOX_MOUNTED = (
    "from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/sandbox/stripe/v1/checkout/sessions'); print('mounted')\n"
    "except Resolver404:\n    print('absent')"
)


def test_it_is_mounted_in_development():
    result = manage("shell", "--no-imports", "-c", STRIPE_SANDBOX_MOUNTED, DJANGO_ENV="development")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "mounted"


def test_production_never_mounts_it():
    result = manage("shell", "--no-imports", "-c", STRIPE_SANDBOX_MOUNTED, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "absent"


def test_production_refuses_to_start_with_it_switched_on():
    result = manage("check", **{**PRODUCTION, "STRIPE_SANDBOX": "1"})
    assert result.returncode != 0
    assert "STRIPE_SANDBOX is never on in production" in result.stderr
