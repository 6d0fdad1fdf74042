"""Build the C++ core and its test driver with AddressSanitizer + UndefinedBehaviorSanitizer and run it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cmake() -> str | None:
    found = shutil.which("cmake")
    if found:
        return found
    try:
        import cmake  # the PyPI package (a test extra) ships the binary

        return str(Path(cmake.CMAKE_BIN_DIR) / "cmake")
    except ImportError:
        return None


@pytest.mark.full  # a separate CMake build (~35 s on 2 cores): `pytest --full` / .ci/run
@pytest.mark.skipif(not (ROOT / "cpp" / "tests" / "sanitize_driver.cpp").exists(), reason="needs the source tree")
def test_sanitized_driver_runs_clean(tmp_path):
    cmake = _cmake()
    if cmake is None or shutil.which(os.environ.get("CXX", "c++")) is None:
        pytest.skip("needs cmake and a C++ compiler")
    build = tmp_path / "build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = subprocess.run([cmake, "-S", str(ROOT), "-B", str(build), "-DMDMSCHED_SANITIZE=ON", *generator],
                               capture_output=True, text=True, timeout=300, check=False)
    assert configure.returncode == 0, configure.stdout + configure.stderr
    compiled = subprocess.run([cmake, "--build", str(build), "--target", "sanitize_driver", "-j", "2"],
                              capture_output=True, text=True, timeout=600, check=False)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    driver = next(build.rglob("sanitize_driver*"))
    result = subprocess.run([str(driver)], capture_output=True, text=True, timeout=300, env=env, check=False)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert last.endswith(" 0 failed") and int(last.split()[0]) > 1000, last
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr
