from __future__ import annotations

from typing import Any

from django import forms

from .models import SelfieSet, SubjectClass


class SelfieSetForm(forms.ModelForm):
    class Meta:
        model = SelfieSet
        fields = ["name", "subject_class"]
        labels = {"name": "Name of the set", "subject_class": "Who is in the photos"}
        help_texts = {"name": "For you only, e.g. “Me, summer 2026”."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # no colon after a label, as on every form
        super().__init__(*args, **kwargs)
        who = self.fields["subject_class"]
        if isinstance(who, forms.ChoiceField):  # Django's "---------" said in words
            who.choices = [("", "Choose who…"), *SubjectClass.choices]


class SelfieSetRenameForm(forms.ModelForm):
    class Meta:
        model = SelfieSet
        fields = ["name"]


class UploadStartForm(forms.Form):
    """What the browser says of a file before sending it (checked again when it arrives)."""

    filename = forms.CharField(max_length=255)
    content_type = forms.CharField(max_length=100, required=False)
    size = forms.IntegerField(min_value=0)
