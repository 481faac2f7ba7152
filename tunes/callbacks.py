"""Astria's callbacks: the secret in each callback URL, and the two views that receive them.

Astria neither signs nor retries callbacks (CONTRACT §5), so a callback is only a hint to look:
the work is done by our own GET (training.model_sync, generation.prompt_sync). Duplicates and
late ones are harmless, as the syncs are conditional.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


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
