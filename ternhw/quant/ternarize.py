"""Ternarization: float weights -> trits {-1, 0, +1} and scales.

Three methods, each with per-tensor, per-output-channel or per-group scales:

``absmean`` (BitNet b1.58, arXiv 2402.17764)
    ``s = mean|W|``, ``T = clip(round(W / (s + eps)), -1, 1)``; the dead-zone threshold is
    ``0.5 s`` (``round`` is half-to-even, so ``|W| = 0.5 s`` exactly rounds to 0).
``twn`` (Ternary Weight Networks, arXiv 1605.04711)
    ``delta = 0.7 mean|W|``, ``T = sign(W) [|W| > delta]``, ``s = mean(|W| where |W| > delta)``.
``ttq`` (Trained Ternary Quantization, arXiv 1612.01064), post-training form
    ``delta = 0.05 max|W|``, ``T = sign(W) [|W| > delta]``, with separate positive and negative
    scales ``Wp = mean(W where W > delta)``, ``Wn = mean(-W where W < -delta)``, so that
    ``W ~ Wp [T = +1] - Wn [T = -1]`` (TTQ learns these; we start from their closed form).

Weights are ``(out_features, in_features)`` matrices, as in PyTorch's ``nn.Linear``; a group is a
run of ``group_size`` consecutive input columns within one output row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FormatError

METHODS = ("absmean", "twn", "ttq")
GRANULARITIES = ("tensor", "channel", "group")
#: Guards the absmean division for an all-zero block (BitNet's epsilon).
ABSMEAN_EPS = 1e-5
#: float32 limits of a stored scale: the largest finite and the smallest (subnormal) value.
F32_MAX = float(np.finfo(np.float32).max)
F32_MIN = float(np.finfo(np.float32).smallest_subnormal)


@dataclass(frozen=True, eq=False)
class TernaryTensor:
    """A ternarized weight matrix.

    Attributes
    ----------
    trits : ndarray of int8, shape (rows, cols)
        Ternary codes in {-1, 0, +1}.
    pos_scale, neg_scale : ndarray of float32, shape (R, G)
        Value of a +1 and magnitude of a -1 weight. ``R`` is 1 for per-tensor scales and
        ``rows`` otherwise; ``G`` is the number of column groups. Identical arrays for the
        symmetric methods.
    threshold : ndarray of float64, shape (R, G)
        Dead-zone threshold in weight units: ``|W|`` above it becomes +-1.
    group_size : int
        Columns per scale group (``cols`` for per-tensor and per-channel scales).
    method, granularity : str
        How the tensor was made; ``"imported"`` for tensors read from a quantized file.
    """

    trits: np.ndarray
    pos_scale: np.ndarray
    neg_scale: np.ndarray
    threshold: np.ndarray
    group_size: int
    method: str
    granularity: str

    @property
    def shape(self) -> tuple[int, int]:
        return self.trits.shape

    @property
    def size(self) -> int:
        return int(self.trits.size)

    @property
    def symmetric(self) -> bool:
        return self.pos_scale is self.neg_scale or np.array_equal(self.pos_scale, self.neg_scale)

    def expand(self, per_group: np.ndarray) -> np.ndarray:
        """Broadcast an ``(R, G)`` per-group array to the full ``(rows, cols)`` shape."""
        rows, cols = self.shape
        full = np.repeat(per_group, self.group_size, axis=1)[:, :cols]
        return np.broadcast_to(full, (rows, cols))

    def dequantize(self) -> np.ndarray:
        """The float32 matrix these trits and scales stand for."""
        t = self.trits
        return np.where(t > 0, self.expand(self.pos_scale),
                        np.where(t < 0, -self.expand(self.neg_scale), 0)).astype(np.float32)


def check_weight_matrix(w: np.ndarray, name: str = "weight") -> np.ndarray:
    """Validate a float weight matrix: 2-D, non-empty, finite. Returns it as float64."""
    w = np.asarray(w)
    if w.ndim != 2:
        raise FormatError(f"tensor {name!r}: expected a 2-D weight matrix, got shape {w.shape}")
    if w.size == 0:
        raise FormatError(f"tensor {name!r}: empty weight matrix, shape {w.shape}")
    if not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
        raise FormatError(f"tensor {name!r}: weights must be real numbers, not {w.dtype}")
    w = w.astype(np.float64)
    bad = ~np.isfinite(w)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(w[r, c]) else "Inf"
        raise FormatError(
            f"tensor {name!r}: {int(bad.sum())} non-finite weight(s), first {kind} at [{r}, {c}]"
        )
    return w


def ternarize(
    w: np.ndarray,
    method: str = "absmean",
    granularity: str = "tensor",
    group_size: int = 128,
    *,
    name: str = "weight",
) -> TernaryTensor:
    """Ternarize a 2-D float weight matrix.

    Parameters
    ----------
    w : array, shape (out_features, in_features)
    method : {"absmean", "twn", "ttq"}
    granularity : {"tensor", "channel", "group"}
        One scale for the whole matrix, one per output row, or one per ``group_size`` columns
        of each row.
    group_size : int
        Columns per group when ``granularity == "group"``.
    name : str
        Tensor name used in error messages.
    """
    if method not in METHODS:
        raise FormatError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if granularity not in GRANULARITIES:
        raise FormatError(
            f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")
    w = check_weight_matrix(w, name)
    rows, cols = w.shape
    if granularity == "group":
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise FormatError(f"group_size must be a positive integer, not {group_size!r}")
        gs = min(group_size, cols)
    else:
        gs = cols
    n_groups = -(-cols // gs)
    per_row = granularity != "tensor"
    R = rows if per_row else 1
    trits = np.zeros((rows, cols), dtype=np.int8)
    pos = np.zeros((R, n_groups), dtype=np.float64)
    neg = np.zeros((R, n_groups), dtype=np.float64)
    thr = np.zeros((R, n_groups), dtype=np.float64)
    for g in range(n_groups):
        block = w[:, g * gs:(g + 1) * gs]
        axis = 1 if per_row else None
        t, p, n, d = _ternarize_block(block, method, axis)
        trits[:, g * gs:(g + 1) * gs] = t
        pos[:, g] = p
        neg[:, g] = n
        thr[:, g] = d
    if method != "ttq":
        pos32 = neg32 = _float32_scales(pos, trits != 0, gs, name)
    else:
        pos32 = _float32_scales(pos, trits > 0, gs, name)
        neg32 = _float32_scales(neg, trits < 0, gs, name)
    return TernaryTensor(trits, pos32, neg32, thr, gs, method, granularity)


def _float32_scales(scales: np.ndarray, used: np.ndarray, gs: int, name: str) -> np.ndarray:
    """``scales`` as float32, refusing a scale that some trit uses (``used``: the trits that
    take this scale) and that float32 turns into Inf or 0 (weights near 1e38 or 1e-45 in a
    float64 file): the trits would survive and the values they stand for would not."""
    with np.errstate(over="ignore", under="ignore"):
        s32 = scales.astype(np.float32)
    per_group = np.zeros(scales.shape, dtype=bool)
    for g in range(scales.shape[1]):
        block = used[:, g * gs:(g + 1) * gs]
        per_group[:, g] = block.any(axis=1) if scales.shape[0] > 1 else block.any()
    bad = per_group & (np.isinf(s32) | ((s32 == 0) & (scales > 0)))
    if bad.any():
        v = float(scales[bad][0])
        if v > F32_MAX:
            raise FormatError(f"tensor {name!r}: scale {v:g} exceeds the float32 range "
                              f"(max {F32_MAX:g})")
        raise FormatError(f"tensor {name!r}: scale {v:g} is below the smallest float32 value "
                          f"({F32_MIN:g}) and would be stored as 0")
    return s32


def _ternarize_block(block: np.ndarray, method: str, axis: int | None):
    """Trits, positive scale, negative scale and threshold of one block (reduced on ``axis``)."""
    a = np.abs(block)
    if method == "absmean":
        s = a.mean(axis=axis, keepdims=True)
        t = np.clip(np.round(block / (s + ABSMEAN_EPS)), -1, 1)
        return t.astype(np.int8), _flat(s), _flat(s), _flat(0.5 * (s + ABSMEAN_EPS))
    if method == "twn":
        delta = 0.7 * a.mean(axis=axis, keepdims=True)
        mask = a > delta
        t = np.sign(block) * mask
        alpha = _masked_mean(a, mask, axis)
        return t.astype(np.int8), alpha, alpha, _flat(delta)
    delta = 0.05 * a.max(axis=axis, keepdims=True)
    pmask = block > delta
    nmask = block < -delta
    t = pmask.astype(np.int8) - nmask.astype(np.int8)
    return t, _masked_mean(block, pmask, axis), _masked_mean(-block, nmask, axis), _flat(delta)


def _masked_mean(x: np.ndarray, mask: np.ndarray, axis: int | None) -> np.ndarray:
    total = np.where(mask, x, 0.0).sum(axis=axis, keepdims=True)
    count = mask.sum(axis=axis, keepdims=True)
    return _flat(np.where(count > 0, total / np.maximum(count, 1), 0.0))


def _flat(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(-1)
