"""Staff's view of users: found by e-mail (there is no username), with their credit balance
and ledger; credits are granted or taken back only through the ledger service.

Roles are a superuser's alone. Anyone else who may change users sees who is staff, superuser,
in which groups and with which permissions, and the e-mail address (the key to a password
reset), but cannot change them; nor can they change, delete or set the password of another
staff account; and groups are read-only to them. Granting credits is a permission of its own
(`accounts.grant_credits`), given to the Support group (tunes/roles.py)."""

from __future__ import annotations

from typing import Any

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from .credits import InsufficientCredits, credits_grant
from .http import request_user
from .models import EMAIL_TAKEN, CreditEntry, OutboxEmail, User
from .services import outbox_resend


class EmailTakenCheck:
    """Says under the e-mail field that an address is taken, in any mix of capitals: the
    database's case-blind constraint, checked by the model alone, would say it at the top of
    the form (and a second time, beside the field's own check, for the same spelling).
    A mixin for the user forms below, before their Django base."""

    cleaned_data: dict[str, Any]
    instance: User

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        others = User.objects.exclude(pk=self.instance.pk).filter(email__iexact=email)
        if others.exists():
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email


class UserCreationForm(EmailTakenCheck, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserEditForm(EmailTakenCheck, UserChangeForm):
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
        max_length=200,
        help_text="The user sees this in their credit history, e.g. “Sorry for the wait”.",
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
    fields = ("created_at", "kind", "amount", "reason", "created_by")
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
        "two_factor",
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        apps = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
        return super().get_queryset(request).annotate(has_totp=Exists(apps))

    @admin.display(description="two-factor", boolean=True, ordering="has_totp")
    def two_factor(self, user: User) -> bool:
        return bool(getattr(user, "has_totp", False))

    # What only a superuser may change: roles, and the address a password reset goes to.
    SUPERUSER_FIELDS = ("email", "is_staff", "is_superuser", "groups", "user_permissions")

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type]:
        return self.inlines if obj else []  # a user being added has no ledger yet

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields += self.SUPERUSER_FIELDS
        return fields

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    @staticmethod
    def _may_touch(request: HttpRequest, obj: User | None) -> bool:
        """Staff accounts are changed by superusers only (a role, a password, a deletion)."""
        return obj is None or request.user.is_superuser or not (obj.is_staff or obj.is_superuser)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Setting someone's password is taking over their account: superusers only."""
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

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
            self.has_view_permission(request, user)
            and request.user.has_perm("accounts.grant_credits")
            # Credits for staff (oneself included) are a superuser's to give.
            and self._may_touch(request, user)
        ):
            raise PermissionDenied
        form = CreditsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            try:
                credits_grant(
                    user=user, amount=amount, reason=reason, created_by=request_user(request)
                )
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


class SuperusersChangeOnly:
    """Model admins whose rows only superusers add, change or delete (others may only look)."""

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser


admin.site.unregister(Group)
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(Group)
class RoleGroupAdmin(SuperusersChangeOnly, GroupAdmin):
    """Groups are roles: a staff member who could change one could give themselves anything."""


@admin.register(EmailAddress)
class LoginAddressAdmin(SuperusersChangeOnly, EmailAddressAdmin):
    """An e-mail address is where a password reset goes: changing one takes the account."""


@admin.register(Authenticator)
class TwoFactorAdmin(SuperusersChangeOnly, AuthenticatorAdmin):
    """Removing someone's authenticator app would take their second factor away."""


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    """The outbox: what left, what waits and what failed, and sending a failed one again.
    Never the body, which may hold someone's sign-in or reset link."""

    list_display = ["subject", "recipients", "status", "attempts", "last_error", "created_at"]
    list_filter = ["status"]
    fields = ("subject", "recipients", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields
    actions = ["send_again"]

    @admin.display(description="to")
    def recipients(self, email: OutboxEmail) -> str:
        return ", ".join(email.to)

    # Written by the product, pruned by beat: the record of what was sent stays whole.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Send again now", permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxEmail]) -> None:
        sent = 0
        for email in queryset:
            if outbox_resend(email_id=email.pk):
                self.log_change(request, email, "Queued to be sent again")
                sent += 1
        self.message_user(request, f"{sent} of {queryset.count()} queued to be sent again.")
