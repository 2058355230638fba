"""Runs one documentation block in this fresh interpreter (see tests/docs_blocks.py).

``python -m tests.docs_runner MODE BLOCK_FILE WORKDIR``; exits non-zero with the error.
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path
from typing import Any


def run_script(source: str, workdir: Path) -> None:
    # As if the block were app.py in the working directory.
    namespace: dict[str, Any] = {"__name__": "doc_block", "__file__": str(workdir / "app.py")}
    exec(compile(source, "<doc block>", "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            wanted = inspect.signature(value).parameters
            tmp_path = workdir / name
            tmp_path.mkdir()
            value(**({"tmp_path": tmp_path} if "tmp_path" in wanted else {}))


def load_settings(source: str, workdir: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {"BASE_DIR": workdir}
    exec(compile(source, "<doc block>", "exec"), namespace)
    return {
        key: [item for item in value if item is not ...] if isinstance(value, list) else value
        for key, value in namespace.items()
        if key.isupper()
    }


def django_project(workdir: Path, **settings: Any) -> None:
    import django
    from django.conf import settings as django_settings

    defaults: dict[str, Any] = {
        "SECRET_KEY": "doc-tests",
        "DATABASES": {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": workdir / "db.sqlite3"}
        },
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LAZYCRON": {"STATE_DIR": workdir / "state"},
    }
    apps = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
    installed = [*apps, *[a for a in settings.pop("INSTALLED_APPS", []) if a not in apps]]
    if "lazycron" not in installed:
        installed.append("lazycron")
    django_settings.configure(**{**defaults, **settings, "INSTALLED_APPS": installed})
    django.setup()


def check_settings(source: str, workdir: Path) -> None:
    from django.core.management import call_command

    settings = load_settings(source, workdir)
    assert "lazycron" in settings.get("INSTALLED_APPS", []), "INSTALLED_APPS lacks lazycron"
    django_project(workdir, **settings)
    from django.utils.module_loading import import_string

    for path in settings.get("MIDDLEWARE", []):
        import_string(path)
    call_command("check", fail_level="WARNING")


def run_cron_module(source: str, workdir: Path) -> None:
    from django.core.management import call_command

    app = workdir / "docapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text("")
    (app / "cron.py").write_text(source)
    sys.path.insert(0, str(workdir))
    django_project(workdir, INSTALLED_APPS=["docapp"])
    import lazycron

    names = [job.name for job in lazycron.default_registry]
    assert names, "the cron.py declared no job"
    call_command("migrate", verbosity=0)
    for name in names:
        call_command("lazycron", "run", name)


MODES = {
    "run": run_script,
    "settings": check_settings,
    "django-cron": run_cron_module,
}


def main() -> None:
    mode, block_file, workdir = sys.argv[1:]
    os.chdir(workdir)
    MODES[mode](Path(block_file).read_text(), Path(workdir))


if __name__ == "__main__":
    main()
