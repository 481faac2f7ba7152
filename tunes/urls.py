from __future__ import annotations

from django.urls import path

from . import views

app_name = "tunes"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("tunes/new/", views.tune_new, name="tune_new"),
    path("tunes/start/", views.tune_start, name="tune_start"),
    path("tunes/<uuid:code>/", views.tune_detail, name="tune_detail"),
    path("tunes/<uuid:code>/status/", views.tune_status, name="tune_status"),
    path("tunes/<uuid:code>/photos.zip", views.tune_zip, name="tune_zip"),
    path("tunes/<uuid:code>/photos/<uuid:photo_code>/", views.photo_detail, name="photo_detail"),
    path("tunes/<uuid:code>/photos/<uuid:photo_code>/like/", views.photo_like, name="photo_like"),
    path(
        "tunes/<uuid:code>/photos/<uuid:photo_code>/download/",
        views.photo_download,
        name="photo_download",
    ),
    # The secret travels as ?secret=…: access logs (path only) and Django's warnings never
    # record it.
    path("callbacks/astria/tune/<uuid:code>/", views.tune_callback, name="tune_callback"),
    path("callbacks/astria/prompt/<uuid:code>/", views.prompt_callback, name="prompt_callback"),
]
