"""The Python standard library's own ``.py`` sources as byte data, split by file (no torch, no model).

The corpus is the interpreter's ``sysconfig.get_paths()["stdlib"]``, without the test suites (``test/``, ``tests/``,
``idle_test/``, ``*/test_*.py``) and without ``site-packages`` / ``dist-packages``. Each file goes to one split, chosen
by the SHA-256 of its path relative to the stdlib root (``/``-separated): the first 8 bytes as an integer modulo 100
below 80 -> train, below 90 -> validation, else test. The split is deterministic, independent of file order and of the
machine, and disjoint by construction (a file has one path, so one hash).

Bytes are the alphabet: ids 0..255; :data:`MASK_ID` = 256 is the mask.
"""

from __future__ import annotations

import hashlib
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["MASK_ID", "SPLITS", "VOCAB", "Corpus", "corpus_files", "load_corpus", "sample_windows", "split_of"]

VOCAB = 256
MASK_ID = 256
SPLITS = ("train", "validation", "test")
#: Directory names whose files are tests (the stdlib's own test suites) or third-party code.
_EXCLUDED_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"})


def split_of(relative_path: str) -> str:
    """The split of a file: SHA-256 of its ``/``-separated path relative to the stdlib root, first 8 bytes big-endian,
    modulo 100: ``< 80`` train, ``< 90`` validation, else test (80 / 10 / 10 by file)."""
    if not isinstance(relative_path, str):
        raise TypeError(f"relative_path must be a str, got {type(relative_path).__name__}")
    bucket = int.from_bytes(hashlib.sha256(relative_path.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


def _excluded(relative: Path) -> bool:
    """Test suites and third-party packages are not the standard library's own source."""
    return any(part in _EXCLUDED_DIRS for part in relative.parts[:-1]) or relative.name.startswith("test_")


def corpus_files(root: str | Path | None = None) -> list[str]:
    """Sorted ``/``-separated relative paths of the corpus's ``.py`` files under ``root`` (default: this
    interpreter's stdlib)."""
    base = Path(sysconfig.get_paths()["stdlib"] if root is None else root)
    if not base.is_dir():
        raise ValueError(f"root must be a directory, got {str(base)!r}")
    out = []
    for path in base.rglob("*.py"):
        relative = path.relative_to(base)
        if path.is_file() and not _excluded(relative):
            out.append(relative.as_posix())
    return sorted(out)


@dataclass(frozen=True)
class Corpus:
    """The corpus by split: ``files[split]`` relative paths, ``data[split]`` the files' bytes concatenated (uint8)
    and ``starts[split]`` each file's offset into it (one more entry than files: the end)."""

    root: str
    python: str
    files: dict[str, list[str]] = field(repr=False)
    data: dict[str, NDArray[np.uint8]] = field(repr=False)
    starts: dict[str, NDArray[np.int64]] = field(repr=False)

    def summary(self) -> dict[str, object]:
        """Python version, file and byte counts per split (what the record states)."""
        return {"python": self.python, "root": self.root,
                "files": {s: len(self.files[s]) for s in SPLITS},
                "bytes": {s: int(self.data[s].size) for s in SPLITS},
                "total_files": sum(len(self.files[s]) for s in SPLITS),
                "total_bytes": int(sum(self.data[s].size for s in SPLITS))}

    def file_bytes(self, split: str, index: int) -> bytes:
        """The bytes of ``files[split][index]``."""
        s = self.starts[split]
        return self.data[split][s[index]:s[index + 1]].tobytes()


def load_corpus(root: str | Path | None = None) -> Corpus:
    """Read every corpus file (about 13 MB on Python 3.11) into per-split byte arrays."""
    base = Path(sysconfig.get_paths()["stdlib"] if root is None else root)
    files: dict[str, list[str]] = {s: [] for s in SPLITS}
    for rel in corpus_files(base):
        files[split_of(rel)].append(rel)
    data, starts = {}, {}
    for s in SPLITS:
        blobs = [(base / rel).read_bytes() for rel in files[s]]
        starts[s] = np.concatenate([[0], np.cumsum([len(b) for b in blobs], dtype=np.int64)]).astype(np.int64)
        data[s] = np.frombuffer(b"".join(blobs), dtype=np.uint8).copy()
    python = ".".join(map(str, sys.version_info[:3]))
    return Corpus(root=str(base), python=python, files=files, data=data, starts=starts)


def sample_windows(data: NDArray[np.uint8], count: int, length: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """``count`` windows of ``length`` consecutive bytes at uniform random offsets of ``data`` (``count x length``
    int64). Windows may straddle two files of one split, as in any concatenated-corpus training."""
    if data.size < length:
        raise ValueError(f"length must be at most the data size {data.size}, got {length}")
    offsets = rng.integers(0, data.size - length + 1, size=count)
    return data[offsets[:, None] + np.arange(length)].astype(np.int64)
