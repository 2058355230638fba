from django.http import HttpRequest, HttpResponse

from .models import Snapshot


def snapshots(request: HttpRequest) -> HttpResponse:
    rows = [f"{s.taken_at.isoformat()}  pid {s.pid}" for s in Snapshot.objects.all()[:20]]
    return HttpResponse("\n".join(rows) + "\n", content_type="text/plain")
