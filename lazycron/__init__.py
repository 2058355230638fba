"""lazycron: scheduled jobs for any web application, with no extra daemon.

Declare jobs with :func:`job`, wrap your app in :class:`lazycron.wsgi.LazyCronMiddleware`
or :class:`lazycron.asgi.LazyCronMiddleware` (or add ``lazycron.middleware`` under
Django), and due jobs run after responses, on a short-lived thread, exactly once per
tick across all processes that share a state directory.
"""

from .errors import ConfigurationError, JobDefinitionError, LazyCronError
from .jobs import Job, Registry, default_registry, job
from .runner import current_run
from .scheduler import JobStatus, Scheduler
from .schedules import next_ticks

__all__ = [
    "ConfigurationError",
    "Job",
    "JobDefinitionError",
    "JobStatus",
    "LazyCronError",
    "Registry",
    "Scheduler",
    "__version__",
    "current_run",
    "default_registry",
    "job",
    "next_ticks",
]

# The one place the version is written: pyproject.toml reads it from here
# ([tool.setuptools.dynamic]), and CHANGELOG.md names each release.
__version__ = "0.1.0"
