"""``mdmsched.torch``: the import path users type, kept working; the code lives in :mod:`mdmsched.models.torch`."""

from __future__ import annotations

from .models.torch import *
from .models.torch import __all__ as __all__  # noqa: PLC0414
