"""The model interface: what ``estimate_curve``, ``simulate`` and ``expected_kl`` ask of a masked diffusion model.

A *masked model* answers, for a batch of partially masked rows, **one number per position** (SPEC §5.1):

* ``target="cross_entropy"`` (the default): ``-log q(x_i | x_revealed)`` at the row's true token ``x_i``, in nats. Averaged
  over data rows this is the masked cross-entropy ``g_m``, whose curve ``Z^g`` decides a learned model's sampling error.
* ``target="entropy"``: the predictive entropy ``H(q(. | x_revealed))`` in nats, for the model's self-curve ``h^q``.

Values at revealed positions are ignored. A model that can also draw tokens (``sample``) drives :func:`mdmsched.simulate`.
Plain predictors -- callables returning full ``(B, n, q)`` probabilities -- keep working through :class:`ProbabilityModel`,
which reduces them to per-position numbers in chunks, in the caller's dtype, without a float64 copy of the array.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import (
    as_choice,
    as_count,
    as_flag,
    as_generator,
    as_tokens,
    probability_tolerance,
    require_memory,
)
from .state_scores import StateScores, check_state_scores, scores_from_probabilities

Target = Literal["cross_entropy", "entropy"]
#: The per-position quantities a model can return (one name per idea: ``target=`` everywhere).
TARGETS: tuple[Target, ...] = ("cross_entropy", "entropy")

#: Largest number of probability cells reduced at once by :class:`ProbabilityModel` (bounds its scratch memory).
CHUNK_CELLS = 1 << 20
#: Largest per-position score (nats) :func:`check_scores` accepts: far above any float32/float64 log-loss
#: (``-log`` of the smallest double is 745), small enough that sums over any batch, row and step stay finite.
MAX_SCORE = 1e100
#: Largest ``vocab_size`` a :class:`ProbabilityModel` takes (token ids of real tokenizers fit in 32 bits).
MAX_VOCAB = 2**32


@runtime_checkable
class MaskedModel(Protocol):
    """``score(tokens (B x n int), mask (B x n bool, True = masked), target) -> (B x n)`` nats per position."""

    def score(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_],
              target: Target = "cross_entropy") -> NDArray[np.floating[Any]]: ...


@runtime_checkable
class SamplingModel(MaskedModel, Protocol):
    """A masked model that can also draw each masked position independently from its conditional."""

    def sample(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_],
               rng: np.random.Generator) -> NDArray[np.int64]: ...


@runtime_checkable
class StateModel(Protocol):
    """``score_states(tokens (B x n int), mask (B x n bool, True = masked), *, nll, rng[, where][, uniforms]) ->
    StateScores``: one forward pass giving every score a position-choosing rule and the teacher-forced log-loss need
    (SPEC §5.2).

    Two optional keywords: ``where`` (bools ``(B, n)``, a subset of ``mask``) names the positions whose scores are
    wanted (the current block's candidates): a model that accepts it reduces its outputs there only (zeros elsewhere),
    which keeps a step's cost near the peers' own; ``uniforms`` (B x n floats in [0, 1), one per position: the draw at
    a scored position is the inverse CDF there) lets the sampling loop give every row its own random stream in one
    batched call. A model without ``where`` is scored at every masked position; one without ``uniforms`` is called one
    row at a time when per-row streams are asked for."""

    def score_states(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], *, nll: bool = True,
                     rng: np.random.Generator | None = None) -> StateScores: ...


def check_uniforms(uniforms: Any, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per-position uniforms for draws: a float array of the mask's shape with values in [0, 1) at masked positions
    (``TypeError`` for a non-real array, ``ValueError`` naming ``uniforms`` otherwise). O(B n)."""
    arr = np.asarray(uniforms)
    if arr.dtype.kind != "f":
        raise TypeError(f"uniforms must be a float array, got dtype {arr.dtype}")
    if arr.shape != np.shape(mask):
        raise ValueError(f"uniforms must have the mask's shape {np.shape(mask)}, got {arr.shape}")
    picked = arr[mask]
    if picked.size and not (np.isfinite(picked).all() and picked.min() >= 0.0 and picked.max() < 1.0):
        raise ValueError("uniforms must lie in [0, 1) at masked positions")
    return np.asarray(arr, dtype=np.float64)


def model_inputs(tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Fresh, writable copies of a batch to hand a model or predictor: the one place every loop (estimates, the
    sampler, :class:`ProbabilityModel`) passes its inputs through. A model may overwrite them in place (the common
    ``tokens[mask] = MASK_ID``) without changing the true tokens and mask the caller reads afterwards. O(B n)."""
    return np.array(as_tokens(tokens, "tokens"), copy=True), np.array(mask, dtype=np.bool_, order="C", copy=True)


def as_batch(tokens: Any, mask: Any) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """A model's input batch checked: integer token ids ``(B, n)`` below ``2**63`` (``_validation.as_tokens``) and a
    bool mask of the same shape (``True`` = masked). O(B n)."""
    ids = as_tokens(tokens, "tokens")
    marks = np.asarray(mask)
    if marks.dtype != np.bool_:
        raise TypeError(f"mask must be a bool array (True = masked), got dtype {marks.dtype}")
    if ids.ndim != 2 or marks.shape != ids.shape:
        raise ValueError(f"tokens and mask must be (B, n) arrays of one shape, got {ids.shape} and {marks.shape}")
    return ids, marks


def as_where(where: object, shape: tuple[int, ...]) -> NDArray[np.bool_]:
    """The positions to score: bools of the mask's ``shape`` (``TypeError`` / ``ValueError`` otherwise). O(B n)."""
    marks = np.asarray(where)
    if marks.dtype != np.bool_:
        raise TypeError(f"where must be a bool array (True = score this position), got dtype {marks.dtype}")
    if marks.shape != tuple(shape):
        raise ValueError(f"where must have the mask's shape {tuple(shape)}, got {marks.shape}")
    return marks


def as_target(target: object) -> Target:
    """Validated ``target`` name (``"cross_entropy"`` or ``"entropy"``)."""
    return as_choice(target, "target", TARGETS)  # type: ignore[return-value]


class ProbabilityModel:
    """A :class:`MaskedModel` from a predictor ``predict(tokens, mask) -> probs (B x n x q)``.

    ``probs`` may be float16/32/64 and any layout; it is never upcast as a whole. Cross-entropy reads one probability per
    masked position (a gather); entropy reduces ``-sum p log p`` over masked rows in chunks of at most
    ``CHUNK_CELLS`` cells, in the array's own dtype, accumulating in float64 per row. Output checks: shape
    ``(B, n, q)``, real dtype; at masked positions the probabilities read must be finite, in ``[0, 1]`` and (entropy:
    every masked row; cross-entropy: a spot check of up to ``check_rows`` masked rows per call) sum to 1 within
    ``_validation.probability_tolerance(dtype, q)`` (the package's one "sums to 1" rule). Rows at revealed positions
    are never read. ``vocab_size`` (if known) lets the memory check run before the first call. Cost per call: O(B n) for cross-entropy, O(masked * q) for entropy.
    """

    def __init__(self, predict: Callable[[NDArray[np.int64], NDArray[np.bool_]], Any], *,
                 vocab_size: int | None = None, check_rows: int = 32) -> None:
        if not callable(predict):
            raise TypeError(f"predict must be callable, got {type(predict).__name__}")
        self.predict = predict
        # a vocabulary beyond 2**32 symbols is a typo: every call would need vocab_size * 8 bytes per position
        self.vocab_size = None if vocab_size is None else as_count(vocab_size, "vocab_size", 1, MAX_VOCAB)
        self.check_rows = as_count(check_rows, "check_rows")
        self.n = getattr(predict, "n", None)

    def __repr__(self) -> str:
        return f"ProbabilityModel({self.predict!r})"

    def _probabilities(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.floating[Any]]:
        batch, n = tokens.shape
        if self.vocab_size is not None:
            require_memory(batch * n * self.vocab_size * 8, f"the predictor's (B={batch}, n={n}, q) output")
        probs = _as_array(self.predict(*model_inputs(tokens, mask)), "predictor")
        if probs.dtype.kind not in "iuf":
            raise TypeError(f"predictor returned dtype {probs.dtype}; expected real probabilities")
        if probs.ndim != 3 or probs.shape[:2] != (batch, n) or probs.shape[2] < 1:
            raise ValueError(f"predictor returned shape {probs.shape}; expected ({batch}, {n}, q)")
        if self.vocab_size is None:  # from now on the memory check can run before each call, and q is fixed
            self.vocab_size = int(probs.shape[2])
        elif probs.shape[2] != self.vocab_size:  # a vocabulary that changes between calls, or contradicts vocab_size=
            raise ValueError(f"predictor returned {probs.shape[2]} probabilities per position; expected vocab_size = "
                             f"{self.vocab_size} (given, or seen on an earlier call)")
        return probs

    def score(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_],
              target: Target = "cross_entropy") -> NDArray[np.float64]:
        """Per-position ``-log q(x_i | revealed)`` or ``H(q(. | revealed))`` (nats) at masked positions, 0 elsewhere."""
        target = as_target(target)
        tokens, mask = as_batch(tokens, mask)
        probs = self._probabilities(tokens, mask)
        rows, cols = np.nonzero(mask)
        out = np.zeros(tokens.shape)
        if rows.size == 0:
            return out
        q = probs.shape[2]
        tol = probability_tolerance(probs.dtype, q)
        if target == "cross_entropy":
            true = tokens[rows, cols]
            if (true < 0).any() or (true >= q).any():
                raise ValueError(f"tokens at masked positions must be symbols 0..{q - 1} of the predictor's alphabet")
            picked = np.asarray(probs[rows, cols, true], dtype=np.float64)  # B*n values: the only full-size read
            _check_values(picked)
            spot = np.linspace(0, rows.size - 1, min(rows.size, self.check_rows)).astype(np.int64)
            _check_sums(probs[rows[spot], cols[spot]], tol)
            with np.errstate(divide="ignore"):
                out[rows, cols] = -np.log(picked)  # a true token of probability 0 costs +inf nats: honest
            return out
        step = max(1, CHUNK_CELLS // q)
        for lo in range(0, rows.size, step):
            chunk = probs[rows[lo:lo + step], cols[lo:lo + step]]  # (chunk, q) in the caller's dtype
            if chunk.dtype.kind != "f":  # integer (one-hot) probabilities: the logs need a float chunk
                chunk = chunk.astype(np.float64)
            _check_values(chunk)
            _check_sums(chunk, tol)
            logs = np.zeros_like(chunk)
            np.log(chunk, out=logs, where=chunk > 0)  # 0 log 0 = 0; one scratch array of the chunk's dtype
            out[rows[lo:lo + step], cols[lo:lo + step]] = -np.einsum("ij,ij->i", chunk, logs, dtype=np.float64)
        return out

    def score_states(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], *, nll: bool = True,
                     rng: np.random.Generator | None = None, uniforms: NDArray[np.float64] | None = None,
                     where: NDArray[np.bool_] | None = None) -> StateScores:
        """One predictor call: the state scores (max probability, margin, entropy; SPEC §5.2) at every masked position
        of ``where`` (default: every masked position), with ``-log q(x_i | revealed)`` at the row's tokens when
        ``nll`` and one independent draw per such position when ``rng`` or ``uniforms`` is given (zeros elsewhere).
        ``uniforms`` (B x n float64 in [0, 1), read at scored positions): the draw at ``(b, i)`` is the inverse CDF at
        ``uniforms[b, i]``, so a caller can give each row its own stream (:func:`~mdmsched.samplers.loop.run_rule`'s
        ``draw_rngs``); it replaces ``rng``. Chunked like :meth:`score`: each chunk of at most ``CHUNK_CELLS`` cells is
        copied to float64 on its own (never the whole ``(B, n, q)`` array). O(scored * q)."""
        if rng is not None:
            rng = as_generator(rng)
        nll = as_flag(nll, "nll")
        tokens, mask = as_batch(tokens, mask)
        given = None if uniforms is None else check_uniforms(uniforms, mask)
        scored = mask if where is None else mask & as_where(where, mask.shape)
        probs = self._probabilities(tokens, mask)
        rows, cols = np.nonzero(scored)
        q = probs.shape[2]
        truth = None
        if nll:
            truth = np.asarray(tokens)[rows, cols]
            if truth.size and ((truth < 0).any() or (truth >= q).any()):
                raise ValueError(f"tokens at masked positions must be symbols 0..{q - 1} of the predictor's alphabet")
        if given is not None:
            draws_u: NDArray[np.float64] | None = given[rows, cols]
        else:  # one per scored position, row-major order
            draws_u = None if rng is None else rng.random(rows.size)
        tol = probability_tolerance(probs.dtype, q)
        step = max(1, CHUNK_CELLS // q)
        out = StateScores.zeros(mask.shape, nll=nll, draws=draws_u is not None)
        for lo in range(0, rows.size, step):
            r, c = rows[lo:lo + step], cols[lo:lo + step]
            chunk = np.asarray(probs[r, c], dtype=np.float64)  # (chunk, q): the only float64 copy, chunk-sized
            _check_values(chunk)
            sums = _check_sums(chunk, tol)
            scores_from_probabilities(chunk, sums, out, r, c, None if truth is None else truth[lo:lo + step],
                                      None if draws_u is None else draws_u[lo:lo + step])
        return out

    def sample(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_], rng: np.random.Generator) -> NDArray[np.int64]:
        """Each masked position drawn independently from the predicted distribution; revealed positions kept.
        ``rng`` must be a ``numpy.random.Generator`` (``TypeError`` otherwise)."""
        rng = as_generator(rng)
        tokens, mask = as_batch(tokens, mask)
        probs = self._probabilities(tokens, mask)
        rows, cols = np.nonzero(mask)
        out = np.array(tokens, dtype=np.int64, copy=True)
        q = probs.shape[2]
        tol = probability_tolerance(probs.dtype, q)
        step = max(1, CHUNK_CELLS // q)
        for lo in range(0, rows.size, step):
            chunk = np.asarray(probs[rows[lo:lo + step], cols[lo:lo + step]], dtype=np.float64)
            _check_values(chunk)
            sums = _check_sums(chunk, tol)
            cumulative = np.cumsum(chunk, axis=1)
            u = rng.random(chunk.shape[0]) * sums  # draw against the row's own total: rounding never picks a 0 cell
            draws = (u[:, None] >= cumulative).sum(axis=1)
            out[rows[lo:lo + step], cols[lo:lo + step]] = np.minimum(draws, q - 1)
        return out


def _check_values(values: NDArray[Any]) -> None:
    lowest, highest = float(np.min(values)), float(np.max(values))  # NaN propagates through min/max
    if not (np.isfinite(lowest) and np.isfinite(highest)):
        raise ValueError("predictor returned NaN or infinite probabilities at masked positions")
    if lowest < 0:
        raise ValueError(f"predictor returned negative probabilities ({lowest!r}) at masked positions")
    if highest > 1 + 1e-6:
        raise ValueError(f"predictor returned probabilities above 1 ({highest!r}) at masked positions")


def _check_sums(rows: NDArray[Any], tol: float) -> NDArray[np.float64]:
    sums: NDArray[np.float64] = np.asarray(np.sum(rows, axis=1, dtype=np.float64))
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > tol:
        raise ValueError(f"predictor returned unnormalised probabilities at a masked position (a row sums to "
                         f"{float(sums[worst])!r})")
    return sums


def _as_array(values: object, who: str) -> NDArray[Any]:
    """``np.asarray(values)``, with numpy's failures on ragged or exotic objects reported as ``who``'s output."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{who} returned {type(values).__name__} that is not an array: {err}") from None


def _as_model(model: object, protocol: type, method: str) -> Any:
    """``model`` as is when it follows ``protocol``; a plain predictor callable wrapped in :class:`ProbabilityModel`."""
    if isinstance(model, protocol):
        return model
    if callable(model):
        return ProbabilityModel(model)
    raise TypeError(f"model must have a {method} method or be a predictor callable (tokens, mask) -> probs, got "
                    f"{type(model).__name__}")


def as_state_model(model: object) -> StateModel:
    """A :class:`StateModel` as is; a plain predictor callable wrapped in :class:`ProbabilityModel`."""
    wrapped: StateModel = _as_model(model, StateModel, "score_states(tokens, mask, nll=, rng=)")
    return wrapped


def as_masked_model(model: object) -> MaskedModel:
    """A :class:`MaskedModel` as is; a plain predictor callable wrapped in :class:`ProbabilityModel`."""
    wrapped: MaskedModel = _as_model(model, MaskedModel, "score(tokens, mask, target)")
    return wrapped


def check_samples(values: object, tokens: NDArray[np.int64], used: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Validate what ``sample`` returned: integer token ids of the shape of ``tokens``, ``>= 0`` where ``used`` (the
    positions the sampler keeps). The one check of both sampler loops (``simulate``, ``torch.generate``). O(B n)."""
    drawn = _as_array(values, "model.sample")
    if drawn.shape != tokens.shape or drawn.dtype.kind not in "iu":
        raise ValueError(f"model.sample returned {drawn.dtype} {drawn.shape}; expected integer token ids {tokens.shape}")
    if used.any() and int(drawn[used].min()) < 0:
        raise ValueError("model.sample returned negative token ids at masked positions")
    return np.asarray(drawn, dtype=np.int64)


def check_scores(values: object, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Validate what ``score`` returned: shape (B, n), real, and at masked positions finite, >= 0 (nats; rounding
    noise down to ``-1e-9`` relative is clamped to 0) and <= :data:`MAX_SCORE`. ``mask`` must be bool; B may be 0.

    Returns the float64 values at masked positions as a (B, n) array with zeros elsewhere (O(B n)).
    """
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be a bool array (True = masked), got dtype {mask.dtype}")
    arr = _as_array(values, "model.score")
    if arr.dtype.kind not in "iuf":  # a wrong kind of output (bool, complex, strings, objects, dates)
        raise TypeError(f"model.score returned dtype {arr.dtype}; expected real numbers (nats)")
    if arr.shape != mask.shape:
        raise ValueError(f"model.score returned shape {arr.shape}; expected {mask.shape} (one number per position)")
    out = np.where(mask, arr, 0.0)
    if out.dtype != np.float64:
        out = out.astype(np.float64)
    if out.size == 0:
        return out
    lowest, highest = float(out.min()), float(out.max())
    if not (np.isfinite(lowest) and np.isfinite(highest)):
        raise ValueError("model.score returned NaN or an infinite value at a masked position (a true token of "
                         "probability 0 has infinite cross-entropy)")
    if highest > MAX_SCORE:
        raise ValueError(f"model.score returned {highest!r} nats at a masked position, above {MAX_SCORE:g}: not a "
                         "log-loss or entropy (sums of such values overflow)")
    if lowest < -1e-9 * max(1.0, abs(highest)):
        raise ValueError(f"model.score returned a negative value ({lowest!r}) at a masked position; "
                         "log-losses and entropies are >= 0")
    np.maximum(out, 0.0, out=out)
    return out


# ---- probability predictors (the older (B, n, q) interface) --------------------------------------------------------


class Predictor(Protocol):
    """``predict(tokens (B x n int), mask (B x n bool, True = masked)) -> probs (B x n x q)``."""

    def __call__(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.float64]: ...


class ExactModel(Predictor, Protocol):
    """A predictor that also knows its distribution exactly: it can sample and score sequences."""

    n: int

    def sample(self, count: int, rng: np.random.Generator) -> NDArray[np.int64]: ...

    def log_prob(self, tokens: NDArray[np.int64]) -> NDArray[np.float64]: ...

    def log_marginal(self, tokens: NDArray[np.int64], positions: NDArray[np.int64]) -> NDArray[np.float64]: ...


def check_batch(tokens: ArrayLike, mask: ArrayLike, n: int, q: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Validate a predictor's input: tokens (B x n, symbols 0..q-1) and a mask of the same shape."""
    t, m = np.asarray(tokens), np.asarray(mask)
    if t.dtype.kind not in "iu" or t.ndim != 2 or t.shape[1] != n:
        raise ValueError(f"tokens must be a B x {n} integer array, got {t.dtype} of shape {t.shape}")
    if m.shape != t.shape:
        raise ValueError(f"mask must have the shape of tokens {t.shape}, got {m.shape}")
    if t.size and ((t < 0).any() or (t >= q).any()):
        raise ValueError(f"tokens must be symbols 0..{q - 1}")
    return t.astype(np.int64), m.astype(bool)


__all__ = [
    "CHUNK_CELLS",
    "MAX_SCORE",
    "TARGETS",
    "ExactModel",
    "MaskedModel",
    "Predictor",
    "ProbabilityModel",
    "SamplingModel",
    "StateModel",
    "StateScores",
    "Target",
    "as_batch",
    "as_masked_model",
    "as_state_model",
    "as_target",
    "as_where",
    "check_batch",
    "check_samples",
    "check_scores",
    "check_state_scores",
    "check_uniforms",
    "model_inputs",
]
