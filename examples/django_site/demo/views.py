from django.http import HttpRequest, HttpResponse


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello from the lazycron example site.\n", content_type="text/plain")


async def hello_async(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, asynchronously.\n", content_type="text/plain")
