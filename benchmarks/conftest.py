"""Benchmarks run at small sizes unless ``--full`` (the option is registered by the repository's root conftest)."""

from __future__ import annotations

import _sizes
import pytest


def pytest_configure(config: pytest.Config) -> None:
    _sizes.FULL = bool(config.getoption("--full", default=False))
