"""``mdmsched.distributions``: the import path users type, kept working; the code lives in :mod:`mdmsched.curves.families`."""

from __future__ import annotations

from .curves.families import *
from .curves.families import __all__ as __all__  # noqa: PLC0414
