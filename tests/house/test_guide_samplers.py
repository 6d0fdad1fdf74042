"""The guide's samplers page (docs/guide/samplers.md, "Which sampler, at which speed?") runs as pasted and prints what it
promises."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "samplers.md"


def _snippet() -> str:
    section = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the section has one Python snippet"
    return blocks[0]


@pytest.mark.skipif(not PAGE.exists(), reason="docs not in this install (wheel test)")
def test_guide_sampler_snippet_runs_as_pasted():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_snippet(), "samplers.md", "exec"), {"__name__": "readme"})  # noqa: S102 - the snippet is ours
    printed = out.getvalue()
    assert printed.count("NFE <= ") == 3
    assert re.search(r"tau = 0\.\d+ gives mean NFE \d", printed)
    assert "held-out rows" in printed
    assert "LLaDA's equal split" in printed
