from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "packs"

urlpatterns = [
    path("packs/", views.pack_list, name="pack_list"),
    path("packs/<slug:slug>/", views.pack_detail, name="pack_detail"),
    re_path(
        r"^packs/(?P<slug>[-\w]+)/images/(?P<image>cover|\d+)/$", views.pack_image, name="image"
    ),
]
