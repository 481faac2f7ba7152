"""The portal's URLs: each app's own, plus admin (moved by ADMIN_URL) and allauth's."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from operations import health, watchdog

admin.site.site_header = "PhotoShoot admin"
admin.site.site_title = "PhotoShoot admin"
# Admin has no login of its own: it sends people to the portal's (allauth's), with its failed
# login limits, lock-out and two-factor step.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("healthz/ready/", health.ready, name="healthz_ready"),
    path("healthz/beat/", watchdog.beat, name="healthz_beat"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("uploads.urls")),
    path("", include("packs.urls")),
    path("", include("tunes.urls")),
    path("", include("payments.urls")),
]

if settings.ASTRIA_SANDBOX:
    urlpatterns.append(path("sandbox/astria/", include("sandbox.urls")))
if settings.STRIPE_SANDBOX:
    urlpatterns.append(path("sandbox/stripe/", include("stripe_sandbox.urls")))
