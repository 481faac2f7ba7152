"""Uploading through the portal the way the page's JavaScript does: start, send, finish."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.storage import storages

from uploads.models import SelfieSet


@pytest.fixture
def selfie_set(owner) -> SelfieSet:
    return SelfieSet.objects.create(owner=owner, name="Me, summer", subject_class="woman")


@dataclass
class Uploaded:
    start: Any  # the start response
    key: str | None  # the storage key the portal issued
    finish: Any  # the finish response (None when the start was refused)


def upload_start(client, selfie_set, name: str, content: bytes, content_type: str):
    return client.post(
        f"/sets/{selfie_set.code}/uploads/",
        {"filename": name, "content_type": content_type, "size": len(content)},
        content_type="application/json",
    )


def upload(client, selfie_set, name: str, content: bytes, content_type: str = "image/jpeg"):
    """Start, send the bytes to the (local) target, finish; as the browser does."""
    start = upload_start(client, selfie_set, name, content, content_type)
    if start.status_code != 201:
        return Uploaded(start, None, None)
    target = start.json()
    sent = client.post(target["url"], {**target["fields"], "file": _file(name, content)})
    assert sent.status_code == 204, sent.content
    finish = client.post(target["finish_url"])
    return Uploaded(start, target["fields"]["key"], finish)


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def stored(name: str) -> bool:
    return bool(name) and storages["default"].exists(name)
