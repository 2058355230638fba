from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"hello from two hosts\n", content_type="text/plain")


def no_length(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter([b"hello from two hosts\n"]), content_type="text/plain")


urlpatterns = [path("", hello), path("nocl", no_length), path("ready", hello)]
