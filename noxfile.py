"""The Django matrix: tests/django against each supported (Python, Django) pair.

    nox --list                          # the legs
    nox                                 # the legs tagged "matrix": what .ci/run runs
    nox --session "django(dj42-py311)"  # one leg

`make test` is the main run (the whole suite, Django 5.2 on Python 3.11, with coverage);
these legs run the Django tests on the other supported pairs, each in its own venv under
.nox/. nox finds each interpreter as ``python3.X`` on PATH; a leg whose Python is missing
fails rather than skips. Add a leg here, and in the classifiers of pyproject.toml.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"  # installs still run each time; pip skips what is there
nox.options.error_on_missing_interpreters = True
nox.options.tags = ["matrix"]  # plain `nox` runs what CI runs

PYPROJECT = nox.project.load_toml("pyproject.toml")

LEGS = [
    nox.param("3.11", "Django>=4.2,<4.3", id="dj42-py311", tags=["matrix"]),
    nox.param("3.11", "Django>=5.2,<5.3", id="dj52-py311"),  # the main run: `make test`
    nox.param("3.12", "Django>=6,<7", id="dj6-py312", tags=["matrix"]),
    nox.param("3.13", "Django>=6,<7", id="dj6-py313", tags=["matrix"]),
]


@nox.session
@nox.parametrize(["python", "django"], LEGS)
def django(session: nox.Session, django: str) -> None:
    """tests/django on one Python and one Django release."""
    test_group = nox.project.dependency_groups(PYPROJECT, "test")
    if django.startswith("Django>=4.2,"):
        # django-tasks-db (the database task backend) needs Django 5.2 or later; its
        # tests skip without it. The django-tasks backport itself supports 4.2.
        test_group = tuple(r for r in test_group if not r.startswith("django-tasks-db"))
    session.install("-e", ".", django, *test_group)
    session.run(
        "python",
        "-c",
        "import django, sys; print('Django', django.__version__, 'on Python', sys.version)",
    )
    session.run("python", "-m", "pytest", "tests/django", "-q", "-p", "no:cacheprovider")
