"""Repository files that are not part of the package (examples, benchmark scripts) loaded as modules for tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_script(path: str | Path, name: str | None = None) -> ModuleType:
    """The file at ``path`` (relative to the repository root, or absolute) as a module named ``name`` (default: its
    stem), registered in ``sys.modules`` if no module of that name is (dataclasses and pickling look it up there), with
    its folder importable as when it runs as a script (its sibling modules)."""
    path = ROOT / path
    name = path.stem if name is None else name
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module
