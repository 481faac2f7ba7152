"""Production settings, checked in a child process started as production would start it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import BASE_DIR, subprocess_env

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3#Vq9!zT0wLp2@Rm7$Nd5^Bx8&Hc4*Jf6(Gs1)Ya-Ue_Wi+Oo",
    "DATABASE_URL": "postgres://photoshoot@127.0.0.1:5432/photoshoot",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "photos.example.com",
    "PUBLIC_BASE_URL": "https://photos.example.com",
    "ADMIN_URL": "staff-8c1f/",
    "AWS_STORAGE_BUCKET_NAME": "photoshoot-media",
    "ASTRIA_API_KEY": "sd_production_key",
    "STRIPE_SECRET_KEY": "sk_live_production_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_secret",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    without = {k: v for k, v in env.items() if v is not None}
    child_env = subprocess_env(**without)
    for name in [k for k, v in env.items() if v is None]:
        child_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "ALLOWED_HOSTS",
        "PUBLIC_BASE_URL",
        "ADMIN_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "ASTRIA_API_KEY",
    ],
)
def test_production_refuses_to_start_without(missing):
    result = manage("check", **{**PRODUCTION, missing: None})
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_without_stripe_keys_starts_and_says_payments_are_off():
    result = manage("check", **{**PRODUCTION, "STRIPE_SECRET_KEY": None})
    assert result.returncode == 0
    assert "Payments are off: STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in result.stderr


RATES = [
    "SELFIE_SET_CREATE_RATE",
    "UPLOAD_START_RATE",
    "UPLOAD_FINISH_RATE",
    "ZIP_RATE",
    "TUNE_START_RATE",
    "LOGIN_FAILED_RATE",
]
NOT_A_RATE = "not a rate such as 10/m or 5/300s"
NOT_AN_ORIGIN = "not a host, host:port or http(s) URL"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        *[(rate, "ten a minute", f"{rate}: {NOT_A_RATE}: 'ten a minute'") for rate in RATES],
        (
            "ASTRIA_IMAGE_HOSTS",
            "api.astria.ai,mp.astria.ai:https",
            f"ASTRIA_IMAGE_HOSTS: {NOT_AN_ORIGIN}: 'mp.astria.ai:https'",
        ),
        (
            "ASTRIA_SANDBOX_OUTBOUND_HOSTS",
            "ftp://127.0.0.1:2121",
            f"ASTRIA_SANDBOX_OUTBOUND_HOSTS: {NOT_AN_ORIGIN}: 'ftp://127.0.0.1:2121'",
        ),
        (
            "ASTRIA_BASE_URL",
            "https://api.astria.ai:api",
            f"ASTRIA_BASE_URL: {NOT_AN_ORIGIN}: 'https://api.astria.ai:api'",
        ),
    ],
)
def test_production_refuses_to_start_with_a_value_it_cannot_read(name, value, message):
    """Read at start, not at each request or photo copy, which would all fail with it."""
    result = manage("check", **{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_development_refuses_a_rate_it_cannot_read_too():
    result = manage("check", DJANGO_ENV="development", UPLOAD_START_RATE="10/w")
    assert result.returncode != 0
    assert f"UPLOAD_START_RATE: {NOT_A_RATE}: '10/w'" in result.stderr


def test_production_refuses_a_database_other_than_postgresql():
    result = manage("check", **{**PRODUCTION, "DATABASE_URL": "sqlite:////tmp/x.sqlite3"})
    assert result.returncode != 0
    assert "DATABASE_URL must point to PostgreSQL" in result.stderr


def test_production_passes_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_moves_admin_to_admin_url():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.urls import reverse; print(reverse('admin:index'))",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/staff-8c1f/"


def test_development_needs_nothing_set():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.STORAGES['default']['BACKEND'])",
        DJANGO_ENV="development",
        DATABASE_URL=None,
        CELERY_BROKER_URL=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.files.storage.FileSystemStorage",
    ]


def test_an_unknown_environment_is_refused():
    result = manage("check", DJANGO_ENV="prod")
    assert result.returncode != 0
    assert "DJANGO_ENV must be development, test or production, not 'prod'" in result.stderr


SANDBOX_MOUNTED = (
    "from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/sandbox/astria/tunes'); print('mounted')\n"
    "except Resolver404:\n    print('absent')"
)


def test_production_never_mounts_the_sandbox_unless_told_to():
    result = manage("shell", "--no-imports", "-c", SANDBOX_MOUNTED, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "absent"

    result = manage(
        "shell",
        "--no-imports",
        "-c",
        SANDBOX_MOUNTED,
        **{**PRODUCTION, "ASTRIA_SANDBOX": "1", "ASTRIA_SANDBOX_KEY": "sd_long_random_1"},
    )
    assert result.stdout.strip() == "mounted"


def test_production_without_the_sandbox_talks_to_astria():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.ASTRIA_BASE_URL)",
        **PRODUCTION,
    )
    assert result.stdout.strip() == "https://api.astria.ai"


def test_a_sandbox_switched_on_in_production_needs_its_own_key():
    sandbox_on = {**PRODUCTION, "ASTRIA_SANDBOX": "1"}
    result = manage("check", **sandbox_on)
    assert "Set the ASTRIA_SANDBOX_KEY environment variable" in result.stderr
    result = manage("check", **{**sandbox_on, "ASTRIA_SANDBOX_KEY": "sd_sandbox"})
    assert "ASTRIA_SANDBOX_KEY must not be sd_sandbox in production" in result.stderr
    result = manage("check", **{**sandbox_on, "ASTRIA_SANDBOX_KEY": "sd_long_random_1"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("url", ["http://photos.example.com", "photos.example.com"])
def test_production_refuses_a_public_base_url_that_is_not_https(url):
    """Astria calls back only https URLs: every callback to this one would be lost."""
    result = manage("check", **{**PRODUCTION, "PUBLIC_BASE_URL": url})
    assert result.returncode != 0
    assert f"PUBLIC_BASE_URL must be an https URL in production, not {url!r}" in result.stderr


ASTRIA_BRANCH_SHOWN = "from django.conf import settings as s; print(repr(s.ASTRIA_BRANCH))"


@pytest.mark.parametrize("branch", ["", "fast", "flux1"])
def test_astria_branch_is_one_astria_has(branch):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        ASTRIA_BRANCH_SHOWN,
        **{**PRODUCTION, "ASTRIA_BRANCH": branch},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(branch)


def test_astria_branch_defaults_to_astrias_own_and_refuses_any_other():
    result = manage("shell", "--no-imports", "-c", ASTRIA_BRANCH_SHOWN, DJANGO_ENV="development")
    assert result.stdout.strip() == "''"
    result = manage("check", DJANGO_ENV="development", ASTRIA_BRANCH="sdxl")
    assert result.returncode != 0
    assert "ASTRIA_BRANCH must be empty, fast or flux1, not 'sdxl'" in result.stderr
