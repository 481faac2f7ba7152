from __future__ import annotations

from django.urls import path

from . import callbacks, views

app_name = "tunes"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("models/", views.models_list, name="models"),
    path("models/<uuid:code>/idea/", views.model_idea, name="model_idea"),
    path("photoshoots/new/", views.photoshoot_new, name="photoshoot_new"),
    path("photoshoots/start/", views.photoshoot_start, name="photoshoot_start"),
    path("photoshoots/<uuid:code>/", views.photoshoot_detail, name="photoshoot_detail"),
    path("photoshoots/<uuid:code>/status/", views.photoshoot_status, name="photoshoot_status"),
    path("photoshoots/<uuid:code>/photos.zip", views.photoshoot_zip, name="photoshoot_zip"),
    path(
        "photoshoots/<uuid:code>/photos/<uuid:photo_code>/",
        views.photo_detail,
        name="photo_detail",
    ),
    path(
        "photoshoots/<uuid:code>/photos/<uuid:photo_code>/like/",
        views.photo_like,
        name="photo_like",
    ),
    path(
        "photoshoots/<uuid:code>/photos/<uuid:photo_code>/more/",
        views.photo_more,
        name="photo_more",
    ),
    path(
        "photoshoots/<uuid:code>/photos/<uuid:photo_code>/download/",
        views.photo_download,
        name="photo_download",
    ),
    # The secret travels as ?secret=…: access logs (path only) and Django's warnings never
    # record it.
    path("callbacks/astria/tune/<uuid:code>/", callbacks.tune_callback, name="tune_callback"),
    path("callbacks/astria/prompt/<uuid:code>/", callbacks.prompt_callback, name="prompt_callback"),
]
