from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def sync_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sync")


async def async_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async")


urlpatterns = [
    path("sync/", sync_view),
    path("async/", async_view),
    path("lazycron/", include("lazycron.urls")),
    path("admin/", admin.site.urls),
]
