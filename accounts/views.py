"""The pages every visitor and every user sees: home and profile (the dashboard is tunes')."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm


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
