"""Issue 19: the dense lattice walk divides p by its sum as it reads it instead of walking a normalised copy, so its
peak memory above the input is the result plus one chain of marginals per thread (it was one more tensor-sized copy).
tracemalloc does not see C++ allocations: peaks are measured as ru_maxrss in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mdmsched import _core
from mdmsched.curves import exact

MIB = 2**20

# In a fresh child: build a 32 MiB tensor, warm up (imports, a tiny walk), reset the kernel's peak-RSS mark
# (writing 5 to /proc/self/clear_refs; else ru_maxrss, a high-water mark that earlier transients can hide growth
# under), then report how far one call raises the peak above the RSS before it. The call "copy" makes a normalised
# copy on purpose: it shows the measurement sees one.
CHILD = r"""
import resource, sys
import numpy as np
from mdmsched.curves import exact
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
rng = np.random.default_rng(0)
p = rng.random((256, 256, 64))
p /= p.sum() * (1 + 1e-12)  # sums to 1 within the tolerance, not exactly: the walk must divide
exact.subset_entropies(rng.dirichlet(np.ones(8)).reshape(2, 2, 2), threads=1)
calls = {"copy": lambda: p / p.sum(), "subset_entropies": lambda: exact.subset_entropies(p, threads=1),
         "average_entropies": lambda: exact.average_entropies(p, threads=1)}
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = status("VmRSS")
    calls[sys.argv[1]]()
    print(status("VmHWM") - before)
except OSError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    calls[sys.argv[1]]()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)  # KiB on Linux
"""


def _peak_growth(call: str) -> int:
    proc = subprocess.run([sys.executable, "-c", CHILD, call], capture_output=True, text=True, timeout=120,
                          check=True)
    return int(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux (bytes on macOS)")
def test_dense_walk_does_not_copy_the_input():
    tensor = 256 * 256 * 64 * 8
    copy = _peak_growth("copy")
    assert copy >= 0.9 * tensor, f"the measurement misses a 32 MiB copy: {copy / MIB:.1f} MiB"
    # left: the validation's boolean masks (1/8 of the tensor, transient) and a chain of 128 KiB marginals
    for call in ("subset_entropies", "average_entropies"):
        growth = _peak_growth(call)
        assert growth <= 0.3 * tensor, (
            f"{call} raised the peak RSS by {growth / MIB:.1f} MiB for a {tensor / MIB:.0f} MiB input (a normalised "
            "copy of p is 32 MiB)")


def test_walking_p_over_its_total_is_bit_identical_to_walking_a_normalised_copy():
    rng = np.random.default_rng(3)
    for shape in [(3, 4, 2, 5), (2,) * 11, (40, 3, 7)]:
        p = rng.random(shape)
        p *= (1 + 5e-12) / p.sum()
        total = float(p.sum())
        assert total != 1.0
        normalised = p / total
        for threads in (1, 2):
            a = _core.dense_lattice(p, True, threads, None, total)
            b = _core.dense_lattice(normalised, True, threads)
            assert a[0] is not None and b[0] is not None
            assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), (shape, threads)
        for lead in range(3):
            for pattern in range(2**lead):
                a = _core.dense_lattice_shard(p, lead, pattern, True, 1, None, total)
                b = _core.dense_lattice_shard(normalised, lead, pattern, True, 1)
                assert a[0] is not None and b[0] is not None
                assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), (shape, lead, pattern)
        # the public entry point gives what it gave when it walked its normalised copy p / total
        assert np.array_equal(exact.subset_entropies(p), _core.dense_lattice(normalised, True)[0])


def test_total_is_validated():
    p = np.full((2, 2), 0.25)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="total must be a finite positive number"):
            _core.dense_lattice(p, False, 1, None, bad)
    with pytest.raises(ValueError, match="must sum to"):
        _core.dense_lattice(p, False, 1, None, 2.0)  # p does not sum to the total it is said to have
