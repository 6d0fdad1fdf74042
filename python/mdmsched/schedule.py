"""``mdmsched.schedule``: the import path users type, kept working; the code lives in :mod:`mdmsched._schedule`."""

from __future__ import annotations

from ._schedule import *
from ._schedule import __all__ as __all__  # noqa: PLC0414
