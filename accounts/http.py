"""The request of a signed-in user, as the type checker sees it.

Django types `request.user` as the user or AnonymousUser. Behind `login_required`, and in
admin, only a signed-in user gets through; these say so, so mypy checks what views do with it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind `login_required` (django-stubs' pattern). Only an
    annotation: Django builds the same HttpRequest as ever."""

    user: User


def request_user(request: HttpRequest) -> User:
    """The signed-in user of an admin request. Admin's methods must keep Django's
    `HttpRequest`, but admin lets only signed-in staff reach them: anyone else is refused."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user
