"""Where the Stripe sandbox sends webhooks: only to loopback or to the portal itself
(PUBLIC_BASE_URL's origin), as the Astria sandbox calls back only the portal.

The URL comes from settings (STRIPE_SANDBOX_WEBHOOK_URL), never from an API caller; still, a
misconfigured sandbox holding the well-known key must not be a way to make this machine POST
signed bodies anywhere, so the origin is checked before every connection.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

from astria.origins import origin_of

from .errors import StripeError

LOOPBACK_NAMES = {"localhost"}


def webhook_check(url: str) -> None:
    origin = origin_of(url)
    if origin is None:
        raise StripeError("The webhook URL is not an http(s) URL.", status=422)
    if origin == origin_of(settings.PUBLIC_BASE_URL) or _is_loopback(origin.host):
        return
    raise StripeError(
        "The Stripe sandbox sends webhooks only to the portal (PUBLIC_BASE_URL) or loopback.",
        status=422,
    )


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
