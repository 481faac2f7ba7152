"""Filling in an admin change form the way a browser would: every field as it stands, so that a
test changes only what it means to."""

from __future__ import annotations

from typing import Any

from django import forms


def admin_form_data(response: Any) -> dict[str, Any]:
    """The POST data of an admin add or change page: main form, inline formsets and their
    management forms. Unchecked boxes and untouched files are left out, as a browser does."""
    data: dict[str, Any] = {}
    all_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        all_forms.append(inline.formset.management_form)
        all_forms.extend(inline.formset.forms)
    for form in all_forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False or isinstance(field, forms.FileField):
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data
