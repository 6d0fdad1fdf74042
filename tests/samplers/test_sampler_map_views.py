"""The map's plot (drawn data inspected) and the ``mdmsched map`` console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdmsched.samplers import sampler_map
from mdmsched.samplers.demo_model import STICKY_CHAIN, markov_entropy, markov_example


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).with_name("mdmsched")
    command = [str(script)] if script.exists() else [shutil.which("mdmsched") or "mdmsched"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, check=False)


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture(scope="module")
def small_map():
    example = markov_example(10, 30, 1)
    return example, sampler_map(example.model, example.rows, ["random", "threshold"], entropy=example.entropy, seed=1)


def test_plot_draws_every_family_and_the_dashed_frontier(small_map):
    from matplotlib.figure import Figure

    from mdmsched.plot import plot_sampler_map

    example, result = small_map
    fig = plot_sampler_map(result)
    assert isinstance(fig, Figure) and callable(fig.savefig)  # the README's flow: fig.savefig(...)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"random", "threshold", "optimal random order"}
    for name in ("random", "threshold"):
        rows = result.family(name)
        np.testing.assert_array_equal(lines[name].get_xdata(), [r.nfe for r in rows])
        np.testing.assert_allclose(lines[name].get_ydata(), [r.nll - example.entropy for r in rows])
    frontier = lines["optimal random order"]
    assert frontier.get_linestyle() == "--"
    np.testing.assert_array_equal(frontier.get_xdata(), result.frontier_nfe)
    np.testing.assert_allclose(frontier.get_ydata(), result.frontier_nll - example.entropy)
    assert ax.get_xscale() == "log" and "KL" in ax.get_ylabel()
    ax_nll = plot_sampler_map(result, kl=False).axes[0]
    np.testing.assert_allclose(ax_nll.get_lines()[0].get_ydata(), [r.nll for r in result.family("random")])
    with pytest.raises(TypeError, match="SamplerMap"):
        plot_sampler_map("map")


def test_markov_entropy_against_enumeration():
    from mdmsched.curves.families import markov_chain

    p = markov_chain(STICKY_CHAIN, 5).reshape(-1)
    assert markov_entropy(STICKY_CHAIN, 5) == pytest.approx(float(-(p[p > 0] * np.log(p[p > 0])).sum()), rel=1e-12)


def test_cli_map_json_matches_the_library():
    out = run_json("map", "--n", "10", "--rows", "30", "--seed", "1", "--families", "random,threshold",
                   "--budget", "4")
    example = markov_example(10, 30, 1)
    direct = sampler_map(example.model, example.rows, ["random", "threshold"], entropy=example.entropy, seed=1)
    assert out["command"] == "map" and out["n"] == 10 and out["rows_used"] == 30
    assert [r["nll"] for r in out["rows"]] == pytest.approx([r.nll for r in direct.rows], rel=1e-12)
    assert out["frontier"]["nll"] == pytest.approx(direct.frontier_nll.tolist(), rel=1e-12)
    assert out["calibrated"]["family"] == "threshold" and out["calibrated"]["budget"] == 4.0
    assert out["entropy"] == pytest.approx(example.entropy)


def test_cli_map_plot_and_text(tmp_path):
    result = run("map", "--n", "8", "--rows", "20", "--families", "top_k", "--plot", str(tmp_path / "m.png"))
    assert result.returncode == 0, result.stderr
    assert "top_k" in result.stdout and "optimal random order" in result.stdout
    assert (tmp_path / "m.png").stat().st_size > 1000


@pytest.mark.parametrize(("args", "message"), [
    (["--n", "0"], "n must be"),
    (["--rows", "1"], "rows must be"),
    (["--families", "nope"], "--families"),
    (["--taus", "x", "--families", "threshold"], "--taus"),
    (["--taus", "2", "--families", "threshold"], "tau"),
    (["--block-length", "-3"], "block_length"),
    (["--budget", "-1", "--families", "random"], "budget"),
])
def test_cli_map_bad_input_is_one_line_and_exit_2(args, message):
    result = run("map", "--n", "6", "--rows", "10", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_cli_map_says_the_kl_is_an_estimate_against_h():
    # Issue 28.13: a negative "KL" with no note; the note names H(mu) and sampling noise.
    result = run("map", "--n", "6", "--rows", "10", "--families", "top_k")
    assert result.returncode == 0, result.stderr
    assert "minus H(mu)" in result.stdout and "sampling noise" in result.stdout


def test_cli_solve_method_has_help_text():
    result = run("solve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--method" in text and "lagrangian (penalty search" in text and "auto (default" in text
