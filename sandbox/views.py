"""The sandbox's HTTP API: Astria's paths, encodings, statuses and object shapes (CONTRACT.md §8).

Every API view goes through `api_view`: Bearer check (401), injected faults, `Refused` → 422
`{"error": …}`, and a line in the request log (method and path: never a query string or a body).
Results are served by unguessable tokens without a key, as Astria's storage URLs are; the
training photos (copies of someone's selfies) never are.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from . import control, render, services
from .errors import Refused
from .hosts import files_origin
from .models import SandboxImage, SandboxPrompt, SandboxRequest, SandboxTune
from .objects import prompt_json, timestamp, tune_json
from .services import Upload

View = Callable[..., HttpResponse]
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, TUNES_OFFSET_MAX = 20, 120, 200


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def caller_of(request: HttpRequest) -> str | None:
    """The account of the request's Bearer key, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        return None
    matches = [hmac.compare_digest(key.encode(), known.encode()) for known in services.api_keys()]
    return services.account_of(key) if any(matches) else None


def api_path(request: HttpRequest) -> str:
    """The path below the sandbox's root, without Astria's optional `.json` suffix."""
    root = reverse("astria_sandbox:root").rstrip("/")
    return request.path.removeprefix(root).removesuffix(".json") or "/"


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("astria_sandbox:root")).rstrip("/")


def api_view(methods: set[str], *, control_view: bool = False) -> Callable[[View], View]:
    """Astria's API around `view(request, owner, …)`; a control view (the sandbox's own knobs)
    needs the main key and is neither faulted nor logged."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if control_view:
                return _control(view, methods, request, **kwargs)
            started = time.monotonic()
            path = api_path(request)
            response = _answer(view, methods, path, request, *args, **kwargs)
            SandboxRequest.objects.create(
                method=request.method or "",
                path=path,
                status=response.status_code,
                duration_ms=(time.monotonic() - started) * 1000,
            )
            return response

        return wrapper

    return decorate


def _answer(
    view: View, methods: set[str], path: str, request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponse:
    if request.method not in methods:
        return error(405, f"{request.method} is not allowed here")
    owner = caller_of(request)
    if owner is None:
        return error(401, "Unauthorized: send Authorization: Bearer <your API key>")
    fault = control.fault_take(request.method, path)
    if fault and fault.delay and not fault.after:
        time.sleep(fault.delay)
    if fault and fault.status in (429, 500):
        message = "Too many requests" if fault.status == 429 else "Internal server error"
        return error(fault.status, message)
    try:
        response = view(request, owner, *args, **kwargs)
    except Refused as refused:
        return error(refused.status, refused.message)
    except Http404:
        return error(404, "Not found")
    if fault and fault.delay and fault.after:
        time.sleep(fault.delay)  # saved already: the answer comes too late for the client
    if fault and fault.status == 504:
        # Astria's gateway gives up at 30 s, but the work goes on and is saved.
        return error(504, "Gateway Timeout")
    return response


def _control(view: View, methods: set[str], request: HttpRequest, **kwargs: Any) -> HttpResponse:
    if request.method not in methods:
        return error(405, f"{request.method} is not allowed here")
    owner = caller_of(request)
    if owner is None:
        return error(401, "Unauthorized: send Authorization: Bearer <your API key>")
    if owner != services.account_of(settings.ASTRIA_SANDBOX_KEY):
        return error(403, "Only the main sandbox key may change the sandbox")
    try:
        return view(request, owner, **kwargs)
    except Refused as refused:
        return error(refused.status, refused.message)


def request_fields(request: HttpRequest, root: str) -> dict[str, Any]:
    """The object under `root`, from JSON (`{"tune": {...}}`) or Rails-style form fields."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise Refused("the body is not valid JSON", status=400) from None
        fields = body.get(root) if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise Refused(f"param is missing or the value is empty: {root}")
        return fields
    return rails_fields(root, request.POST)


def rails_fields(root: str, form: Any) -> dict[str, Any]:
    """Decode Rails bracket keys: `tune[a]`, `tune[a][]`, `tune[a][b]`, `tune[a][][b]`."""
    fields: dict[str, Any] = {}
    for key in form:
        match = re.fullmatch(rf"{root}\[([^\]]+)\](.*)", key)
        if not match:
            continue
        name, rest = match.groups()
        values = form.getlist(key)
        if rest == "":
            fields[name] = values[-1]
        elif rest == "[]":
            fields[name] = values
        elif nested := re.fullmatch(r"\[([^\]]+)\]", rest):
            fields.setdefault(name, {})[nested.group(1)] = values[-1]
        elif listed := re.fullmatch(r"\[\]\[([^\]]+)\]", rest):
            items = fields.setdefault(name, [])
            for i, value in enumerate(values):
                while len(items) <= i:
                    items.append({})
                items[i][listed.group(1)] = value
    return fields


def page(request: HttpRequest, queryset: Any, *, offset_max: int | None = None) -> Any:
    """Astria's paging: newest first, `before_id`, `limit` (≤ 120), a shallow `offset`."""
    try:
        limit = min(int(request.GET.get("limit", LIST_LIMIT_DEFAULT)), LIST_LIMIT_MAX)
        offset = int(request.GET.get("offset", 0))
        before_id = int(request.GET.get("before_id") or 0)
    except ValueError:
        raise Refused("limit, offset and before_id must be numbers", status=400) from None
    if limit < 1 or offset < 0 or before_id < 0:
        raise Refused("limit must be at least 1, offset and before_id at least 0", status=400)
    if before_id:
        queryset = queryset.filter(pk__lt=before_id)
    if offset_max is not None and offset > offset_max:
        raise Refused(f"offset must be at most {offset_max}; page with before_id", status=400)
    return queryset.order_by("-id")[offset : offset + limit]


def visible_tune(owner: str, tune_id: int) -> SandboxTune:
    """One of the caller's tunes, or a public base tune; anyone else's is 404, and so is one
    that was deleted or has expired."""
    services.gallery_tune(int(tune_id))
    return get_object_or_404(
        SandboxTune.objects.unexpired().filter(Q(owner=owner) | Q(is_public=True)), pk=tune_id
    )


def own_prompt(owner: str, prompt_id: int, **filters: Any) -> SandboxPrompt:
    return get_object_or_404(SandboxPrompt, pk=prompt_id, owner=owner, **filters)


# --- Endpoints --------------------------------------------------------------------------------


def root(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sandbox": "Astria API emulator", "base_tune_id": 1504944})


@api_view({"GET", "POST"})
def tunes(request: HttpRequest, owner: str) -> JsonResponse:
    if request.method == "GET":
        items = page(
            request,
            SandboxTune.objects.unexpired().filter(owner=owner).prefetch_related("images"),
            offset_max=TUNES_OFFSET_MAX,
        )
        return JsonResponse([tune_json(t) for t in items], safe=False)
    uploads = [Upload(f.name or "", f.read()) for f in request.FILES.getlist("tune[images][]")]
    tune = services.tune_create(
        owner=owner,
        fields=request_fields(request, "tune"),
        files=uploads,
        base_url=base_url(request),
    )
    return JsonResponse(tune_json(tune), status=201)


@api_view({"GET", "DELETE"})
def tune(request: HttpRequest, owner: str, tune_id: int) -> JsonResponse:
    if request.method == "DELETE":
        services.tune_delete(owner=owner, tune_id=int(tune_id))
        return JsonResponse({"message": "Tune successfully deleted"})
    services.tune_catch_up(tune_id=int(tune_id))
    return JsonResponse(tune_json(visible_tune(owner, tune_id)))


@api_view({"GET", "POST"})
def tune_prompts(request: HttpRequest, owner: str, tune_id: int) -> JsonResponse:
    tune = visible_tune(owner, tune_id)
    if request.method == "GET":
        items = page(request, tune.prompts.filter(owner=owner).prefetch_related("images"))
        return JsonResponse([prompt_json(p) for p in items], safe=False)
    prompt = services.prompt_create(
        owner=owner,
        tune=tune,
        fields=request_fields(request, "prompt"),
        base_url=base_url(request),
    )
    return JsonResponse(prompt_json(prompt), status=201)


@api_view({"GET", "DELETE"})
def tune_prompt(request: HttpRequest, owner: str, tune_id: int, prompt_id: int) -> JsonResponse:
    if request.method == "DELETE":
        services.prompt_delete(owner=owner, prompt_id=int(prompt_id), tune_id=int(tune_id))
        return JsonResponse({"message": "Prompt successfully deleted"})
    return JsonResponse(prompt_json(own_prompt(owner, prompt_id, tune_id=tune_id)))


@api_view({"GET", "DELETE"})
def prompt(request: HttpRequest, owner: str, prompt_id: int) -> JsonResponse:
    if request.method == "DELETE":
        services.prompt_delete(owner=owner, prompt_id=int(prompt_id))
        return JsonResponse({"message": "Prompt successfully deleted"})
    return JsonResponse(prompt_json(own_prompt(owner, prompt_id)))


@api_view({"POST"})
def prompt_likes(request: HttpRequest, owner: str, prompt_id: int) -> JsonResponse:
    SandboxPrompt.objects.filter(pk=own_prompt(owner, prompt_id).pk).update(liked=True)
    return JsonResponse({"message": "Prompt liked"}, status=201)


@api_view({"POST"})
def images_inspect(request: HttpRequest, owner: str) -> JsonResponse:
    upload = request.FILES.get("file")
    name = request.POST.get("name", "")
    if upload is None or not name:
        raise Refused("send a `name` and an image `file`")
    try:
        return JsonResponse(render.image_inspect(upload.read(), name=name))
    except render.NotAnImage as refused:
        raise Refused(f"file {refused}") from None


def result_redirect(request: HttpRequest, token: str, filename: str) -> HttpResponseRedirect:
    """Astria's `rails/active_storage/…/redirect` links answer with a redirect to storage, on
    another host than the API's (see hosts.py)."""
    get_object_or_404(SandboxImage, token=token, prompt__isnull=False)
    origin = files_origin(request.build_absolute_uri("/"))
    return HttpResponseRedirect(origin + reverse("astria_sandbox:file", args=[token]))


def file(request: HttpRequest, token: str) -> HttpResponse:
    image = get_object_or_404(SandboxImage, token=token, prompt__isnull=False)
    response = HttpResponse(bytes(image.content), content_type=image.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- Control (tests and benchmarks) -----------------------------------------------------------


@api_view({"GET", "PUT", "DELETE"}, control_view=True)
def control_config(request: HttpRequest, owner: str) -> JsonResponse:
    """Read, replace (PUT a full config) or reset (DELETE) the timers and faults."""
    if request.method == "PUT":
        try:
            config = control.SandboxConfig.model_validate_json(request.body or b"{}")
        except ValidationError as exc:
            raise Refused(f"invalid sandbox config: {exc.errors()[0]['msg']}") from None
        control.config_set(config)
    elif request.method == "DELETE":
        control.config_set(control.SandboxConfig())
    return JsonResponse(control.config_get().model_dump())


@api_view({"GET", "DELETE"}, control_view=True)
def control_requests(request: HttpRequest, owner: str) -> JsonResponse:
    """The request log (`?after_id=` for what is new), or DELETE to empty it."""
    if request.method == "DELETE":
        SandboxRequest.objects.all().delete()
        return JsonResponse([], safe=False)
    after_id = request.GET.get("after_id", "0")
    if not after_id.isdecimal() or not after_id.isascii():
        raise Refused("after_id must be a number", status=400)
    rows = SandboxRequest.objects.filter(pk__gt=int(after_id))
    return JsonResponse(
        [
            {
                "id": r.pk,
                "kind": r.kind,
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "duration_ms": round(r.duration_ms, 1),
                "at": timestamp(r.created_at),
            }
            for r in rows
        ],
        safe=False,
    )


@api_view({"POST"}, control_view=True)
def control_tune_expire(request: HttpRequest, owner: str, tune_id: int) -> JsonResponse:
    """Expire a trained tune now (its training moves 31 days back), so that a test sees what
    Astria does 30 days after training without moving the clock."""
    return JsonResponse(tune_json(services.tune_expire(tune_id=tune_id)))
