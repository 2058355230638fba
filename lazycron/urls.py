"""The trigger and health URLs for Django: ``path("lazycron/", include("lazycron.urls"))``
serves ``POST lazycron/tick`` and ``GET lazycron/health`` (see docs/django.md)."""

from __future__ import annotations

from django.urls import path

from .django import views

app_name = "lazycron"
urlpatterns = [
    path("tick", views.tick, name="tick"),
    path("health", views.health, name="health"),
]
