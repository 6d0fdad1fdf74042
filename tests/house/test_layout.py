"""The house rules of the package layout (ARCHITECTURE.md): floors, no upward imports, no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "python" / "mdmsched"

# Floor of each top-level module or subpackage; a module may import only from floors <= its own.
FLOORS = {
    "_core": 0, "_memory": 0, "_validation": 0, "_progress": 0, "_shards": 0, "_power": 0, "_schedule": 1, "solve": 2,
    "closed_loop": 2, "reference": 0,
    "curves": 3, "schedules": 3, "models": 4, "samplers": 5,
    "io": 6, "compare": 6, "plot": 6, "adapters": 6, "cli": 7, "__main__": 8, "__init__": 9,
    "practice": 9, "distributions": 9, "torch": 9, "schedule": 9,
}
# Subpackages on one floor must not import each other (curves and schedules are siblings).
SIBLINGS_APART = {("curves", "schedules"), ("schedules", "curves")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            if node.module:
                found.add(".".join([*base, node.module]))
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mdmsched"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("mdmsched"))
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in ROOT.rglob("*.py")}


def test_every_module_has_a_floor() -> None:
    units = {_unit(module) for module in _graph()}
    assert units <= set(FLOORS), f"modules without a floor in FLOORS: {sorted(units - set(FLOORS))}"


def test_no_import_runs_up_a_floor() -> None:
    bad = []
    for module, targets in _graph().items():
        for target in targets:
            a, b = _unit(module), _unit(target)
            if a != b and (FLOORS[b] > FLOORS[a] or (a, b) in SIBLINGS_APART):
                bad.append(f"{module} -> {target}")
    assert not bad, "imports that run up a floor (or across siblings): " + ", ".join(sorted(bad))


def test_no_import_cycle() -> None:
    graph = _graph()
    known = set(graph)
    edges = {m: {t if t in known else t.rsplit(".", 1)[0] for t in ts} & known for m, ts in graph.items()}
    edges = {m: {t for t in ts if t != m and not m.startswith(t + ".")} for m, ts in edges.items()}  # parent __init__
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle.extend([*path, node, nxt])
                return True
            if nxt not in state and visit(nxt, [*path, node]):
                return True
        state[node] = 2
        return False

    for start in sorted(edges):
        if start not in state and visit(start, []):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_public_modules_declare_all() -> None:
    missing = [
        _module_name(path) for path in ROOT.rglob("*.py")
        if not path.name.startswith("_") or path.name == "__init__.py"
        if "__all__" not in path.read_text(encoding="utf-8") and path.name != "__main__.py"
    ]
    assert not missing, f"public modules without __all__: {missing}"


def _calls(path: Path) -> set[str]:
    """Attribute and function names called anywhere in a module (``x.submit(...)`` -> ``submit``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            found.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return found


def test_no_generation_or_rule_loop_in_models() -> None:
    """How a model is run (rules choosing positions, drawing tokens step by step) lives in samplers/, not models/."""
    loop_calls = {"select", "select_rows", "run_rule", "sample_with_rule", "generate", "generate_with_rule", "simulate"}
    bad = {}
    for path in (ROOT / "models").rglob("*.py"):
        defined = {node.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        hits = (_calls(path) | defined) & loop_calls
        if hits:
            bad[_module_name(path)] = sorted(hits)
    assert not bad, f"generation or rule loops in models/: {bad}"


def test_every_executor_submit_goes_through_shards() -> None:
    """One plan -> run -> merge mechanism: only _shards.py hands work to an executor or cuts shard ranges."""
    bad = []
    for path in ROOT.rglob("*.py"):
        if path.name == "_shards.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "submit" in _calls(path) or "as_completed" in text or "np.linspace(0, self.num_batches" in text:
            bad.append(_module_name(path))
    assert not bad, f"modules that shard or submit work outside mdmsched._shards: {bad}"


def test_the_package_face_has_at_most_40_front_doors_and_no_plumbing() -> None:
    """issue 27.4: ``mdmsched.__all__`` lists the front doors only; plumbing (plan -> run -> merge pieces), the test
    oracle and the import-path shims stay importable from their modules, not from the package face."""
    import mdmsched

    names = set(mdmsched.__all__)
    assert len(mdmsched.__all__) <= 40, len(mdmsched.__all__)
    assert all(hasattr(mdmsched, name) for name in names)
    plumbing = {"plan_estimate", "run_shard", "merge_shards", "plan_block_estimate", "reference", "practice",
                "distributions", "torch", "schedule"}
    assert not names & plumbing
    assert not {"plan_estimate", "run_shard", "merge_shards", "plan_block_estimate"} & set(vars(mdmsched))


def test_no_public_name_is_defined_with_two_meanings() -> None:
    """issue 27.4: a public name is defined (class, function or assignment at module level) in one module only --
    ``Calibration`` the result of calibrate, ``BandCalibration`` the band option; ``Method`` the solver's method,
    ``IntervalMethod`` a mean's interval; ``Objective`` once, in solve.py. Not counted: ``reference.py`` (the test
    oracle repeats the names it checks, by design), overloads within one module, and ``main`` (an entry point)."""
    where: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        if path.name == "reference.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                names = []
            for name in names:
                if not name.startswith("_") and name != "main":
                    where.setdefault(name, set()).add(_module_name(path))
    twice = {name: sorted(modules) for name, modules in where.items() if len(modules) > 1}
    assert not twice, f"names defined in more than one module: {twice}"
