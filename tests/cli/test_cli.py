"""The installed ``mdmsched`` console script, run in a subprocess like a user would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mdmsched


def _command() -> list[str]:
    script = Path(sys.executable).with_name("mdmsched")
    if script.exists():
        return [str(script)]
    found = shutil.which("mdmsched")
    return [found] if found else [sys.executable, "-m", "mdmsched"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          check=False)


def run_json(*args: str, cwd: Path | None = None) -> dict:
    result = run(*args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def curve_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("curves") / "z.npy"
    np.save(path, mdmsched.example_curve("markov"))
    return path


def test_solve_json_matches_api(curve_file):
    z = np.load(curve_file)
    out = run_json("solve", str(curve_file), "--steps", "12")
    expected = mdmsched.optimal_schedule(z, 12)
    assert out["schedule"]["sizes"] == expected.tolist()
    assert out["schedule"]["error"] == pytest.approx(expected.error)
    assert out["n"] == z.size and out["tc"] == pytest.approx(z.sum())
    eps = run_json("solve", "--example", "saturating", "--eps", "0.5")
    assert eps["schedule"]["k"] == mdmsched.min_steps(mdmsched.example_curve("saturating"), 0.5).k


def test_frontier_and_compare_json(curve_file, tmp_path):
    z = np.load(curve_file)
    front = run_json("frontier", str(curve_file), "--k-max", "20")
    np.testing.assert_allclose(front["errors"], mdmsched.error_frontier(z, 20), rtol=1e-12)
    comp = run_json("compare", str(curve_file), "--steps", "8")
    table = mdmsched.compare(z, 8)
    assert [r["name"] for r in comp["rows"]] == [r.name for r in table.rows]
    assert comp["optimal_error"] == pytest.approx(table.optimal_error)
    text_curve = tmp_path / "z.csv"
    text_curve.write_text(",".join(map(str, z[:50])))
    assert run_json("solve", str(text_curve), "-k", "5")["schedule"]["k"] == 5
    human = run("compare", "--example", "code", "-k", "2", "--out", str(tmp_path / "cmp.json"))
    assert human.returncode == 0 and "x optimal" in human.stdout
    assert json.loads((tmp_path / "cmp.json").read_text())["rows"][0]["error"] == 0.0


def test_curve_from_dense_support_and_samples(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(2 * 3 * 2 * 2)).reshape(2, 3, 2, 2)
    np.save(tmp_path / "p.npy", p)
    out = run_json("curve", str(tmp_path / "p.npy"), "--out", str(tmp_path / "z.json"))
    np.testing.assert_allclose(out["Z"], mdmsched.information_curve(p), atol=1e-12)
    np.testing.assert_allclose(out["e"], mdmsched.average_entropies(p), atol=1e-12)
    assert out["dtc"] == pytest.approx(mdmsched.dual_total_correlation(p))
    assert out["tc"] == pytest.approx(mdmsched.total_correlation(p))
    assert json.loads((tmp_path / "z.json").read_text())["Z"] == pytest.approx(out["Z"])
    cells = np.argwhere(p > 0)
    np.savez(tmp_path / "support.npz", outcomes=cells, probs=p[tuple(cells.T)])
    np.testing.assert_allclose(run_json("curve", str(tmp_path / "support.npz"))["Z"], out["Z"], atol=1e-12)
    samples = rng.integers(0, 3, size=(200, 5))
    np.savetxt(tmp_path / "samples.csv", samples, fmt="%d", delimiter=",")
    expected = mdmsched.information_curve(mdmsched.Distribution.from_samples(samples))
    np.testing.assert_allclose(run_json("curve", str(tmp_path / "samples.csv"))["Z"], expected, atol=1e-12)
    # The written curve feeds straight into solve.
    assert run_json("solve", str(tmp_path / "z.json"), "-k", "2")["schedule"]["k"] == 2


def test_demo_writes_plots_and_json(tmp_path):
    out = run_json("demo", "--out", str(tmp_path))
    assert out["n"] == 16 and len(out["Z"]) == 16
    z = mdmsched.information_curve(mdmsched.curves.examples.demo_distribution())
    np.testing.assert_allclose(out["Z"], z, atol=1e-12)
    assert [s["error"] for s in out["optimal"]] == pytest.approx([mdmsched.optimal_schedule(z, k).error for k in (2, 4, 8)])
    for path in out["plots"]:
        assert Path(path).stat().st_size > 10_000
    text = run("demo", "--no-plots")
    assert text.returncode == 0 and "optimal schedules" in text.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["solve", "/no/such/file.npy"], "no such curve file"),
        (["solve", "--example", "code", "--steps", "0"], "1 <= k"),
        (["frontier", "--example", "code", "--k-max", "999"], "k_max"),
        (["curve", "/no/such.npy"], "no such distribution file"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, fragment):
    result = run(*args)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_plots_of_a_users_curve(curve_file, tmp_path):
    result = run("solve", str(curve_file), "-k", "6", "--plot", str(tmp_path / "c.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.png").stat().st_size > 10_000
    result = run("frontier", str(curve_file), "--k-max", "12", "--plot", str(tmp_path / "f.png"))
    assert result.returncode == 0 and (tmp_path / "f.png").stat().st_size > 10_000


def test_bad_files_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[0, 0.5, 0.2]")
    result = run("solve", str(bad))
    assert result.returncode == 2 and "non-decreasing" in result.stderr and "Traceback" not in result.stderr
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("a,b,c")
    result = run("solve", str(garbage))
    assert result.returncode == 2 and "cannot read" in result.stderr
    unnormalised = tmp_path / "p.npy"
    np.save(unnormalised, np.full((2, 2), 0.3))
    result = run("curve", str(unnormalised))
    assert result.returncode == 2 and "unnormalised" in result.stderr


def test_help_and_module_entry_point():
    assert "JSON output" in run("--help").stdout
    result = subprocess.run([sys.executable, "-m", "mdmsched", "solve", "--example", "code", "-k", "2", "--json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert json.loads(result.stdout)["schedule"]["sizes"] == [16, 48]


def test_table_matches_the_api_and_loads_with_json_alone(curve_file, tmp_path):
    z = np.load(curve_file)
    out_file = tmp_path / "table.json"
    result = run("table", str(curve_file), "--lengths", "24,48", "--steps", "3,6,30", "--block-lengths", "12",
                 "--out", str(out_file))
    assert result.returncode == 0, result.stderr
    table = json.loads(out_file.read_text())  # what a serving stack does: json only
    assert table["format"] == "mdmsched-table/1" and table["units"] == "nats" and table["fit"] == "interp"
    assert [48, "12", 30] not in table["skipped"] and [24, "12", 30] in table["skipped"]
    z48 = np.interp(np.linspace(0, 1, 48), np.linspace(0, 1, z.size), z)  # the documented fit
    entry = table["schedules"]["48"]["12"]["6"]
    expected = mdmsched.schedules.blockwise(48, 12, total_steps=6,
                                            curves=[np.interp(np.linspace(0, 1, 12), np.linspace(0, 1, 48), z48)] * 4)
    assert entry["blocks"] == [b.tolist() for b in expected.blocks]
    assert entry["num_transfer_tokens"] == expected.num_transfer_tokens().tolist()
    assert entry["error"] == pytest.approx(expected.error) and entry["k"] == 6 and sum(entry["sizes"]) == 48
    full = run_json("table", str(curve_file), "--lengths", str(z.size), "--steps", "5", "--fit", "truncate")
    best = mdmsched.optimal_schedule(z, 5)
    assert full["schedules"][str(z.size)]["full"]["5"]["sizes"] == best.tolist()
    assert full["schedules"][str(z.size)]["full"]["5"]["error"] == pytest.approx(best.error)


def test_table_from_a_family_and_its_errors(tmp_path):
    z8, z16 = mdmsched.example_curve("markov")[:8], mdmsched.example_curve("saturating")[:16]
    np.savez(tmp_path / "fam.npz", **{"8": z8, "n16": z16})
    (tmp_path / "fam.json").write_text(json.dumps({"8": z8.tolist(), "16": z16.tolist()}))
    for name in ("fam.npz", "fam.json"):
        out = run_json("table", "--family", str(tmp_path / name), "--lengths", "8,16", "--steps", "2,4")
        assert out["schedules"]["16"]["full"]["4"]["sizes"] == mdmsched.optimal_schedule(z16, 4).tolist()
        assert out["schedules"]["8"]["full"]["2"]["sizes"] == mdmsched.optimal_schedule(z8, 2).tolist()
    for args, fragment in ((("--family", str(tmp_path / "fam.npz"), "--lengths", "32", "--steps", "2"), "no curve"),
                           (("--example", "markov", "--lengths", "8", "--steps", "two"), "--steps"),
                           (("--example", "markov", "--lengths", "0", "--steps", "2"), "positive"),
                           (("--example", "markov", "--lengths", "9999", "--steps", "2", "--fit", "truncate"),
                            "truncate")):
        result = run("table", *args)
        assert result.returncode == 2 and fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
