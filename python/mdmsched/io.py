"""Reading and writing curves, distributions and curve families, task files (JSONL); strict JSON (no NaN/Infinity).

Every reader names the file in its error and raises :class:`FileFormatError` (a ``ValueError``) for a missing or
malformed file, whatever numpy or the json module raised underneath.
"""

from __future__ import annotations

import json
import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validation import as_curve
from .curves.distribution import Distribution
from .samplers.task import Task


class FileFormatError(ValueError):
    """A file that cannot be read as what was asked for (missing, malformed, wrong dtype or shape)."""


#: What numpy, json and zipfile raise on a bad file: reported as one FileFormatError naming the file.
#: EOFError: an empty .npy; BadZipFile: a truncated .npz; KeyError: a missing array inside an .npz.
READ_ERRORS = (ValueError, TypeError, OSError, MemoryError, EOFError, OverflowError, KeyError, zipfile.BadZipFile,
               RecursionError)


def _real_array(data: Any, path: str, what: str) -> NDArray[np.float64]:
    """``data`` as float64, refusing complex/object/string arrays instead of silently dropping imaginary parts."""
    arr = np.asarray(data)
    if arr.dtype.kind not in "iuf":
        raise FileFormatError(f"{path} must hold real numbers for {what}, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)


def strict_json(payload: Any) -> str:
    """Strict JSON (no NaN/Infinity): non-finite numbers become ``null`` and are listed under ``"notes"``."""
    paths: list[str] = []
    open_containers: set[int] = set()  # ids on the current path: a container inside itself has no JSON form

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, (dict, list, tuple)):
            if id(value) in open_containers:
                raise ValueError(f"payload contains itself at {path or 'the top'}: no JSON form")
            if len(open_containers) > 200:
                raise ValueError(f"payload is nested more than 200 levels deep at {path}")
            open_containers.add(id(value))
            try:
                if isinstance(value, dict):
                    return {key: clean(item, f"{path}.{key}" if path else str(key)) for key, item in value.items()}
                return [clean(item, f"{path}[{i}]") for i, item in enumerate(value)]
            finally:
                open_containers.discard(id(value))
        if isinstance(value, float) and not math.isfinite(value):
            paths.append(f"{path} = {value!r}")
            return None
        return value

    out = clean(payload, "")
    if paths and isinstance(out, dict):
        out["notes"] = ["non-finite values encoded as null: " + ", ".join(paths)]
    return json.dumps(out, allow_nan=False)


def _existing_file(path: str, what: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise FileFormatError(f"no such {what} file: {path}")
    return file


def _load_npy(file: Path) -> Any:
    with file.open("rb") as handle:  # our handle: numpy leaks its own when a corrupt zip fails to open
        return np.load(handle, allow_pickle=False)


def load_curve(path: str) -> NDArray[np.float64]:
    """A curve from ``.npy``, ``.csv``/``.txt`` (numbers separated by commas or white space) or ``.json`` (a list,
    or an object with key ``Z``): finite numbers (a NaN or infinity is a :class:`FileFormatError`; monotonicity is
    the solver's check, so noisy curves load)."""
    curve = _load_curve_values(path)
    if curve.size and not np.isfinite(curve).all():
        raise FileFormatError(f"{path} holds a non-finite value (NaN or infinity); a curve is finite nats")
    return curve


def _load_curve_values(path: str) -> NDArray[np.float64]:
    file = _existing_file(path, "curve")
    try:
        if file.suffix == ".npy":
            return _real_array(_load_npy(file), path, "a curve")
        if file.suffix == ".json":
            data = json.loads(file.read_text())
            if isinstance(data, dict):
                data = data.get("Z", data.get("curve"))
            return _real_array(data, path, "a curve")
        text = file.read_text().replace(",", " ")
        return np.asarray([float(tok) for tok in text.split()], dtype=np.float64)
    except FileFormatError:
        raise
    except READ_ERRORS as exc:
        raise FileFormatError(f"cannot read a curve from {path}: {exc}") from None


def load_distribution(path: str) -> NDArray[np.float64] | Distribution:
    """A distribution: ``.npy`` float tensor (dense) or integer N x n array (samples); ``.npz`` with ``outcomes`` and
    ``probs`` (support) or ``samples``; ``.csv``/``.txt`` integer rows (samples)."""
    file = _existing_file(path, "distribution")
    try:
        if file.suffix == ".npy":
            data = _load_npy(file)
            return Distribution.from_samples(data) if data.dtype.kind in "iu" else _real_array(data, path, "a tensor")
        if file.suffix == ".npz":
            with file.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
                if "outcomes" in archive and "probs" in archive:
                    return Distribution.from_support(archive["outcomes"], archive["probs"])
                if "samples" in archive:
                    return Distribution.from_samples(archive["samples"])
            raise FileFormatError(f"{path} must hold arrays 'outcomes' and 'probs', or 'samples'")
        with warnings.catch_warnings():  # an empty file warns, then fails below: one line, not a warning plus one
            warnings.simplefilter("ignore")
            rows = np.loadtxt(file, delimiter="," if file.suffix == ".csv" else None, dtype=np.int64, ndmin=2)
        return Distribution.from_samples(rows)
    except FileFormatError:
        raise
    except READ_ERRORS as exc:
        raise FileFormatError(f"cannot read a distribution from {path}: {exc}") from None


def save_curve(z: NDArray[np.float64], path: str) -> None:
    """Write a curve as ``.npy``, ``.json`` or text (one value per line); ``z`` is validated as every curve input is
    (a file the solver would refuse is never written)."""
    z = as_curve(z)
    file = Path(path)
    if file.suffix == ".npy":
        np.save(file, z)
    elif file.suffix == ".json":
        file.write_text(strict_json({"Z": z.tolist()}))
    else:
        file.write_text("\n".join(repr(float(v)) for v in z) + "\n")


def load_curve_family(path: str) -> dict[int, NDArray[np.float64]]:
    """Per-length curves: ``.npz`` with one array per length (key ``"256"`` or ``"n256"``; the key must equal the
    array's length) or ``.json`` ``{"256": [...], ...}``."""
    file = Path(path)
    if not file.is_file():
        raise FileFormatError(f"no such curve family file: {path}")
    try:
        if file.suffix == ".npz":
            with file.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
                raw = {key: _real_array(archive[key], path, f"the curve {key!r}") for key in archive.files}
        elif file.suffix == ".json":
            data = json.loads(file.read_text())
            if not isinstance(data, dict):
                raise FileFormatError(f"{path} must hold a JSON object {{length: curve}}")
            raw = {key: _real_array(value, path, f"the curve {key!r}") for key, value in data.items()}
        else:
            raise FileFormatError(f"a curve family must be .npz or .json, got {path}")
        family = {int(key.lstrip("n")): z for key, z in raw.items()}
    except FileFormatError:
        raise
    except READ_ERRORS as exc:
        raise FileFormatError(f"cannot read a curve family from {path}: {exc}") from None
    for length, z in family.items():
        if z.ndim != 1 or z.size != length:
            raise FileFormatError(f"{path}: the curve for length {length} has shape {z.shape}, expected ({length},)")
    return family


#: Largest task file read (bytes): one JSON object per line, prompts of at most a few thousand tokens.
MAX_TASK_BYTES = 1 << 30


def load_task_jsonl(path: str, score: Any = "exact", samples_per_prompt: int = 1, decode: Any = None) -> Task:
    """A :class:`~mdmsched.samplers.Task` from a JSONL file, one object per line (blank lines skipped, other keys
    ignored)::

        {"prompt": [ints, the full row], "reference": [ints] or "text", "region": [start, stop]}

    ``region`` is the half-open span of generated positions ``prompt[start:stop]`` (the prompt's tokens there are
    placeholders); ``reference`` is the full true row, just its generated tokens, or a string (``regex:`` scores).
    Every prompt must have the same length and the same number of generated positions; at least 2 lines.
    :class:`FileFormatError` names the file and line. O(file size)."""
    file = _existing_file(path, "task")
    if file.stat().st_size > MAX_TASK_BYTES:
        raise FileFormatError(f"{path} is larger than {MAX_TASK_BYTES} bytes")
    prompts: list[list[int]] = []
    references: list[Any] = []
    regions: list[tuple[int, int]] = []
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileFormatError(f"{path} is not UTF-8 text: {err}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            item = json.loads(line)
        except (ValueError, RecursionError) as err:  # RecursionError: nested too deeply to parse
            raise FileFormatError(f"{where}: not JSON ({type(err).__name__}: {str(err)[:200]})") from None
        if not isinstance(item, dict) or not {"prompt", "reference", "region"} <= item.keys():
            raise FileFormatError(f'{where}: expected an object with "prompt", "reference" and "region"')
        prompt, reference, region = item["prompt"], item["reference"], item["region"]
        if not isinstance(prompt, list) or not prompt or not all(_is_token(v) for v in prompt):
            raise FileFormatError(f'{where}: "prompt" must be a non-empty list of token ids >= 0')
        if not (isinstance(reference, str) or (isinstance(reference, list) and reference
                                               and all(_is_token(v) for v in reference))):
            raise FileFormatError(f'{where}: "reference" must be a list of token ids >= 0 or a string')
        if not (isinstance(region, list) and len(region) == 2 and all(_is_token(v) for v in region)
                and region[0] < region[1] <= len(prompt)):
            raise FileFormatError(f'{where}: "region" must be [start, stop] with 0 <= start < stop <= '
                                  f"{len(prompt)} (the prompt's length)")
        if prompts and (len(prompt) != len(prompts[0]) or region[1] - region[0] != regions[0][1] - regions[0][0]):
            raise FileFormatError(f"{where}: every prompt must have the length ({len(prompts[0])}) and the "
                                  f"generated span ({regions[0][1] - regions[0][0]}) of the first")
        prompts.append(prompt)
        references.append(reference if isinstance(reference, str) else np.array(reference, dtype=np.int64))
        regions.append((region[0], region[1]))
    if len(prompts) < 2:
        raise FileFormatError(f"{path} must hold at least 2 task lines, got {len(prompts)}")
    rows = np.array(prompts, dtype=np.int64)
    marks = np.zeros(rows.shape, dtype=bool)
    for r, (start, stop) in enumerate(regions):
        marks[r, start:stop] = True
    return Task(rows, score, references, marks, samples_per_prompt, decode)


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


__all__ = ["MAX_TASK_BYTES", "FileFormatError", "load_curve", "load_curve_family", "load_distribution", "load_task_jsonl", "save_curve", "strict_json"]
