"""Every Python snippet of the guide (docs/guide/*.md, the manual moved out of the README) and of the README runs as
pasted, in a scratch directory; a snippet that imports an optional extra (torch, diffusers, transformers, matplotlib)
is skipped without it. The adapters and samplers pages also check what their snippets print
(tests/house/test_guide_adapters.py, tests/house/test_guide_samplers.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs" / "guide").glob("*.md")), ROOT / "README.md"]
OPTIONAL = ("torch", "diffusers", "transformers", "matplotlib")


#: Shell steps a page's text runs before its Python (the bash block above the snippet), as the reader would.
SETUP = {"command-line.md": [["table", "--example", "saturating", "--lengths", "256", "--steps", "64", "--block-lengths",
                              "32", "--out", "table.json"]]}


def _pages() -> list[tuple[str, list[str]]]:
    out = []
    for page in PAGES:
        if not page.exists():  # an installed wheel without the docs
            continue
        text = page.read_text(encoding="utf-8")
        # a block after "<!-- not run by the tests: REASON -->" needs what a test machine lacks (a cluster, a launcher)
        blocks = [code for marker, code in re.findall(r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", text, flags=re.DOTALL)
                  if not marker]
        if blocks:
            out.append((page.name, blocks))
    return out


def test_the_guide_has_runnable_pages() -> None:
    names = {name for name, _ in _pages()}
    assert {"README.md", "adapters.md", "samplers.md", "models.md", "distributions.md"} <= names, names


@pytest.mark.parametrize(("name", "blocks"), _pages(), ids=[name for name, _ in _pages()])
def test_page_runs_as_pasted(name: str, blocks: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's snippets in order, sharing one namespace (later snippets continue earlier ones, as a reader's session)."""
    code = "\n".join(blocks)
    for module in OPTIONAL:
        if re.search(rf"^\s*(import|from) {module}\b", code, flags=re.MULTILINE) and importlib.util.find_spec(module) is None:
            pytest.skip(f"{name} needs {module}")
    monkeypatch.chdir(tmp_path)
    for argv in SETUP.get(name, []):
        subprocess.run([sys.executable, "-m", "mdmsched", *argv], check=True, capture_output=True)
    namespace = {"__name__": "guide"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for i, block in enumerate(blocks):
            exec(compile(block, f"{name}#{i}", "exec"), namespace)  # noqa: S102 - the snippets are ours
