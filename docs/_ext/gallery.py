"""A small example gallery: run every ``examples/plot_*.py`` at build time and embed the PNG figures it writes.

Each script runs in a fresh process (``MPLBACKEND=Agg``) with its own output folder as the working directory; it
writes its figures there with ``savefig`` and may print a short report, which is shown under the figures. A script
that fails (non-zero exit, no figure) fails the build. With ``gallery_run = False`` (the mocked API-only build) the
pages show the source only.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _title_and_body(script: Path) -> tuple[str, str]:
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or script.stem
    first, _, rest = doc.partition("\n")
    return first.strip().rstrip("."), rest.strip()


def _run(script: Path, out: Path, timeout: float) -> str:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = dict(os.environ, MPLBACKEND="Agg")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(script)], cwd=out, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise ExtensionError(f"gallery: {script.name} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    if not any(out.glob("*.png")):
        raise ExtensionError(f"gallery: {script.name} wrote no PNG figure")
    logger.info("gallery: ran %s in %.1f s", script.name, time.perf_counter() - start)
    return result.stdout


def _page(script: Path, out: Path, stdout: str | None) -> str:
    title, body = _title_and_body(script)
    lines = [f".. _gallery-{script.stem}:", "", title, "=" * len(title), ""]
    if body:
        lines += [body, ""]
    if stdout is None:
        lines += [".. note:: This build did not run the examples (the extension was mocked).", ""]
    else:
        for png in sorted(out.glob("*.png")):
            lines += [f".. image:: {out.name}/{png.name}", f"   :alt: {png.stem}", ""]
        if stdout.strip():
            lines += ["Output:", "", ".. code-block:: text", ""]
            lines += ["   " + line if line else "" for line in stdout.rstrip().splitlines()]
            lines += [""]
    source = os.path.relpath(script, out.parent).replace(os.sep, "/")
    lines += [f"Source: ``examples/{script.name}``", "", f".. literalinclude:: {source}", "   :language: python", ""]
    return "\n".join(lines)


def generate(app: Sphinx) -> None:
    """builder-inited: run the examples and write ``<gallery_output_dir>/index.rst`` and one page per example."""
    examples = Path(app.config.gallery_examples_dir)
    output = Path(app.config.gallery_output_dir)
    output.mkdir(parents=True, exist_ok=True)
    scripts = sorted(examples.glob("plot_*.py"))  # the figure scripts; longer examples (training) are not run here
    if not scripts:
        raise ExtensionError(f"gallery: no examples in {examples}")
    entries = []
    for script in scripts:
        out = output / script.stem
        stdout = _run(script, out, app.config.gallery_timeout) if app.config.gallery_run else None
        (output / f"{script.stem}.rst").write_text(_page(script, out, stdout), encoding="utf-8")
        entries.append(script.stem)
    index = ["Gallery", "=======", "",
             "Every figure on these pages is drawn at documentation build time by running the script shown with it",
             "(``examples/plot_*.py`` in the repository).", "", ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {stem}" for stem in entries]
    (output / "index.rst").write_text("\n".join(index) + "\n", encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("gallery_examples_dir", "", "env")
    app.add_config_value("gallery_output_dir", "", "env")
    app.add_config_value("gallery_run", True, "env")
    app.add_config_value("gallery_timeout", 300.0, "env")
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
