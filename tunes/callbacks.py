"""Astria's callbacks: the secret in each callback URL, and the two views that receive them.

Astria neither signs nor retries callbacks (CONTRACT §5), so a callback is only a hint to look:
the work is done by our own GET (training.model_sync, generation.prompt_sync). Duplicates and
late ones are harmless, as the syncs are conditional.

A callback that comes while the database is down is answered 503 at once (`without_database`):
it is lost, since Astria does not retry, but beat's sweep asks Astria about every object whose
callback is overdue, so the work is only delayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger(__name__)

# How long Astria's side is told to wait; it does not retry, so this is only for other senders.
OUTAGE_RETRY_AFTER_SECONDS = 60

CallbackView = Callable[[HttpRequest, str, UUID], HttpResponse]


def callback_secret(kind: str, code: uuid.UUID) -> str:
    """The secret in an object's callback URL: derived from SECRET_KEY, never stored."""
    return salted_hmac(f"tunes.callback.{kind}", str(code)).hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def callback_url(kind: str, code: uuid.UUID) -> str:
    """The URL Astria calls when a tune (`kind` "tune") or a prompt is done. Its path holds the
    object's code, which is how a lookup recognises our prompt in Astria's lists."""
    path = reverse(f"tunes:{kind}_callback", args=[code])
    return f"{settings.PUBLIC_BASE_URL}{path}?secret={callback_secret(kind, code)}"


def _callback_body(request: HttpRequest, root: str) -> dict[str, Any] | None:
    """The object of a callback, wrapped in its root key or bare; None if it is not JSON."""
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(body, dict) and isinstance(body.get(root), dict):
        return body[root]
    return body if isinstance(body, dict) else None


def without_database(view: CallbackView) -> CallbackView:
    """Answer a callback 503, in plain text and at once, when the database cannot be reached.

    Django would answer its HTML 500 and log a traceback, with the URL's secret in the request
    it carries. Here the log gets one warning line (the kind, the code and the error's type:
    never the secret, the query or the server's address) and Astria a short answer. The hint is
    lost (Astria never retries), which only delays the work: the sweep polls every object
    whose callback is overdue (tunes/sweep.py, overdue_poll)."""

    @wraps(view)
    def wrapped(request: HttpRequest, kind: str, code: UUID) -> HttpResponse:
        try:
            return view(request, kind, code)
        except (OperationalError, InterfaceError) as exc:
            logger.warning(
                "Astria's %s callback for %s answered 503: the database is unreachable (%s); "
                "the sweep will poll it.",
                kind,
                code,
                type(exc).__name__,
            )
            response = HttpResponse(
                "The database is unavailable for a moment; this object will be polled.\n",
                status=503,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
            )
            # Django's request log would add an error line for the 503 (the path, with the
            # request attached): the warning above is the one line an outage leaves.
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response

    return wrapped


@without_database
def _callback(request: HttpRequest, kind: str, code: UUID) -> HttpResponse:
    """Shared by both callbacks: size cap, secret, ids; record, queue a sync, answer fast."""
    from .models import CallbackEvent, Prompt, TrainedModel
    from .tasks import model_sync, prompt_sync

    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > settings.CALLBACK_MAX_BYTES:
        return HttpResponse(status=413)
    model = TrainedModel if kind == "tune" else Prompt
    obj = model.objects.only("pk", "astria_id", "callback_secret_hash").filter(code=code).first()
    secret = request.GET.get("secret", "")
    if obj is None or not secret_matches(secret, obj.callback_secret_hash):
        return HttpResponse(status=404)
    body = _callback_body(request, kind)
    if body is None:
        return JsonResponse({"error": "The body is not a JSON object."}, status=400)
    if obj.astria_id is not None and str(body.get("id")) != str(obj.astria_id):
        return JsonResponse({"error": "The id does not match this callback."}, status=400)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The event is a record for staff: losing the last few to a database crash is
            # harmless (the poller asks Astria anyway), so this commit need not wait for the
            # disk. It is most of a callback's time otherwise (bench: callbacks).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        CallbackEvent.objects.create(
            kind=kind,
            model=obj if isinstance(obj, TrainedModel) else None,
            prompt=obj if isinstance(obj, Prompt) else None,
            astria_id=obj.astria_id,
        )
        task = model_sync if kind == "tune" else prompt_sync
        # robust: with the broker down Astria still gets its 200 (the poller asks later).
        transaction.on_commit(lambda: task.delay(obj.pk), robust=True)
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def tune_callback(request: HttpRequest, code: UUID) -> HttpResponse:
    return _callback(request, "tune", code)


@csrf_exempt
@require_POST
def prompt_callback(request: HttpRequest, code: UUID) -> HttpResponse:
    return _callback(request, "prompt", code)
