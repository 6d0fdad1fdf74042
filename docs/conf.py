"""Sphinx configuration for the mdmsched documentation.

Build (after installing the package, so the gallery can run the examples):

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

With ``MDMSCHED_DOCS_MOCK=1`` the compiled extension ``mdmsched._core`` is mocked (autodoc_mock_imports), the package
is imported from ``python/`` and the gallery is not run: enough for the API pages on a machine without a compiler.
The build is offline: no intersphinx inventories are fetched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
MOCK = os.environ.get("MDMSCHED_DOCS_MOCK", "") not in ("", "0")

sys.path.insert(0, str(DOCS / "_ext"))
if MOCK:
    from sphinx.ext.autodoc.mock import mock

    sys.path.insert(0, str(ROOT / "python"))
    autodoc_mock_imports = ["mdmsched._core"]
    with mock(autodoc_mock_imports):
        import mdmsched
else:
    import mdmsched

project = "mdmsched"
author = "mdmsched developers"
copyright = "2026, mdmsched developers"
release = mdmsched.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "gallery",  # docs/_ext/gallery.py: runs examples/plot_*.py and embeds their figures
    "myst_parser",  # the guide's Markdown pages (moved from the README; their snippets run as tests)
]
myst_heading_anchors = 3

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
html_theme = "furo"
html_title = f"mdmsched {release}"
html_static_path: list[str] = []
html_last_updated_fmt = None  # reproducible output

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

gallery_examples_dir = str(ROOT / "examples")
gallery_output_dir = str(DOCS / "generated" / "gallery")
gallery_run = not MOCK

# Nitpicky mode (-n) must resolve every cross-reference. The build is offline, so intersphinx is off and names from
# NumPy, matplotlib and the standard library's typing internals cannot resolve; they are ignored here by pattern.
# Everything in mdmsched itself must resolve.
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np)\..*"),                  # NDArray, ndarray, float64, int64, typing.ArrayLike, dtype aliases
    ("py:class", r"(matplotlib|Axes|Figure).*"),      # plot.py's return types
    ("py:class", r"ArrayLike|NDArray|npt\..*"),       # NumPy typing names as written in signatures
    ("py:class", r"(typing|collections\.abc)\..*"),   # Callable, Sequence, Mapping, Iterator (no Python inventory)
    ("py:class", r"Callable|Sequence|Mapping|Iterable|Iterator|Literal|Any|Protocol"),
    ("py:class", r"(torch|dit|diffusers|lm_eval|transformers)\..*"),  # optional third-party types named in docstrings
    ("py:class", r"mdmsched\._core\..*"),             # the private extension (documented through the Python API)
    ("py:obj", r"(numpy|np)\..*"),
    ("py:class", r"_?[A-Z][A-Za-z]*\[.*\]"),          # subscripted generics as written, e.g. tuple[float, float]
    ("py:class", r"optional|default .*|array_like|callable"),  # numpydoc-ish words in parameter types
    ("py:data", r"typing\..*"),
    ("py:class", r"_?T|_P"),                          # type variables
    ("py:class", r"os\.PathLike|pathlib\..*|Path"),   # standard library (no Python inventory offline)
    ("py:class", r"concurrent\.futures.*|Executor"),  # standard library executors (no Python inventory offline)
    ("py:class", r"Target|Score|RuleKind|Method|IntervalMethod|Estimator|EstimatorName|Objective|Gap|BandCalibration"),
    ("py:class", r"abc\..*"),                          # the standard library's ABC base (no Python inventory offline)
]


# Objects the public API returns or names in its docstrings without exporting them: documented on the API page under
# their defining module so that cross-references to them resolve.
HELPERS = [
    ("mdmsched.compare", "ComparisonRow"),
    ("mdmsched.compare", "ComparisonTable"),
    ("mdmsched._shards", "progress_bar"),
    ("mdmsched._shards", "RowBatches"),
    ("mdmsched.compare", "default_schedules"),
    ("mdmsched._schedule", "MaskRatioFunction"),
]
PUBLIC = sorted(
    name for name in mdmsched.__all__ if not name.startswith("__") and not isinstance(getattr(mdmsched, name), type(sys))
)


def _public_api() -> str:
    """The API page for ``mdmsched.__all__`` (minus submodules and ``__version__``), generated at build time."""
    import importlib

    for name in PUBLIC:
        # Document (and cross-reference) public objects under the name users import them by, mdmsched.X, rather than
        # the private module that happens to define them (mdmsched.schedule.Schedule, mdmsched.solve.solve, ...).
        obj = getattr(mdmsched, name)
        if getattr(obj, "__module__", "").startswith("mdmsched.") and hasattr(obj, "__qualname__"):
            obj.__module__ = "mdmsched"
    title = "The package: ``mdmsched``"
    lines = [title, "=" * len(title), "", "The public names of ``mdmsched`` (its ``__all__``).", "",
             ".. currentmodule:: mdmsched", "", ".. autosummary::", "   :toctree: api", ""]
    data = [name for name in PUBLIC if not callable(getattr(mdmsched, name))]
    lines += [f"   {name}" for name in PUBLIC if name not in data]
    lines.append("")
    for name in data:  # module-level constants: autodoc would show the docstring of their type (dict, tuple, ...)
        value = getattr(mdmsched, name)
        if isinstance(value, dict):
            text = "A mapping; its keys: " + ", ".join(f"``{key}``" for key in value) + "."
        else:
            text = f"``{value!r}``"
        lines += [f".. py:data:: {name}", "", f"   {text}", ""]
    helpers = [(module, name) for module, name in HELPERS if hasattr(importlib.import_module(module), name)]
    if helpers:
        lines += ["Supporting types and helpers", "----------------------------", ""]
        for module, name in helpers:
            kind = "autoclass" if isinstance(getattr(importlib.import_module(module), name), type) else "autofunction"
            lines += [f".. {kind}:: {module}.{name}", ""]
    return "\n".join(lines) + "\n"


def _defining_path(target: str) -> str:
    """``mdmsched.torch.TorchModel`` (a shim or a re-export) -> where the object is defined and documented
    (``mdmsched.models.torch.TorchModel``); a module path -> itself when importable under a shim's real name."""
    import importlib

    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        if obj is None:
            return ""
        if isinstance(obj, type(sys)):
            return str(obj.__name__)
        module, name = getattr(obj, "__module__", ""), getattr(obj, "__qualname__", "")
        return f"{module}.{name}" if module and name else ""
    return ""


def _defined_in_package(short: str) -> str:
    """A bare name (``SamplerPlan``) written in a docstring whose object is documented under ``mdmsched.X``: the module
    of the package that defines it (``mdmsched.samplers.evaluate.SamplerPlan``), or "" when none does."""
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("mdmsched") or module is None:
            continue
        obj = getattr(module, short, None)
        if obj is not None and getattr(obj, "__module__", None) == module_name and hasattr(obj, "__qualname__"):
            return f"{module_name}.{obj.__qualname__}"
    return ""


def _resolve_public(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """missing-reference: ``Schedule`` or ``mdmsched.schedule.Schedule`` -> the documented ``mdmsched.Schedule``."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    short = target.rsplit(".", 1)[-1]
    head = target.split(".", 1)[0]
    if "." in target and head in PUBLIC:  # ``CurveEstimate.schedule_error``: a member of a front door
        return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                                  f"mdmsched.{target}", node, contnode)
    if short in PUBLIC:
        full = f"mdmsched.{short}"
    else:
        full = (next((f"{module}.{name}" for module, name in HELPERS if name == short), "") or _defining_path(target)
                or (_defined_in_package(short) if target == short else ""))
    if not full or full == target or not (target == short or target.startswith("mdmsched.")):
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], full, node, contnode)


def _summary_keeping_literals() -> None:
    """Autosummary ends a summary at the first ". "; one inside an inline literal (``x_1 x ... x x_n``) is not a
    sentence end, so protect those (with a placeholder that is not whitespace) before autosummary looks for one."""
    import re

    from sphinx.ext import autosummary

    original = autosummary.extract_summary
    literal = re.compile(r"``.+?``")

    def extract_summary(doc: list[str], document: Any) -> str:
        protect = [literal.sub(lambda m: m.group(0).replace(". ", ".\ue000"), line) for line in doc]
        return str(original(protect, document)).replace("\ue000", " ")

    autosummary.extract_summary = extract_summary


def setup(app: Any) -> None:
    _summary_keeping_literals()
    app.connect("missing-reference", _resolve_public)


(DOCS / "generated").mkdir(exist_ok=True)
_api_page = DOCS / "generated" / "api_public.rst"
_api_text = _public_api()
if not _api_page.exists() or _api_page.read_text(encoding="utf-8") != _api_text:
    _api_page.write_text(_api_text, encoding="utf-8")
