"""The portal's forms, and allauth's in the portal's words ("e-mail", "Log in", sentence case):
allauth says "Email", "Email address", "Remember Me", "Password (again)"."""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from django import forms

from .models import User

# allauth's field names, and the label each has on the portal's pages.
LABELS = {
    "login": "E-mail",
    "email": "E-mail",
    "password": "Password",
    "remember": "Keep me logged in",
    "oldpassword": "Current password",
    "password1": "Password",
    "password2": "Password again",
}
# Pages that set a new password say so.
NEW_PASSWORD_LABELS = {"password1": "New password", "password2": "New password again"}
EMAIL_FIELDS = ("login", "email")


def relabel(form: forms.Form, labels: dict[str, str]) -> None:
    """The portal's labels on `form`, and placeholders that do not repeat them: an example
    address on e-mail fields, none on passwords; no colon after a label."""
    form.label_suffix = ""
    for name, field in form.fields.items():
        if name in labels:
            field.label = labels[name]
        if name in EMAIL_FIELDS:
            field.widget.attrs["placeholder"] = "you@example.com"
        else:
            field.widget.attrs.pop("placeholder", None)


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, LABELS)


class SignupForm(allauth_forms.SignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, LABELS)


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, LABELS)


class ResetPasswordKeyForm(allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, LABELS | NEW_PASSWORD_LABELS)


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, LABELS | NEW_PASSWORD_LABELS)


class AddEmailForm(allauth_forms.AddEmailForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self, LABELS)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name"]
        labels = {"first_name": "First name", "last_name": "Last name"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # no colon after a label, as on allauth's pages
        super().__init__(*args, **kwargs)
