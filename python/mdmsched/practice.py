"""``mdmsched.practice``: the import path users type, kept working; the code lives in :mod:`mdmsched.schedules.practice`."""

from __future__ import annotations

from .schedules.practice import *
from .schedules.practice import __all__ as __all__  # noqa: PLC0414
