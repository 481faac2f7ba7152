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
