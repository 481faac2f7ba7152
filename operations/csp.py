"""The Content-Security-Policy on every answer: django-csp's, from CONTENT_SECURITY_POLICY in
settings, plus the storage origins that settings cannot spell (see `browser_origins`)."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

from uploads.storage import browser_origins

# Thumbnails and photos are signed URLs on the bucket; the upload page's script POSTs each
# file straight to it. No form posts there, so form-action stays 'self'.
STORAGE_DIRECTIVES = ("img-src", "connect-src")


class StorageAwareCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, the storage's origins added to images and connections."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origins = browser_origins()
        if origins:
            update = dict(parts.update or {})
            for directive in STORAGE_DIRECTIVES:
                update[directive] = [*update.get(directive, ()), *origins]
            parts.update = update
        return parts
