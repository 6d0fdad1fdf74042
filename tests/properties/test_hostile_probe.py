"""Issue 28's hostile-input probe as a test: every case of ``tests/helpers/hostile_cases.py`` (one argument of one
public call replaced by a hostile value) runs in a worker subprocess (``benchmarks/probe_hostile.py``) and must end
as its label says: no crash, hang, allocation before refusal or wrong answer, no silently accepted bad input, and
the contract's exception type (``TypeError`` for a wrong kind, ``ValueError`` for a wrong value) except the cases
``hostile_cases.ALLOWED`` lists with a reason.

The whole table (about 8,000 cases, tiny sizes) takes seconds in one worker, so the default suite runs all of it.
"""

from __future__ import annotations

from pathlib import Path

import hostile_cases
from scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
probe = load_script("benchmarks/probe_hostile.py")

CASES = hostile_cases.load_all()
def _report(results: dict[int, dict[str, object]]) -> str:
    summary = probe.summarise(CASES, results)
    bad = summary["failures"]
    lines = [f"{row['class']}: {row['case']} expected {row['expected']}, got {row['outcome']} {row['detail']}"
             for row in bad[:40]]
    return f"{len(bad)} non-pass cases of {summary['cases']} ({summary['totals']}):\n" + "\n".join(lines)


def _check(indices: list[int]) -> None:
    results = probe.run_probe(indices)
    assert sorted(results) == sorted(indices), "the probe lost cases"
    bad = {i: r for i, r in results.items() if r["class"] not in ("pass", "allowed")}
    assert not bad, _report(results)


def test_case_table_covers_every_public_callable() -> None:
    """Each public callable of the package's public modules has a baseline row (or is a record/protocol/constant)."""
    import importlib

    probed = {case.api.split(".")[-1].split("/")[0] for case in CASES}
    names = ["mdmsched", "mdmsched.schedules", "mdmsched.curves", "mdmsched.models", "mdmsched.samplers",
             "mdmsched.distributions", "mdmsched.practice", "mdmsched.io", "mdmsched.adapters", "mdmsched.solve",
             "mdmsched.closed_loop", "mdmsched.schedule", "mdmsched.compare", "mdmsched.plot",
             "mdmsched.adapters.serving", "mdmsched.adapters.sampler_args", "mdmsched.adapters.sglang",
             "mdmsched.adapters.hf", "mdmsched.adapters.timegrid", "mdmsched.adapters.llada"]
    if hostile_cases.has_torch():
        names.append("mdmsched.torch")
    modules = [importlib.import_module(name) for name in names]
    missing = set()
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or name in probed or name in NOT_PROBED:
                continue
            missing.add(f"{module.__name__}.{name}")
    assert not missing, f"public callables without hostile cases: {sorted(missing)}"


#: Public callables with no case rows, each with why: protocols, exception/warning classes and result records that
#: the package builds itself (their methods that take arguments are probed, e.g. ``CurveEstimate.compare``).
NOT_PROBED = {
    "MaskedModel": "a Protocol", "Predictor": "a Protocol", "StateModel": "a Protocol", "SamplingModel": "a Protocol",
    "ExactModel": "a Protocol", "SelectionRule": "a Protocol", "Target": "a type alias", "Score": "a type alias",
    "IntervalMethod": "a type alias", "FileFormatError": "an exception class", "FlatCurveWarning": "a warning class",
    "NonMonotoneWarning": "a warning class", "Rule": "an abstract base (its subclasses are probed)",
    "CurveEstimate": "a record built by estimate_curve (methods probed)",
    "BlockCurveEstimate": "a record built by estimate_block_curves (optimal_split probed)",
    "ErrorEstimate": "a record", "EstimatePlan": "a record built by plan_estimate (probed)",
    "ShardResult": "a record built by run_shard (probed)", "StateScores": "a record built by score_states (probed)",
    "SamplerEstimate": "a record (kl, rows_for probed)", "SamplerComparison": "a record", "KLEstimate": "a record",
    "Interval": "a record built by mean_interval (probed)", "Calibration": "a record built by calibrate (probed)",
    "CountProposal": "a record", "MapRow": "a record", "MapVerdict": "a record", "SamplerMap": "a record",
    "SamplerPlan": "a record built by plan_sampler (probed)", "SamplerShard": "a record", "SweepPlan": "a record",
    "SweepResult": "a record", "Task": "built by io.load_task_jsonl (probed)", "TaskComparison": "a record",
    "TaskEstimate": "a record", "TaskPlan": "a record built by plan_task (probed)", "TaskShard": "a record",
    "RuleRun": "a record", "Family": "built by default_family / closed_loop_family (probed)",
    "check_state_scores": "the checker behind score_states (probed through every model case)",
    "run_rule": "the loop behind every sampler case (probed through them)",
    "run_sampler_shard": "one shard of evaluate_sampler (probed through it)",
    "merge_sampler_shards": "the merge of evaluate_sampler (probed through it)",
    "run_task_shard": "one shard of evaluate_task (probed through it)",
    "merge_task_shards": "the merge of evaluate_task (probed through it)",
    "optimise_counts": "a cross-fitted search of seconds per call: covered by tests/samplers",
    "compare_tasks": "evaluate_task twice on the same rows (evaluate_task probed)",
    "Objective": "a type alias", "ComparisonRow": "a record", "ComparisonTable": "a record built by compare (probed)",
    "plot_sampler_map": "draws a SamplerMap, a record the package builds (its Axes check is plot_curve's, probed)",
    "TableMiss": "an exception class", "SamplerChoice": "a record built by sampler_from_args (probed)",
    "install": "writes into an SGLang checkout (tests/adapters/test_adapters_sglang.py, with sglang's files)",
    "uninstall": "removes install()'s file (tests/adapters/test_adapters_sglang.py)",
    "make_algorithm": "imports torch and SGLang's DllmAlgorithm (tests/adapters/test_adapters_sglang.py)",
}


def test_every_baseline_is_accepted() -> None:
    """The unmutated calls run: a case table whose baselines fail would count refusals as passes."""
    _check([i for i, case in enumerate(CASES) if case.arg == "baseline"])


def test_hostile_inputs() -> None:
    """Every case of the table, in one worker subprocess (seconds; the worker restarts only after a crash)."""
    _check(list(range(len(CASES))))


def test_allowed_entries_say_why() -> None:
    for key, reason in hostile_cases.ALLOWED.items():
        assert isinstance(reason, str) and len(reason) > 20, f"ALLOWED[{key}] needs a reason"
