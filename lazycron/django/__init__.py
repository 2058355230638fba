"""The Django adapter: settings, autodiscovery of ``cron.py``, system checks, the
process-wide scheduler, the app config, the middleware and the management command.
:mod:`lazycron.apps`, :mod:`lazycron.middleware` and ``lazycron/management/`` are the
thin modules Django looks for by name; they re-export from here. ``import lazycron``
never imports Django.
"""
