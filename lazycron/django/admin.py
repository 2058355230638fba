"""The admin's "Scheduled jobs": the job list, a page per job with its history, and the
actions run now, pause and resume.

:class:`~lazycron.django.models.ScheduledJob` has no table: these views read the jobs and
their state from the scheduler, and the model only lends its admin entry and its
permissions (view: the pages; change: the actions). Actions are POSTs, CSRF-protected
like every admin form. "Run now" starts the run on a thread of its own (the request
never waits for a job); pause and resume are the CLI's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from .._control import set_paused
from .._reporting import JobStatus
from .._threads import start_thread
from ..jobs import Job
from ..state import Run
from . import runtime
from .models import ScheduledJob

__all__ = ["ScheduledJobAdmin"]


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", wrap(self.changelist_view), name=f"{name}_changelist"),
            path("<path:job>/do/<str:action>/", wrap(self.action_view), name=f"{name}_action"),
            path("<path:job>/", wrap(self.job_view), name=f"{name}_change"),
        ]

    # -- pages ------------------------------------------------------------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._require(request, change=False)
        scheduler = runtime.get_scheduler()
        now = scheduler.clock.time()
        rows = [_row(status, now) for status in scheduler.status()]
        return self._render(request, "change_list.html", "Scheduled jobs", rows=rows)

    def job_view(self, request: HttpRequest, job: str) -> HttpResponse:
        self._require(request, change=False)
        scheduler = runtime.get_scheduler()
        found = _job(job)
        (status,) = scheduler.status([found.name])
        history = [_run(run) for run in reversed(status.state.history)] if status.state else []
        return self._render(
            request,
            "job.html",
            found.name,
            row=_row(status, scheduler.clock.time()),
            history=history,
        )

    def _render(
        self, request: HttpRequest, template: str, title: str, **context: Any
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            f"admin/lazycron/scheduledjob/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "can_change": self.has_change_permission(request),
                "run_pause": [("run", "Run now"), ("pause", "Pause")],
                "run_resume": [("run", "Run now"), ("resume", "Resume")],
                **context,
            },
        )

    # -- actions ----------------------------------------------------------------------------

    def action_view(self, request: HttpRequest, job: str, action: str) -> HttpResponse:
        return _post_only(self._act)(request, job, action)

    def _act(self, request: HttpRequest, job: str, action: str) -> HttpResponse:
        self._require(request, change=True)
        found = _job(job)
        scheduler = runtime.get_scheduler()
        if action == "run":

            def run() -> None:
                scheduler.run_now(found.name)

            start_thread(run, f"lazycron-admin:{found.name}")
            messages.success(request, f"{found.name}: started; reload to see the run.")
        elif action in {"pause", "resume"}:
            by = f"{request.user.get_username()} (admin)"
            result = set_paused(scheduler.runner, found, pause=action == "pause", by=by, wait=0)
            if result.state is None:
                messages.error(request, f"{found.name} is running; try again when it ends.")
            else:
                messages.success(request, f"{found.name}: {action}d.")
        else:
            raise Http404(f"no action {action!r}")
        back = request.POST.get("next") or reverse("admin:lazycron_scheduledjob_changelist")
        return HttpResponseRedirect(
            back if back.startswith("/") and not back.startswith("//") else "/"
        )

    def _require(self, request: HttpRequest, *, change: bool) -> None:
        allowed = (
            self.has_change_permission(request)
            if change
            else self.has_view_or_change_permission(request)
        )
        if not allowed:
            raise PermissionDenied


_post_only = require_POST


def _job(name: str) -> Job:
    try:
        return runtime.get_scheduler().registry.get(name)
    except KeyError:
        raise Http404(f"no job named {name!r}") from None


def _row(status: JobStatus, now: float) -> dict[str, Any]:
    state = status.state
    last = state.last_run if state else None
    return {
        "name": status.job.name,
        "schedule": status.job.schedule.describe(),
        "next_tick": _when(status.next_tick),
        "overdue": status.next_tick is not None and status.next_tick < now and not status.running,
        "last": _run(last) if last else None,
        "running": _run(status.running) if status.running else None,
        "overrunning": status.overrunning,
        "paused": state.paused if state else None,
        "paused_since": _when(state.paused.since) if state and state.paused else "",
    }


def _run(run: Run) -> dict[str, Any]:
    return {
        "tick": _when(run.tick),
        "trigger": run.trigger,
        "started": _when(run.started),
        "outcome": run.outcome,
        "reason": run.reason or "",
        "duration": "" if run.duration is None else f"{run.duration:.3f}s",
        "lateness": "" if run.trigger == "manual" else f"{run.lateness:.3f}s",
        "error": run.error or "",
        "where": f"{run.host} pid {run.pid}",
    }


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
