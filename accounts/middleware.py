"""Two-factor authentication before admin, for staff, where STAFF_REQUIRE_MFA is on."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


class StaffMfaRequired:
    """A staff member without an authenticator app is sent to set one up instead of admin.

    Once a staff member has an app, a stolen password opens nothing: admin needs the code too.
    Setting one up is trust on first use (whoever has the password first can), so give staff
    status only to accounts that show two-factor in admin's user list. Customers choose for
    themselves (profile → two-factor authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up(request):
            messages.info(request, "Staff need two-factor authentication: set it up to open admin.")
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request: HttpRequest) -> bool:
        # The path first: the user is read from the database, and no other page (Astria's
        # callbacks during a database outage above all) should depend on that.
        if not (settings.STAFF_REQUIRE_MFA and request.path.startswith(reverse("admin:index"))):
            return False
        user = request.user
        return user.is_authenticated and user.is_staff and not is_mfa_enabled(user)
