"""Repository-wide pytest options: ``--full`` runs the full-size work (the sanitizer build, full-size benchmarks and
slow tests) that the default run leaves out so that ``python -m pytest`` stays within minutes; ``.ci/run`` passes it.

It lives at the root because an option must be registered before either ``tests/`` or ``benchmarks/`` is collected.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", default=False,
                     help="also run the sanitizer build and slow tests, and benchmarks at full size (marker 'full')")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="full-size only: run with --full (as .ci/run does)")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
