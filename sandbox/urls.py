"""Astria's paths, each also with the `.json` suffix Astria accepts."""

from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "astria_sandbox"

J = r"(?:\.json)?"

urlpatterns = [
    path("", views.root, name="root"),
    re_path(rf"^tunes{J}$", views.tunes, name="tunes"),
    re_path(rf"^tunes/(?P<tune_id>\d+){J}$", views.tune, name="tune"),
    re_path(rf"^tunes/(?P<tune_id>\d+)/prompts{J}$", views.tune_prompts, name="tune_prompts"),
    re_path(
        rf"^tunes/(?P<tune_id>\d+)/prompts/(?P<prompt_id>\d+){J}$",
        views.tune_prompt,
        name="tune_prompt",
    ),
    re_path(rf"^prompts/(?P<prompt_id>\d+){J}$", views.prompt, name="prompt"),
    re_path(rf"^prompts/(?P<prompt_id>\d+)/likes{J}$", views.prompt_likes, name="prompt_likes"),
    re_path(rf"^images/inspect{J}$", views.images_inspect, name="images_inspect"),
    path(
        "rails/active_storage/blobs/redirect/<str:token>/<str:filename>",
        views.result_redirect,
        name="result_redirect",
    ),
    re_path(r"^files/(?P<token>[\w-]+)\.jpg$", views.file, name="file"),
    path("_sandbox/config", views.control_config, name="control_config"),
    path("_sandbox/requests", views.control_requests, name="control_requests"),
    path(
        "_sandbox/tunes/<int:tune_id>/expire",
        views.control_tune_expire,
        name="control_tune_expire",
    ),
]
