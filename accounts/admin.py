"""Staff's view of users: found by e-mail (there is no username), with their credit balance
and ledger; credits are granted or taken back only through the ledger service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from .credits import InsufficientCredits, credits_grant
from .models import CreditEntry, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class CreditsForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-100_000,
        max_value=100_000,
        help_text="Credits to give; a negative number takes credits back (never below zero).",
    )
    reason = forms.CharField(
        max_length=200, help_text="The user sees this in their ledger, e.g. “Sorry for the wait”."
    )

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Enter a number of credits other than 0.")
        return amount


class ReadOnlyInline(admin.TabularInline):
    """Rows that services write and admin only shows (the ledger here; selfies, scenes,
    photos and callbacks in the apps that build on accounts)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CreditEntryInline(ReadOnlyInline):
    """The ledger, newest first; entries are written by the credit services."""

    model = CreditEntry
    fk_name = "user"
    fields = ["created_at", "kind", "amount", "reason", "created_by"]
    readonly_fields = fields
    verbose_name_plural = "credit ledger"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditEntry]:
        return super().get_queryset(request).select_related("created_by")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = [
        "email",
        "first_name",
        "last_name",
        "credits",
        "is_active",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined", "credits"]
    inlines = [CreditEntryInline]
    fieldsets = [
        (None, {"fields": ["email", "password", "credits"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type]:
        return self.inlines if obj else []  # a user being added has no ledger yet

    def get_urls(self) -> list[URLPattern]:
        credits = path(
            "<path:object_id>/credits/",
            self.admin_site.admin_view(self.credits_view),
            name="accounts_user_credits",
        )
        return [credits, *super().get_urls()]

    def credits_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Grant or take back credits with a reason: one ledger entry, signed by the staff
        member, and a line in the admin log."""
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        if not (
            self.has_change_permission(request, user)
            and request.user.has_perm("accounts.add_creditentry")
        ):
            raise PermissionDenied
        form = CreditsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            try:
                credits_grant(user=user, amount=amount, reason=reason, created_by=request.user)
            except InsufficientCredits as exc:
                form.add_error(
                    "amount", f"{user.email} has {exc.balance} credits: take at most that many."
                )
            else:
                self.log_change(request, user, f"Credits {amount:+d}: {reason}")
                messages.success(request, f"{amount:+d} credits for {user.email}.")
                return redirect("admin:accounts_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": user,
            "form": form,
            "title": f"Grant or take credits: {user.email}",
        }
        return TemplateResponse(request, "admin/accounts/user/credits.html", context)
