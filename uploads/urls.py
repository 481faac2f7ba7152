from __future__ import annotations

from django.urls import path

from . import views

app_name = "uploads"

urlpatterns = [
    path("sets/", views.set_list, name="set_list"),
    path("sets/new/", views.set_create, name="set_create"),
    path("sets/<uuid:code>/", views.set_detail, name="set_detail"),
    path("sets/<uuid:code>/rename/", views.set_rename, name="set_rename"),
    path("sets/<uuid:code>/delete/", views.set_delete, name="set_delete"),
    path("sets/<uuid:code>/uploads/", views.upload_start, name="upload_start"),
    path(
        "sets/<uuid:code>/uploads/<uuid:upload_code>/finish/",
        views.upload_finish,
        name="upload_finish",
    ),
    path(
        "sets/<uuid:code>/photos/<uuid:photo_code>/delete/",
        views.photo_delete,
        name="photo_delete",
    ),
    path("uploads/direct/", views.direct_upload, name="direct_upload"),
    # Signed URLs of local storage; the token is the query's `t`, so no log records it.
    path("private/", views.private_file, name="private_file"),
    path("fetch/", views.fetch_file, name="fetch_file"),
]
