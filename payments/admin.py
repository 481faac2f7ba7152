"""Staff's view of what is sold and what was bought. Packages are edited here; purchases and
Stripe events are read-only records (Stripe and the webhook change them, never a form)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CreditPackage, Purchase, StripeEvent


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    list_display = ("name", "credits", "price_display", "currency", "is_active", "order")
    list_editable = ("is_active", "order")
    ordering = ("order", "price")


class ReadOnly:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "user", "credits", "amount_display", "status", "needs_staff")
    list_filter = ("status", "needs_staff")
    search_fields = ("user__email", "checkout_session_id", "payment_intent_id", "code")
    list_select_related = ("user",)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("received_at", "type", "event_id")
    list_filter = ("type",)
    search_fields = ("event_id",)
