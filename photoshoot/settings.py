"""Settings for the PhotoShoot portal, read from the environment (and an optional `.env`).

Three environments, chosen by `DJANGO_ENV`:
- `development` (the default, `make run`): needs nothing installed. SQLite, media and a
  file-system Celery broker all live under `var/`.
- `test` (set by pytest): like development, but Celery runs tasks eagerly unless a test starts
  a real worker, caches are per process and password hashing is fast.
- `production`: every outside service comes from the environment and a missing one stops the
  process at start with a message that names the variable.

Every variable read here is listed, with its default, in `.env.example`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

# None imports anything of the portal: the rates and origins below are read with them now.
from accounts.limits import Rate
from astria.origins import origin_entry
from sandbox.hosts import files_origin

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Values already in the environment win over the file (read_env only sets missing keys).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))


def _required_in_production(name: str, development_default: str) -> str:
    """Production has no defaults for these: env.str raises, naming the variable."""
    if PRODUCTION:
        return env.str(name)
    return env.str(name, default=development_default)


def _read_now(name: str, values: list[str], read: Callable[[str], object]) -> None:
    """Read each of `values` (the variable `name`'s) as the code that uses them will: one it
    cannot read stops the process at start, naming the variable, instead of failing every
    request or task that reads it later."""
    for value in values:
        try:
            read(value)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}.") from exc


# --- Core -------------------------------------------------------------------------------------

SECRET_KEY = _required_in_production(
    "SECRET_KEY", "django-insecure-development-only-key-never-use-it-in-production"
)
DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")
PORT = env.int("PORT", default=8000)
PUBLIC_BASE_URL = _required_in_production("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
if PRODUCTION and not PUBLIC_BASE_URL.startswith("https://"):
    # Astria calls back only public https URLs: over http every callback would be lost.
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL must be an https URL in production, not {PUBLIC_BASE_URL!r}: "
        "Astria's callbacks go to it."
    )
ALLOWED_HOSTS = (
    env.list("ALLOWED_HOSTS")
    if PRODUCTION
    else env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])
# A refused form gets the portal's page (templates/403_csrf.html) with the signed-in header.
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"
ADMIN_URL = _required_in_production("ADMIN_URL", "admin/").strip("/") + "/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "storages",
    "accounts",
    "sandbox",
    "uploads",
    "packs",
    "tunes",
    "studio",
    "payments",
    # Last: it reaches above every app (its astria_smoke command copies with tunes' copier).
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside every middleware that can answer by itself (a 400 for a foreign Host, a CSRF 403).
    "operations.csp.StorageAwareCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaRequired",
]

ROOT_URLCONF = "photoshoot.urls"
WSGI_APPLICATION = "photoshoot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

if PRODUCTION:
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL in production.")
else:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web threads, the worker and beat write at once: wait for the lock instead of failing, and
    # take it when a transaction starts so a reader never has to upgrade to a writer midway.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    if not TESTING:
        # Readers never wait for the writer. (Not for tests: the test database file is deleted
        # and made again each run, and a stale -wal/-shm beside a new file breaks it.)
        DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;"
    # A file, not memory, for the test database: live-server threads then lock the database
    # as a whole (and wait) instead of failing on table locks of a shared in-memory database.
    # One per test run, so that two runs in one checkout never share (or delete) a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that stopped refuses a connection at once, but one behind a lost network
    # drops packets and libpq would wait for TCP's own timeout (minutes) on every request:
    # Astria's callbacks are answered 503 within this instead (tunes/callbacks.py). A
    # `connect_timeout` in DATABASE_URL's query wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery (read by photoshoot/celery.py through the CELERY_ namespace) ------------------------


def _broker_of_this_test_process() -> None:
    """Under pytest-xdist (`make test` runs two test processes) each process takes a Redis
    database of its own, the broker's number plus the worker's (gw0 keeps it, gw1 the next),
    so one process's Celery worker never takes the tasks the other queued. Written back to the
    environment, and marked done, so the workers and servers a test starts inherit that same
    database instead of moving one further. PostgreSQL needs nothing like it: pytest-django
    gives each process a test database of its own."""
    worker, url = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("CELERY_BROKER_URL")
    if not worker or not url or os.environ.get("BROKER_OF_XDIST_WORKER") == worker:
        return
    base, _, number = url.rpartition("/")
    if url.startswith("redis://") and number.isdigit():
        os.environ["CELERY_BROKER_URL"] = f"{base}/{int(number) + int(worker.removeprefix('gw'))}"
    os.environ["BROKER_OF_XDIST_WORKER"] = worker


if TESTING:
    _broker_of_this_test_process()
CELERY_BROKER_URL = _required_in_production("CELERY_BROKER_URL", "memory://" if TESTING else "")
if not CELERY_BROKER_URL:
    # The embedded default: a broker made of files under var/, so `make run` needs no server.
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    # Any: each transport takes options of its own kinds (paths, flags, seconds).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "store_processed": False,
    }
else:
    # A task not acknowledged within this time is handed to another worker (Redis, SQS).
    # It must exceed the longest countdown/eta a task is scheduled with.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
# The sandbox stands for Astria, whose work goes on whatever happens to our workers: its tasks
# may run on a queue (and a worker) of their own, as the fault suite does when it kills ours.
CELERY_TASK_ROUTES = {"sandbox.tasks.*": {"queue": env.str("SANDBOX_QUEUE", default="celery")}}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has run, and a worker that dies mid-task gives it back:
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"  # the console e-mail backend prints, in development
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
Path(CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
# Beat's sweep: overdue polls, lost tasks sent again, deadlines (tunes/sweep.py). The watchdog
# reports beat late once no sweep has finished for BEAT_LATE_PERIODS of these.
POLL_SWEEP_SECONDS = env.int("POLL_SWEEP_SECONDS", default=60)
BEAT_LATE_PERIODS = env.float("BEAT_LATE_PERIODS", default=2.5)
# A job's claim is renewed by its attempt every quarter of this; a killed worker's lapses after
# it, and the resume check (every WORK_RESUME_SECONDS) hands the job on (operations/leases.py).
CLAIM_LEASE_SECONDS = env.int("CLAIM_LEASE_SECONDS", default=20)
WORK_RESUME_SECONDS = env.int("WORK_RESUME_SECONDS", default=10)
# The worker touches this file while it is alive; `python -m operations.worker_alive` checks it
# (a supervisor's liveness probe). One file per worker process on a host.
WORKER_ALIVE_FILE = env.str("WORKER_ALIVE_FILE", default=str(VAR_DIR / "worker-alive"))
WORKER_ALIVE_SECONDS = env.int("WORKER_ALIVE_SECONDS", default=10)
CELERY_BEAT_SCHEDULE = {
    "sessions-clear": {
        "task": "accounts.tasks.sessions_clear",
        "schedule": crontab(hour=3, minute=17),
    },
    "outbox-flush": {
        "task": "accounts.tasks.outbox_flush",
        "schedule": env.int("OUTBOX_FLUSH_SECONDS", default=60),
    },
    "tunes-poll-overdue": {
        "task": "tunes.tasks.tunes_poll_overdue",
        "schedule": POLL_SWEEP_SECONDS,
    },
    "work-resume": {
        "task": "tunes.tasks.claims_lapsed_resume",
        "schedule": WORK_RESUME_SECONDS,
    },
    "astria-calls-prune": {
        "task": "tunes.tasks.astria_calls_prune",
        "schedule": crontab(hour=4, minute=23),
    },
    "selfie-uploads-sweep": {
        "task": "uploads.tasks.selfie_uploads_sweep",
        "schedule": crontab(minute=41),
    },
    "storage-orphans-sweep": {
        "task": "operations.tasks.storage_orphans_sweep",
        "schedule": crontab(minute=53),
    },
}

# --- Cache (login rate limits live here, so production needs one shared by every process) ---

if TESTING:
    _cache_default = "locmemcache://"
elif PRODUCTION and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    _cache_default = CELERY_BROKER_URL
elif PRODUCTION:
    _cache_default = ""
else:
    _cache_default = f"filecache://{VAR_DIR / 'cache'}"
CACHES = {"default": env.cache_url("CACHE_URL", default=_cache_default or environ.Env.NOTSET)}

# --- Storage ----------------------------------------------------------------------------------

MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# How old an object no row names must be before the hourly sweep removes it: far longer than
# any write takes (operations/orphans.py).
STORAGE_ORPHAN_GRACE_SECONDS = env.int("STORAGE_ORPHAN_GRACE_SECONDS", default=24 * 3600)
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
if not PRODUCTION:
    # whitenoise serves from the finders here, but warns when the folder is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="s3" if PRODUCTION else "local")
# Private by construction: no ACL is sent (the bucket's own, private, policy applies), every URL
# is signed with SigV4 and expires quickly, and a new file never replaces an existing one.
S3_STORAGE_OPTIONS = {
    "bucket_name": env.str(
        "AWS_STORAGE_BUCKET_NAME", default=environ.Env.NOTSET if STORAGE_BACKEND == "s3" else ""
    ),
    "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
    "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
    "region_name": env.str("AWS_S3_REGION_NAME", default=None),
    "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
    "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default=None),
    "default_acl": None,
    "querystring_auth": True,
    "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
    "signature_version": "s3v4",
    "file_overwrite": False,
}
if STORAGE_BACKEND == "s3":
    _default_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": S3_STORAGE_OPTIONS,
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be s3 or local, not {STORAGE_BACKEND!r}.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Accounts ---------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tunes:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# allauth's forms with the portal's words ("E-mail", "Password again"): accounts/forms.py.
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "add_email": "accounts.forms.AddEmailForm",
}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Sign-up, password reset and login answer alike whether an address has an account or not.
# True, not "strict": with mandatory verification it hides a taken address at sign-up too,
# where "strict" would make a second account for it.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[PhotoShoot] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
# Only the newest password-reset link works (an older e-mail may have leaked). A class's path,
# not a password, whatever the linters read in the name.
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "accounts.reset_links.LatestLinkTokenGenerator"  # noqa: S105 # nosec B105
# allauth counts attempts in the cache. Failed logins: at most 10 a minute from one address,
# and LOGIN_FAILED_RATE (default 5 every 5 minutes) for one account, wherever they come from.
# Behind the production proxy the client's address is the last one it adds to
# X-Forwarded-For; without this every login would count against the proxy's own address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if PRODUCTION else 0)
_login_failed_rate = env.str("LOGIN_FAILED_RATE", default="5/300s")
_read_now("LOGIN_FAILED_RATE", [_login_failed_rate], Rate.parse)
ACCOUNT_RATE_LIMITS = {"login_failed": f"10/m/ip,{_login_failed_rate}/key"}
# Admin signs in through the same allauth login (photoshoot/urls.py), so these limits and the
# lock-out guard it too.

# Two-factor authentication (allauth's MFA): a TOTP app, with recovery codes, for everyone who
# wants it; staff must have it before admin opens when STAFF_REQUIRE_MFA is on (production).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "PhotoShoot"
STAFF_REQUIRE_MFA = env.bool("STAFF_REQUIRE_MFA", default=PRODUCTION)

# --- Selfie uploads ---------------------------------------------------------------------------

UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# More pixels than this in a header is refused before decoding (a decompression bomb).
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=64_000_000)
# Bytes one upload's pixels may take while decoded; each format and mode gets the pixels that
# fit (uploads/images.py). With the file and its 2048 px copy, verifying stays under 256 MB
# above a process's idle size (tests/security/test_upload_memory.py).
UPLOAD_DECODE_MAX_BYTES = env.int("UPLOAD_DECODE_MAX_BYTES", default=160 * 1024 * 1024)
UPLOAD_MIN_SIDE = env.int("UPLOAD_MIN_SIDE", default=512)
UPLOAD_GOOD_SIDE = env.int("UPLOAD_GOOD_SIDE", default=1024)  # below: a "low resolution" hint
UPLOAD_BLUR_THRESHOLD = env.float("UPLOAD_BLUR_THRESHOLD", default=6.0)
# Seconds an upload target and a signed image URL stay valid.
UPLOAD_URL_EXPIRY = env.int("UPLOAD_URL_EXPIRY", default=300)
SELFIES_MIN = env.int("SELFIES_MIN", default=4)
SELFIES_MAX = env.int("SELFIES_MAX", default=30)
# Per-user limits on expensive work (accounts/limits.py), past which a request gets a 429 that
# says how long to wait: "60/m" is 60 a minute ("5/300s", "100/h" too). A whole set is 30
# photos, which the upload page sends three at a time.
SELFIE_SET_CREATE_RATE = env.str("SELFIE_SET_CREATE_RATE", default="10/m")
UPLOAD_START_RATE = env.str("UPLOAD_START_RATE", default="60/m")
UPLOAD_FINISH_RATE = env.str("UPLOAD_FINISH_RATE", default="60/m")
_read_now("SELFIE_SET_CREATE_RATE", [SELFIE_SET_CREATE_RATE], Rate.parse)
_read_now("UPLOAD_START_RATE", [UPLOAD_START_RATE], Rate.parse)
_read_now("UPLOAD_FINISH_RATE", [UPLOAD_FINISH_RATE], Rate.parse)
# Photo checks one user runs at once: each holds a decoded photo in a web process's memory.
UPLOAD_FINISH_CONCURRENCY = env.int("UPLOAD_FINISH_CONCURRENCY", default=3)

# Credits every new account starts with.
SIGNUP_FREE_CREDITS = env.int("SIGNUP_FREE_CREDITS", default=20)

DEMO_EMAIL = env.str("DEMO_EMAIL", default="demo@example.com")
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="photoshoot-demo")

# --- Astria ----------------------------------------------------------------------------------

# The sandbox (the app sandbox/, a development and test tool) emulates Astria's API under
# /sandbox/astria/ on this server. It is the provider in development and tests; production
# refuses it unless it is set explicitly.
ASTRIA_SANDBOX = env.bool("ASTRIA_SANDBOX", default=not PRODUCTION)
# A sandbox switched on in production must not answer to the well-known development key.
ASTRIA_SANDBOX_KEY = (
    env.str("ASTRIA_SANDBOX_KEY")
    if PRODUCTION and ASTRIA_SANDBOX
    else env.str("ASTRIA_SANDBOX_KEY", default="sd_sandbox")
)
if PRODUCTION and ASTRIA_SANDBOX and ASTRIA_SANDBOX_KEY == "sd_sandbox":
    raise ImproperlyConfigured("ASTRIA_SANDBOX_KEY must not be sd_sandbox in production.")
# More accounts on the sandbox, each with its own tunes (tests use one to play someone else).
ASTRIA_SANDBOX_EXTRA_KEYS = env.list("ASTRIA_SANDBOX_EXTRA_KEYS", default=[])
ASTRIA_SANDBOX_TRAIN_SECONDS = env.float("ASTRIA_SANDBOX_TRAIN_SECONDS", default=20)
ASTRIA_SANDBOX_GENERATE_SECONDS = env.float("ASTRIA_SANDBOX_GENERATE_SECONDS", default=5)
# The sandbox downloads `image_urls` only from the portal's own storage and calls back only
# PUBLIC_BASE_URL (else it would be a port scanner); these origins are allowed too (`host[:port]`
# for https, or `http://host:port`), for stand-ins in tests.
ASTRIA_SANDBOX_OUTBOUND_HOSTS = env.list("ASTRIA_SANDBOX_OUTBOUND_HOSTS", default=[])
_read_now("ASTRIA_SANDBOX_OUTBOUND_HOSTS", ASTRIA_SANDBOX_OUTBOUND_HOSTS, origin_entry)
ASTRIA_BASE_URL = env.str(
    "ASTRIA_BASE_URL",
    default=f"{PUBLIC_BASE_URL}/sandbox/astria" if ASTRIA_SANDBOX else "https://api.astria.ai",
)
ASTRIA_API_KEY = env.str(
    "ASTRIA_API_KEY", default=ASTRIA_SANDBOX_KEY if ASTRIA_SANDBOX else environ.Env.NOTSET
)
ASTRIA_CONNECT_TIMEOUT = env.float("ASTRIA_CONNECT_TIMEOUT", default=5)
# Astria itself gives up after 30 s (and answers 504), so a little more than that.
ASTRIA_READ_TIMEOUT = env.float("ASTRIA_READ_TIMEOUT", default=35)

# --- Payments (Stripe) ------------------------------------------------------------------------

# Both keys, or payments are off: the pricing page says so, the webhook answers 503, and
# `manage.py check` (run at every start) warns (payments/checks.py). Tests have their own keys.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_portal" if TESTING else "")
STRIPE_WEBHOOK_SECRET = env.str(
    "STRIPE_WEBHOOK_SECRET", default="whsec_test_portal" if TESTING else ""
)
PAYMENTS_ENABLED = bool(STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)
# Stripe signs each delivery with its time; an older signature is refused (Stripe's default).
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=20)

# --- Stripe sandbox (issue 15) ------------------------------------------------------------------
# The app stripe_sandbox/ emulates the part of Stripe's API the portal's SDK calls, a hosted pay
# page and signed webhooks, under /sandbox/stripe/ on this server. Development and tests only:
# production never mounts it, and refuses to start if told to.
STRIPE_SANDBOX = env.bool("STRIPE_SANDBOX", default=not PRODUCTION)
if PRODUCTION and STRIPE_SANDBOX:
    raise ImproperlyConfigured(
        "STRIPE_SANDBOX is never on in production: unset it and set STRIPE_SECRET_KEY."
    )
INSTALLED_APPS.insert(INSTALLED_APPS.index("operations"), "stripe_sandbox")
CELERY_TASK_ROUTES["stripe_sandbox.tasks.*"] = CELERY_TASK_ROUTES["sandbox.tasks.*"]
STRIPE_SANDBOX_KEY = env.str("STRIPE_SANDBOX_KEY", default="sk_test_sandbox")
# What the SDK's stripe.api_base is set to when the sandbox is the provider.
STRIPE_SANDBOX_API_BASE = f"{PUBLIC_BASE_URL}/sandbox/stripe"
# It signs its webhooks with the portal's webhook secret, so that the portal verifies them.
STRIPE_SANDBOX_WEBHOOK_SECRET = env.str(
    "STRIPE_SANDBOX_WEBHOOK_SECRET", default=STRIPE_WEBHOOK_SECRET or "whsec_sandbox"
)
# Only loopback or PUBLIC_BASE_URL's origin (stripe_sandbox/outbound.py).
STRIPE_SANDBOX_WEBHOOK_URL = env.str(
    "STRIPE_SANDBOX_WEBHOOK_URL", default=f"{PUBLIC_BASE_URL}/payments/stripe/webhook/"
)
# --- end of the Stripe sandbox block ------------------------------------------------------------

# --- Models and photoshoots (tunes) ----------------------------------------------------------

FLUX_BASE_TUNE_ID = 1504944  # Flux1.dev in Astria's gallery: every LoRA trains and runs on it
ASTRIA_PRESET = env.str("ASTRIA_PRESET", default="flux-lora-portrait")
# Astria's branch for new tunes: empty for its default, "flux1", or "fast", its free mock mode
# (no training, mock images, callbacks still fire) for a smoke test against the real API.
ASTRIA_BRANCH = env.str("ASTRIA_BRANCH", default="")
if ASTRIA_BRANCH not in {"", "fast", "flux1"}:
    raise ImproperlyConfigured(
        f"ASTRIA_BRANCH must be empty, fast or flux1, not {ASTRIA_BRANCH!r}."
    )
# Where the portal copies result images from (every hop of Astria's redirects), besides the
# scheme, host and port of ASTRIA_BASE_URL: `host` or `host:port`, https (443 unless given).
# The sandbox, like Astria, serves its results from another host than its API's: its other
# loopback name (sandbox/hosts.py), on the same port.
ASTRIA_IMAGE_HOSTS = env.list(
    "ASTRIA_IMAGE_HOSTS",
    default=[
        "api.astria.ai",
        "sdbooth2-production.s3.amazonaws.com",
        "mp.astria.ai",
        *([files_origin(ASTRIA_BASE_URL)] if ASTRIA_SANDBOX else []),
    ],
)
_read_now("ASTRIA_IMAGE_HOSTS", ASTRIA_IMAGE_HOSTS, origin_entry)
_read_now("ASTRIA_BASE_URL", [ASTRIA_BASE_URL], origin_entry)  # its origin is allowed too
# Production copies over https only; elsewhere the sandbox's own http origin is allowed too.
ASTRIA_IMAGE_HTTPS_ONLY = env.bool("ASTRIA_IMAGE_HTTPS_ONLY", default=PRODUCTION)
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=30 * 1024 * 1024)
# First wait before retrying a transient Astria error (doubling, with jitter, each time).
ASTRIA_RETRY_SECONDS = env.float("ASTRIA_RETRY_SECONDS", default=30)
# Astria never retries a callback: past its ETA (or this long after sending) an object is polled.
POLL_AFTER_SECONDS = env.int("POLL_AFTER_SECONDS", default=120)
# An endless wait ends as a failure (and a refund) after this long.
TRAINING_DEADLINE_SECONDS = env.int("TRAINING_DEADLINE_SECONDS", default=4 * 3600)
PROMPT_DEADLINE_SECONDS = env.int("PROMPT_DEADLINE_SECONDS", default=2 * 3600)
CALLBACK_MAX_BYTES = env.int("CALLBACK_MAX_BYTES", default=256 * 1024)
# Galleries up to this many photos are zipped while the user waits; larger ones by a worker.
ZIP_INLINE_MAX_PHOTOS = env.int("ZIP_INLINE_MAX_PHOTOS", default=24)
# Per user (see SELFIE_SET_CREATE_RATE): zips made or downloaded (waiting for one is free), and
# photoshoots started.
ZIP_RATE = env.str("ZIP_RATE", default="10/m")
TUNE_START_RATE = env.str("TUNE_START_RATE", default="5/m")
_read_now("ZIP_RATE", [ZIP_RATE], Rate.parse)
_read_now("TUNE_START_RATE", [TUNE_START_RATE], Rate.parse)
# Photos per gallery page: each thumbnail is a signed URL made for every view (0.3 ms each on
# S3, most of the page's time: bench/), and twelve fill a phone's screen.
GALLERY_PAGE_SIZE = env.int("GALLERY_PAGE_SIZE", default=12)
# Days the record of each Astria call is kept for staff (a day's sweep forgets older ones).
ASTRIA_CALLS_KEEP_DAYS = env.int("ASTRIA_CALLS_KEEP_DAYS", default=90)
# A trained model takes new photoshoots until this long before Astria deletes it (30 days after
# training), so that a photoshoot started on it has the time to finish.
MODEL_USABLE_MARGIN_SECONDS = env.int("MODEL_USABLE_MARGIN_SECONDS", default=6 * 3600)

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)  # EMAIL_BACKEND, EMAIL_HOST, ... as django-environ documents
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PhotoShoot <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) --------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp, photoshoot/csp.py): scripts and styles only from the
# portal's own static files, so markup that slips into a page can neither run (no inline
# <script>, no on*= handler, no eval) nor restyle it; admin's and allauth's pages need no
# inline code either. Images may also be data: URIs (allauth's two-factor set-up shows its QR
# code as one). Storage's origin is added to img-src and connect-src per answer (S3 thumbnails,
# presigned uploads). Django's DEBUG error pages go without it (django-csp leaves them out).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

if PRODUCTION:
    # The proxy in front of gunicorn terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The load balancer checks over plain HTTP, from behind the proxy: liveness and readiness.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^healthz/ready/$", r"^healthz/beat/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Internationalisation, logging ------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_query_strings": {"()": "photoshoot.logs.QueryStringsOut"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs whole URLs at DEBUG: signed storage URLs and callback secrets among them.
        "urllib3": {"level": "WARNING"},
        # The development server's request log: paths only, never their query strings.
        "django.server": {
            "handlers": ["console"],
            "filters": ["no_query_strings"],
            "level": "INFO",
            "propagate": False,
        },
    },
}

# --- Errors (Sentry, only when a DSN is given) ------------------------------------------------

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from operations.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
