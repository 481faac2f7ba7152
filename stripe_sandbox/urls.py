"""Stripe's API paths the SDK calls (below `stripe.api_base`), the hosted pages and the knobs."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "stripe_sandbox"

urlpatterns = [
    path("", views.root, name="root"),
    path("v1/checkout/sessions", views.checkout_sessions, name="checkout_sessions"),
    path("v1/checkout/sessions/<str:session_id>", views.checkout_session, name="checkout_session"),
    path(
        "v1/checkout/sessions/<str:session_id>/expire",
        views.checkout_session_expire,
        name="checkout_session_expire",
    ),
    path("v1/payment_intents/<str:intent_id>", views.payment_intent, name="payment_intent"),
    path("v1/refunds", views.refunds, name="refunds"),
    path("c/pay/<str:session_id>", views.pay_page, name="pay"),
    path("receipts/<str:charge_id>", views.receipt, name="receipt"),
    path("_sandbox/config", views.control_config, name="control_config"),
    path("_sandbox/deliveries", views.control_deliveries, name="control_deliveries"),
    path(
        "_sandbox/checkout/sessions/<str:session_id>/settle",
        views.control_settle,
        name="control_settle",
    ),
]
