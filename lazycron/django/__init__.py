"""The Django adapter: settings, autodiscovery of ``cron.py``, system checks and the
process-wide scheduler. Only :mod:`lazycron.apps`, :mod:`lazycron.middleware` and the
management command import it; ``import lazycron`` never imports Django.
"""
