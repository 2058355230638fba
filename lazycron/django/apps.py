"""``"lazycron"`` in ``INSTALLED_APPS`` finds this app config."""

from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import setting_changed


class LazycronConfig(AppConfig):
    name = "lazycron"
    verbose_name = "lazycron"

    def ready(self) -> None:
        from . import checks, conf, discovery, runtime

        checks.register_checks()
        setting_changed.connect(_setting_changed, dispatch_uid="lazycron.setting_changed")
        discovery.autodiscover()
        # Settings read before ready() (by a check, or an import) must not stick.
        conf.clear_cache()
        runtime.reset()


def _setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"LAZYCRON", "TIME_ZONE"}:
        from . import conf, runtime

        conf.clear_cache()
        runtime.reset()
