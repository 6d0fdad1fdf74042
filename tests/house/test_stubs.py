"""The typed surface: the extension's stubs match the compiled module, and the package type-checks strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mdmsched

pytest.importorskip("mypy")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, check=False)


def test_py_typed_marker_ships():
    assert (Path(mdmsched.__file__).parent / "py.typed").is_file()


def test_stubtest_core_extension():
    result = _run("mypy.stubtest", "mdmsched._core")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_passes_mypy_strict():
    # -p checks the package as installed (site-packages or editable), which is what users type-check against.
    result = _run("mypy", "--strict", "-p", "mdmsched")
    assert result.returncode == 0, result.stdout + result.stderr
