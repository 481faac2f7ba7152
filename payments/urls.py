from __future__ import annotations

from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("credits/buy/", views.pricing, name="pricing"),
    path("credits/buy/<uuid:code>/done/", views.purchase_done, name="success"),
    path("credits/buy/<uuid:code>/status/", views.purchase_status, name="status"),
    path("credits/buy/<uuid:code>/cancelled/", views.purchase_cancelled, name="cancel"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
