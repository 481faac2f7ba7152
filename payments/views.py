"""Buying credits: the pricing page, the way to Stripe Checkout and back, and Stripe's webhook.
Views map the services' outcomes to HTTP; the services decide."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest

from . import checkout, fulfilment, webhooks
from .models import CreditPackage, Purchase

logger = logging.getLogger(__name__)

CHECKOUT_DOWN = "We could not reach our payment provider. Nothing was charged: please try again."


def _own_purchase(request: AuthenticatedHttpRequest, code: str) -> Purchase:
    """The signed-in user's purchase, or 404 (anyone else's too)."""
    return get_object_or_404(Purchase, code=code, user=request.user)


@login_required
def pricing(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The packages on sale; POST `package` starts paying for one at Stripe Checkout."""
    packages = CreditPackage.objects.on_sale()
    if request.method == "POST":
        chosen = request.POST.get("package", "")
        package = get_object_or_404(packages, pk=int(chosen) if chosen.isdigit() else 0)
        try:
            _, url = checkout.purchase_start(user=request.user, package=package)
        except checkout.PaymentsOff:
            return redirect("payments:pricing")
        except checkout.CheckoutUnavailable:
            messages.error(request, CHECKOUT_DOWN)
            return redirect("payments:pricing")
        return redirect(url)
    return render(
        request,
        "payments/pricing.html",
        {"packages": packages, "payments_enabled": settings.PAYMENTS_ENABLED},
    )


@login_required
def purchase_done(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Where Checkout sends the user back after paying. The redirect proves nothing: the
    session is read from Stripe, and only a paid one is fulfilled (the webhook may have been
    first; either way the credits are granted once)."""
    purchase = _own_purchase(request, code)
    if purchase.status == Purchase.Status.PENDING and purchase.checkout_session_id:
        try:
            state = checkout.session_state(session_id=purchase.checkout_session_id)
        except (checkout.CheckoutUnavailable, checkout.PaymentsOff):
            state = None  # the webhook will tell us
        if state is not None and state.paid:
            fulfilment.purchase_fulfil(
                session_id=state.id, payment_intent_id=state.payment_intent_id
            )
        purchase.refresh_from_db()
        request.user.refresh_from_db(fields=["credits"])
    return render(request, "payments/purchase_done.html", {"purchase": purchase})


@login_required
def purchase_status(request: AuthenticatedHttpRequest, code: str) -> JsonResponse:
    """The success page's live part: the purchase's state as the database has it (the
    webhook's doing), never asking Stripe, so polling costs Stripe nothing."""
    purchase = _own_purchase(request, code)
    html = render_to_string(
        "payments/_purchase_state.html", {"purchase": purchase, "user": request.user}, request
    )
    final = purchase.status != Purchase.Status.PENDING
    return JsonResponse({"status": purchase.status, "final": final, "html": html})


@login_required
def purchase_cancelled(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Where Checkout's back link leads: nothing was charged."""
    purchase = _own_purchase(request, code)
    if purchase.checkout_session_id:
        fulfilment.purchase_mark_cancelled(session_id=purchase.checkout_session_id)
    messages.info(request, "You cancelled the payment: nothing was charged.")
    return redirect("payments:pricing")


@csrf_exempt  # Stripe cannot send a CSRF token: its signature is the guard
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: 400 when not signed by Stripe (nothing written), 200 once handled,
    also for a repeat or a type we do not handle (so Stripe stops sending it)."""
    if not settings.PAYMENTS_ENABLED:
        return HttpResponse("Payments are off.", status=503, content_type="text/plain")
    try:
        event = webhooks.event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except webhooks.BadSignature:
        logger.warning("A Stripe webhook with a bad or stale signature was refused.")
        return HttpResponseBadRequest("Bad signature.", content_type="text/plain")
    outcome = webhooks.event_handle(event)
    logger.info("Stripe event %s (%s): %s", event.id, event.type, outcome.value)
    return HttpResponse("OK", content_type="text/plain")
