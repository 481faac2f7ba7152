"""The pages every visitor and every user sees: home, profile and credit history (the
dashboard is tunes')."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm
from .http import AuthenticatedHttpRequest
from .models import CreditEntry

HISTORY_PAGE_SIZE = 50
# What each kind of entry means to the person whose credits they are.
HISTORY_WORDS = {
    CreditEntry.Kind.GRANT: "Added",
    CreditEntry.Kind.DEBIT: "Spent",
    CreditEntry.Kind.REFUND: "Refunded",
}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's refusal of a form without a valid CSRF token (left open too long, cookies off),
    in the portal's layout and plain words. Django's own view renders 403_csrf.html without
    the request, so the header would show a signed-in user as signed out."""
    return render(request, "403_csrf.html", status=403)


def home(request: HttpRequest) -> HttpResponse:
    """What the product does, and the way to sign up; a signed-in user goes to the dashboard."""
    if request.user.is_authenticated:
        return redirect("tunes:dashboard")
    return render(request, "pages/home.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own profile: there is no URL for anybody else's."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile has been saved.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def credit_history(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every change of the user's balance, newest first: gifts and purchases (grants), what
    photoshoots cost (debits) and what failed scenes gave back (refunds), each with its reason.
    Who granted credits stays in admin."""
    # The causes come along: a purchase shows its price and receipt.
    entries = request.user.credit_entries.prefetch_related("cause")
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        # A real minus sign: "−9" reads as a number taken, "-9" as a hyphen.
        (entry, HISTORY_WORDS[CreditEntry.Kind(entry.kind)], f"{entry.amount:+d}".replace("-", "−"))
        for entry in page
    ]
    return render(request, "accounts/credit_history.html", {"page": page, "rows": rows})
