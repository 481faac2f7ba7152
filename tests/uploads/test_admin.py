"""Staff's view of selfie sets: thumbnails and hints; deleting a set removes its files."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages

from tests.tunes.conftest import ready_selfie_set
from uploads.models import Selfie, SelfieSet

pytestmark = pytest.mark.django_db


def test_staff_see_a_sets_photos_and_their_hints(client, staff, owner):
    selfie_set = ready_selfie_set(owner)
    Selfie.objects.filter(selfie_set=selfie_set).update(hints=["blurry"])
    client.force_login(staff)
    listing = client.get("/admin/uploads/selfieset/", {"q": "owner@example.com"})
    assert list(listing.context["cl"].result_list) == [selfie_set]
    assert listing.context["cl"].result_list[0].photos == 4
    page = client.get(f"/admin/uploads/selfieset/{selfie_set.pk}/change/").content.decode()
    assert page.count("/private/?t=") == 4
    assert page.count("Looks blurry: choose a photo where your face is in focus.") == 4


def test_deleting_a_set_in_admin_removes_its_files(
    client, staff, owner, django_capture_on_commit_callbacks
):
    selfie_set = ready_selfie_set(owner)
    names = [n for s in selfie_set.selfies.all() for n in (s.image, s.thumbnail)]
    assert all(storages["default"].exists(n) for n in names)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/uploads/selfieset/{selfie_set.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SelfieSet.objects.exists()
    assert not any(storages["default"].exists(n) for n in names)
