"""The Stripe sandbox's HTTP API (the subset of Stripe's the SDK calls), its hosted pay page
and its control knobs.

Every API view goes through `api_view`: Bearer check with the sandbox key (401 as Stripe's
authentication_error), `StripeError` → Stripe's error body, form-encoded params decoded as the
SDK sends them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from . import control, params, services
from .errors import StripeError, missing
from .models import SandboxCheckoutSession, SandboxDelivery
from .objects import list_json, payment_intent_json, refund_json, session_json

View = Callable[..., HttpResponse]
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 10, 100


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("stripe_sandbox:root")).rstrip("/")


def authorized(request: HttpRequest) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    known = settings.STRIPE_SANDBOX_KEY
    return scheme.lower() == "bearer" and hmac.compare_digest(key.encode(), known.encode())


def api_view(methods: set[str]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise StripeError(f"Unrecognized request URL ({request.method}).", status=404)
                if not authorized(request):
                    raise StripeError(
                        "Invalid API Key provided. The Stripe sandbox takes its own key "
                        "(STRIPE_SANDBOX_KEY).",
                        status=401,
                        type="authentication_error",
                    )
                return view(request, *args, **kwargs)
            except StripeError as refused:
                return JsonResponse(refused.body(), status=refused.status)

        return wrapper

    return decorate


def form_fields(request: HttpRequest) -> dict[str, Any]:
    return params.decode(request.POST)


def expand_of(request: HttpRequest) -> set[str]:
    """`expand[0]=latest_charge`, as the SDK sends `expand=["latest_charge"]`."""
    return {v for key in request.GET if key.startswith("expand") for v in request.GET.getlist(key)}


# --- Stripe's API -----------------------------------------------------------------------------


def root(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sandbox": "Stripe API emulator", "api_version": services.API_VERSION})


@api_view({"GET", "POST"})
def checkout_sessions(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return _session_list(request)
    fields = form_fields(request)
    session = services.session_create(
        data=params.session_create_parse(fields),
        digest=services.request_hash(fields),
        idempotency_key=request.headers.get("Idempotency-Key"),
        base_url=base_url(request),
    )
    return JsonResponse(session_json(session))


def _session_list(request: HttpRequest) -> JsonResponse:
    """Newest first; `limit` (1…100), `starting_after` (a session id), `created[gte]` and the
    other `created[...]` bounds (unix times)."""
    query = params.decode(request.GET)
    try:
        limit = int(query.get("limit", LIST_LIMIT_DEFAULT))
        created = {op: int(v) for op, v in (query.get("created") or {}).items()}
    except (ValueError, TypeError, AttributeError):
        raise StripeError("limit and created[...] must be integers.", param="limit") from None
    if not 1 <= limit <= LIST_LIMIT_MAX or not set(created) <= {"gt", "gte", "lt", "lte"}:
        raise StripeError("limit must be 1 to 100; created takes gt, gte, lt, lte.")
    sessions = SandboxCheckoutSession.objects.all()
    for op, value in created.items():
        sessions = sessions.filter(**{f"created_at__{op}": _datetime(value)})
    if after := query.get("starting_after"):
        cursor = services.session_get(str(after))
        sessions = sessions.filter(created_at__lte=cursor.created_at).exclude(
            created_at=cursor.created_at, id__gte=cursor.id
        )
    page = list(sessions.order_by("-created_at", "-id")[: limit + 1])
    return JsonResponse(
        list_json(
            [session_json(s) for s in page[:limit]],
            has_more=len(page) > limit,
            url="/v1/checkout/sessions",
        )
    )


def _datetime(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


@api_view({"GET"})
def checkout_session(request: HttpRequest, session_id: str) -> JsonResponse:
    return JsonResponse(session_json(services.session_get(session_id)))


@api_view({"POST"})
def checkout_session_expire(request: HttpRequest, session_id: str) -> JsonResponse:
    return JsonResponse(session_json(services.session_expire(session_id=session_id)))


@api_view({"GET"})
def payment_intent(request: HttpRequest, intent_id: str) -> JsonResponse:
    session = SandboxCheckoutSession.objects.filter(payment_intent=intent_id).first()
    if not intent_id or session is None:
        raise missing("payment_intent", intent_id)
    return JsonResponse(payment_intent_json(session, expand=expand_of(request)))


@api_view({"POST"})
def refunds(request: HttpRequest) -> JsonResponse:
    fields = form_fields(request)
    refund = services.refund_create(
        data=params.refund_create_parse(fields),
        digest=services.request_hash(fields),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return JsonResponse(refund_json(refund))


# --- The hosted pages -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """Stripe's hosted Checkout, reduced to its outcomes: Pay, Pay by bank debit (settles
    later), Decline (the card is refused, the page stays) and Cancel (back to cancel_url).
    Anyone with the link may pay, as on Stripe: the session id is the secret."""
    session = SandboxCheckoutSession.objects.filter(pk=session_id).first()
    if session is None:
        return render(request, "stripe_sandbox/pay.html", {"missing": True}, status=404)
    declined = False
    if request.method == "POST" and session.status == SandboxCheckoutSession.Status.OPEN:
        action = request.POST.get("action")
        if action in ("pay", "pay_later"):
            services.session_pay(session_id=session.id, delayed=action == "pay_later")
            return HttpResponseRedirect(services.redirect_url(session))
        if action == "cancel" and session.cancel_url:
            return HttpResponseRedirect(session.cancel_url)
        if action == "decline":
            services.session_decline(session_id=session.id)
            declined = True
    context = {"session": session, "declined": declined, "amount": session.amount_total / 100}
    return render(request, "stripe_sandbox/pay.html", context, status=402 if declined else 200)


def receipt(request: HttpRequest, charge_id: str) -> HttpResponse:
    session = SandboxCheckoutSession.objects.filter(charge=charge_id).exclude(charge="").first()
    if session is None:
        return render(request, "stripe_sandbox/receipt.html", {"missing": True}, status=404)
    context = {"session": session, "amount": session.amount_total / 100}
    return render(request, "stripe_sandbox/receipt.html", context)


# --- Control (tests and development) ----------------------------------------------------------


@api_view({"GET", "PUT", "DELETE"})
def control_config(request: HttpRequest) -> JsonResponse:
    """Read, replace (PUT a full config as JSON) or reset (DELETE) the webhook knobs."""
    if request.method == "PUT":
        try:
            config = control.StripeSandboxConfig.model_validate_json(request.body or b"{}")
        except ValidationError as exc:
            raise StripeError(f"Invalid sandbox config: {exc.errors()[0]['msg']}") from None
        control.config_set(config)
    elif request.method == "DELETE":
        control.config_set(control.StripeSandboxConfig())
    return JsonResponse(control.config_get().model_dump())


@api_view({"POST"})
def control_settle(request: HttpRequest, session_id: str) -> JsonResponse:
    """Settle a delayed payment: `succeeded=true` or `false` (form field)."""
    succeeded = request.POST.get("succeeded", "true").lower() == "true"
    session = services.session_settle(session_id=session_id, succeeded=succeeded)
    return JsonResponse(session_json(session))


@api_view({"GET"})
def control_deliveries(request: HttpRequest) -> JsonResponse:
    """Every webhook attempt, oldest first: event id, type and the status answered."""
    rows = SandboxDelivery.objects.select_related("event")
    return JsonResponse(
        [{"event": d.event_id, "type": d.event.type, "status": d.status} for d in rows],
        safe=False,
    )
