"""gunicorn settings for a site wrapped in lazycron's WSGI middleware.

    gunicorn -c gunicorn.conf.py myproject.wsgi:application

where myproject/wsgi.py ends with::

    from lazycron.wsgi import LazyCronMiddleware
    application = LazyCronMiddleware(
        application, state_dir="/var/lib/mysite/lazycron", check_interval=30
    )

Every value can also be given on the command line, which wins over this file (the
integration tests pass --bind, --workers, --pid and the variant flags that way). Nothing here
is lazycron-specific: any worker class and worker count works, because each job has its own
lock in LAZYCRON_STATE_DIR, shared by all workers of the site.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "sync"  # "gthread" with threads = 4 works too
timeout = 30
graceful_timeout = 30
# Recycling workers (max_requests = 1000, max_requests_jitter = 100) is fine: a job thread
# that dies with its worker is recorded as interrupted by the next check.
max_requests = 0
# preload_app = True is fine too: lazycron creates its locks lazily, after the fork.
preload_app = False
accesslog = None
errorlog = "-"
