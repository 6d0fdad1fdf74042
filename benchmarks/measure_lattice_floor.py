"""Measurement behind BENCHMARKS.md "Request-sized solves and the lattice floor (issue 28)": the single-thread lattice
walk against its own p log p floor (the same number of logarithms over in-cache cells), interleaved in one process
(walk, floor, walk, floor, ...) so both see the same load, CPU time, best of ``rounds``, for every kernel.

Run: ``python benchmarks/measure_lattice_floor.py [--n 17 18] [--rounds 7] [--core path/to/_core.so]``
(``--core`` loads another build's extension, e.g. main's, built into /tmp, for a side-by-side comparison).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from types import ModuleType

import numpy as np

FLOOR_CELLS = 4096  # the floor's buffer: in L1/L2, so it measures the logarithms alone


def load_core(path: str | None) -> ModuleType:
    if path is None:
        from mdmsched import _core

        return _core
    spec = importlib.util.spec_from_file_location("_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds(call) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def measure(core: ModuleType, n: int, rounds: int) -> tuple[float, float]:
    """Best-of-`rounds` CPU seconds of the walk and of its floor (3^n logarithms each), interleaved."""
    p = np.random.default_rng(7).dirichlet(np.ones(2**n)).reshape((2,) * n)
    x = np.random.default_rng(8).random(FLOOR_CELLS) / FLOOR_CELLS
    repeats = max(1, 3**n // FLOOR_CELLS)
    walk = floor = float("inf")
    for _ in range(rounds):
        walk = min(walk, cpu_seconds(lambda: core.dense_lattice(p, False, 1)))
        floor = min(floor, cpu_seconds(lambda: core.plogp_floor(x, repeats)))
    return walk, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[17, 18])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--core", default=None, help="path of a _core extension to load instead of mdmsched's")
    parser.add_argument("--kernels", nargs="+", default=None)
    args = parser.parse_args()
    core = load_core(args.core)
    kernels = args.kernels or core.entropy_kernels()
    for n in args.n:
        for kernel in kernels:
            previous = core.use_entropy_kernel(kernel)
            walk, floor = measure(core, n, args.rounds)
            core.use_entropy_kernel(previous)
            cells = 3**n
            print(
                f"n={n} kernel={kernel:8s} walk {walk * 1e3:7.1f} ms ({walk / cells * 1e9:.2f} ns/cell)  "
                f"floor {floor * 1e3:7.1f} ms  walk/floor {walk / floor:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
