"""What ``"lazycron"`` in ``INSTALLED_APPS`` makes Django import; the code lives in
:mod:`lazycron.django.apps`."""

from .django.apps import LazycronConfig

__all__ = ["LazycronConfig"]
