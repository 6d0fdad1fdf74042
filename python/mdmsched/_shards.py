"""Plan -> run -> merge, once: the one sharding mechanism of the package.

Every long job (a lattice walk, a curve estimate, teacher-forced sampler scoring, task evaluation) is a list of
*units* (batches, shard patterns) cut into contiguous ranges; a range runs in this process or on any
``concurrent.futures.Executor`` (a process pool, ``dask.distributed.Client.get_executor()``); its results carry the
plan's :func:`fingerprint` so a merge refuses a shard run under another plan. Progress has one convention:
``progress(done, total)`` in units, after each finished range; ``progress=True`` prints the plan's cost line first and
then a one-line stderr bar with the elapsed time and an ETA.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import numpy as np
from numpy.typing import NDArray

from ._validation import as_count, as_executor

#: ``progress(done, total)``: units finished so far, out of all units of the job.
Progress = Callable[[int, int], object]
#: Ranges an executor gets when the caller names none.
DEFAULT_SHARDS = 8

R = TypeVar("R")


def shard_ranges(total: int, count: int) -> list[range]:
    """``count`` contiguous, near-equal ranges of ``range(total)`` covering every unit once (empty ones dropped).
    ``count`` is validated (an integer >= 1). O(count)."""
    parts = as_count(count, "shards")
    bounds = np.linspace(0, total, min(parts, max(total, 1)) + 1).round().astype(int)
    return [range(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def fingerprint(*parts: Any) -> str:
    """A 32-hex digest of everything that decides a plan's results: scalars by ``repr``, arrays by bytes and shape
    (``None`` by a marker). Two plans that would compute different values never share one."""
    digest = hashlib.sha256()
    for part in parts:
        if part is None:
            digest.update(b"none|")
        elif isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes() + repr((part.dtype.str, part.shape)).encode() + b"|")
        else:
            digest.update(repr(part).encode() + b"|")
    return digest.hexdigest()[:32]


def progress_bar(label: str | Callable[[int], str] = "mdmsched: working") -> Progress:
    """A one-line stderr bar with elapsed time and ETA, called as ``bar(done, total)``. ``label`` may be a function
    of ``done`` (a job of stages, e.g. ``"block 2/4"``, on one bar with one overall ETA)."""
    start = time.perf_counter()

    def show(done: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        eta = elapsed / done * (total - done) if done else float("nan")
        filled = int(30 * done / max(total, 1))
        text = label(done) if callable(label) else label
        sys.stderr.write(f"\r{text} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}, "
                         f"{elapsed:.0f} s elapsed, ETA {eta:.0f} s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def as_report(progress: Any, label: str | Callable[[int], str], cost: str | None = None) -> Progress | None:
    """The one progress convention: ``False`` -> None, ``True`` -> print ``cost`` (the plan's forward passes, before
    anything runs) and return a :func:`progress_bar` (``label``: text, or a function of ``done``), a callable ->
    itself (called as ``progress(done, total)``). Anything else is a ``TypeError``."""
    if callable(progress):
        report: Progress = progress
        return report
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or a callable(done, total), got {type(progress).__name__}")
    if not progress:
        return None
    if cost:
        sys.stderr.write(f"mdmsched: {cost}\n")
    if callable(label):
        return progress_bar(lambda done: f"mdmsched: {label(done)}")
    return progress_bar(f"mdmsched: {label}")


def stage_report(report: Progress | None, offset: int, total: int) -> Progress | None:
    """``report`` for one stage of a longer job: the stage's ``(done, stage_total)`` reaches it as
    ``(offset + done, total)``, so one bar (or the caller's callable) counts over all stages."""
    if report is None:
        return None
    whole = report

    def shifted(done: int, _stage_total: int) -> None:
        whole(offset + done, total)

    return shifted


def run_shards(job: Callable[..., R], args: Sequence[Any], parts: Sequence[range], *, executor: Executor | None,
               report: Progress | None, total: int) -> list[R]:
    """``job(*args, part)`` for every range of ``parts``, in order: in this process (one range after another) or on
    ``executor`` (all submitted at once; ``job`` and ``args`` must pickle for process pools). ``report(done, total)``
    after each finished range, in units. An exception of any range reaches the caller; the remaining futures are
    cancelled."""
    pool = as_executor(executor)
    results: list[R] = []
    done = 0
    if pool is None:
        for part in parts:
            results.append(job(*args, part))
            done += len(part)
            if report is not None:
                report(done, total)
        return results
    futures = [pool.submit(job, *args, part) for part in parts]
    try:
        for part, future in zip(parts, futures):
            results.append(future.result())
            done += len(part)
            if report is not None:
                report(done, total)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return results


def check_shard_batches(batches: object, num_batches: int) -> range:
    """A shard's ``batches``: a non-empty contiguous ``range`` within ``0..num_batches`` (``ValueError`` otherwise), the
    one check every merge makes before placing a shard's values."""
    if not isinstance(batches, range) or batches.step != 1 or not 0 <= batches.start < batches.stop <= num_batches:
        raise ValueError(f"a shard's batches must be a non-empty contiguous range within 0..{num_batches}, "
                         f"got {batches!r}")
    return batches


def as_run_batches(batches: object, num_batches: int) -> range:
    """The batches one run covers: every batch for ``None``, else a contiguous ``range`` within ``0..num_batches``
    (empty allowed: a shard with nothing to do). ``TypeError`` for anything but a range, ``ValueError`` outside it or
    reversed; the check of the sampler and task shards (the curve estimator's ``run_shard`` keeps its own, which takes
    a reversed range as empty)."""
    if batches is None:
        return range(num_batches)
    if not isinstance(batches, range):
        raise TypeError(f"batches must be a range of batch indices (from plan.shards), got {type(batches).__name__}")
    if batches.step != 1 or not 0 <= batches.start <= batches.stop <= num_batches:
        raise ValueError(f"batches must be a contiguous range within 0..{num_batches}, got {batches!r}")
    return batches


def check_coverage(covered: np.ndarray, what: str = "batch") -> None:
    """Every unit covered exactly once by the merged shards (``ValueError`` naming the first that is not)."""
    if covered.size and (covered != 1).any():
        bad = int(np.flatnonzero(covered != 1)[0])
        raise ValueError(f"shards must cover every {what} exactly once; {what} {bad} is covered {covered[bad]} times")


class RowBatches:
    """What a row-batched plan shares (sampler scoring, task evaluation): ``rows`` rows of generated positions ``free``
    (rows x n, or 1 x n when shared) run in batches of ``batch_size`` rows, cut into shards of whole batches."""

    __slots__ = ()
    if TYPE_CHECKING:  # supplied by the frozen dataclass that mixes this in (a field or a property)
        free: NDArray[np.int64]
        batch_size: int

        @property
        def rows(self) -> int: ...

    @property
    def n(self) -> int:
        """Generated positions per row."""
        return int(self.free.shape[1])

    @property
    def num_batches(self) -> int:
        """Batches of ``batch_size`` rows (the last may be smaller)."""
        return -(-self.rows // self.batch_size)

    def shards(self, count: int) -> list[range]:
        """``count`` contiguous near-equal ranges of batch indices covering every batch once (empty ones dropped)."""
        return shard_ranges(self.num_batches, count)

    def row_span(self, batches: range) -> range:
        """The rows of a contiguous run of ``batches`` (the last batch may be short)."""
        return range(batches.start * self.batch_size, min(batches.stop * self.batch_size, self.rows))


__all__ = ["DEFAULT_SHARDS", "Progress", "RowBatches", "as_report", "as_run_batches", "check_coverage", "check_shard_batches", "fingerprint", "progress_bar", "run_shards",
           "shard_ranges"]
