"""The build's promises: one version everywhere, the explicit CMake source list covers the core, and the metadata ships."""

from __future__ import annotations

import re
import sys
from importlib.metadata import metadata, version
from pathlib import Path

import pytest

import mdmsched
from mdmsched import _core

ROOT = Path(__file__).resolve().parents[2]
needs_source = pytest.mark.skipif(not (ROOT / "CMakeLists.txt").is_file(), reason="needs the source tree")



def _toml(path: Path) -> dict[str, object]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python < 3.11 reads TOML with tomli when it is there
        tomllib = pytest.importorskip("tomli")
    return dict(tomllib.loads(path.read_text(encoding="utf-8")))


def test_versions_agree():
    # pyproject.toml -> scikit-build-core -> CMake compile definition -> _core.__version__; importlib.metadata -> Python.
    assert mdmsched.__version__ == version("mdmsched")
    assert _core.__version__ == mdmsched.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", mdmsched.__version__)


@needs_source
def test_installed_version_is_the_pyproject_version():
    project = _toml(ROOT / "pyproject.toml")["project"]
    assert isinstance(project, dict)
    assert "version" in project
    assert "version" not in project.get("dynamic", [])
    assert version("mdmsched") == project["version"]


def test_license_metadata():
    meta = metadata("mdmsched")
    assert meta["License-Expression"] == "MIT"


@needs_source
def test_cmake_lists_every_core_source():
    # The source list is explicit (it documents the architecture): a new cpp/src/*.cpp must be added to it by hand.
    cmake = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    listed = set(re.findall(r"cpp/src/[\w]+\.cpp", cmake))
    on_disk = {f"cpp/src/{path.name}" for path in (ROOT / "cpp" / "src").glob("*.cpp")}
    assert on_disk <= listed, f"not in CMakeLists.txt: {sorted(on_disk - listed)}"
    assert "GLOB" not in cmake


@needs_source
def test_line_length_shared_by_ruff_and_clang_format():
    tool = _toml(ROOT / "pyproject.toml")["tool"]
    assert isinstance(tool, dict)
    ruff = tool["ruff"]["line-length"]
    clang = re.search(r"^ColumnLimit:\s*(\d+)", (ROOT / ".clang-format").read_text(encoding="utf-8"), re.MULTILINE)
    assert clang is not None
    assert int(clang.group(1)) == ruff == 120


@needs_source
def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = 'python -m pip install ".[test]" && python -m pytest'
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
