"""Layer-wise error compensation on calibration data (GPTQ-style), for ternary weights.

Frantar, Ashkboos, Hoefler, Alistarh, "GPTQ: Accurate Post-Training Quantization for Generative
Pre-trained Transformers", ICLR 2023 (arXiv 2210.17323), after Optimal Brain Quantization
(Frantar & Alistarh, arXiv 2208.11580). It is the post-training counterpart of MLQ's layer
compensation that issue 14 asks for: no training, only calibration inputs.

GPTQ minimises the layer's output error ``||X W^T - X Q^T||^2`` over calibration inputs ``X``.
With ``H = 2 X^T X`` (plus a small damping), it quantizes one input column at a time and
spreads that column's error over the columns not yet quantized, weighted by the inverse
Hessian: for column ``j``, ``e = (w_j - q_j) / [H^-1]_jj`` and ``W[:, j+1:] -= e [H^-1]_{j,j+1:}``
(using the upper Cholesky factor of ``H^-1``, as GPTQ does for stability).

Ternary specifics (ours): the grid of row ``i`` is ``{-s, 0, +s}`` with ``s`` absmean's scale
of the original weights (per tensor or per channel, so the result runs on the existing integer
pipeline); after the pass the scale is refit by least squares on the calibration outputs
(``s = <XW, XT> / ||XT||^2``, per channel or for the tensor), which GPTQ does not need at 4 bits
but which matters at 1.58. Simplifications: no lazy block updates (numerically identical, slower
for huge matrices), columns in natural order (no act-order).
"""

from __future__ import annotations

import numpy as np

from ...errors import FormatError
from ..ternarize import ABSMEAN_EPS, TernaryTensor, check_weight_matrix

#: Damping added to the Hessian's diagonal, relative to its mean (GPTQ's ``percdamp``).
DAMP = 0.01


def hessian(x: np.ndarray) -> np.ndarray:
    """``2 X^T X / tokens`` of calibration inputs ``x`` (tokens, cols)."""
    x = np.asarray(x, dtype=np.float64)
    return 2.0 * (x.T @ x) / max(len(x), 1)


def gptq_ternarize(w: np.ndarray, x_calib: np.ndarray | None = None, *,
                   h: np.ndarray | None = None, granularity: str = "tensor",
                   damp: float = DAMP, refit_scale: bool = True,
                   name: str = "weight") -> TernaryTensor:
    """Ternarize ``w`` (rows, cols) with GPTQ error compensation.

    Give either calibration inputs ``x_calib`` (tokens, cols) or their Hessian ``h``
    (:func:`hessian`, which can be accumulated over batches). ``granularity`` is ``"tensor"``
    or ``"channel"``.
    """
    if granularity not in ("tensor", "channel"):
        raise FormatError(f"GPTQ granularity must be 'tensor' or 'channel', not {granularity!r}")
    w = check_weight_matrix(w, name)
    rows, cols = w.shape
    if h is None:
        if x_calib is None:
            raise FormatError(f"tensor {name!r}: GPTQ needs calibration inputs or a Hessian")
        x = np.asarray(x_calib, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != cols:
            raise FormatError(f"tensor {name!r}: calibration inputs must be (tokens, {cols}), "
                              f"got {x.shape}")
        h = hessian(x)
    h = np.array(h, dtype=np.float64)
    if h.shape != (cols, cols):
        raise FormatError(f"tensor {name!r}: Hessian must be {cols}x{cols}, got {h.shape}")
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    h[np.diag_indices(cols)] += damp * float(np.mean(np.diag(h)))
    hinv = np.linalg.cholesky(np.linalg.inv(h)).T  # upper factor U with H^-1 = U^T U
    per_row = granularity == "channel"
    a = np.abs(w)
    s = a.mean(axis=1, keepdims=True) if per_row else np.full((rows, 1), a.mean())
    s = s + ABSMEAN_EPS
    work = w.copy()
    work[:, dead] = 0.0
    trits = np.zeros((rows, cols), dtype=np.int8)
    for j in range(cols):
        col = work[:, j]
        t = np.clip(np.round(col / s[:, 0]), -1, 1)
        trits[:, j] = t
        err = (col - s[:, 0] * t) / hinv[j, j]
        work[:, j + 1:] -= np.outer(err, hinv[j, j + 1:])
    scale = s[:, 0] if per_row else s[:1, 0]
    if refit_scale:
        scale = _refit_scale(w, trits, h, per_row, scale)
    scale32 = np.asarray(scale, dtype=np.float32).reshape(-1, 1)
    return TernaryTensor(trits, scale32, scale32, 0.5 * scale32.astype(np.float64), cols,
                         "gptq", granularity)


def _refit_scale(w, trits, h, per_row, fallback):
    """Least-squares scale under the calibration metric ``H``: ``<W, T>_H / <T, T>_H``."""
    t = trits.astype(np.float64)
    th = t @ h
    num = np.einsum("ij,ij->i", w @ h, t) if per_row else float(np.sum((w @ h) * t))
    den = np.einsum("ij,ij->i", th, t) if per_row else float(np.sum(th * t))
    num, den = np.atleast_1d(num), np.atleast_1d(den)
    ok = den > 0
    out = np.where(ok, num / np.where(ok, den, 1.0), np.atleast_1d(fallback))
    return np.maximum(out, 0.0)


def output_error(w: np.ndarray, tt: TernaryTensor, x: np.ndarray) -> float:
    """Relative layer output error ``||X W^T - X Q^T||_F / ||X W^T||_F`` on inputs ``x``."""
    ref = np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64).T
    q = np.asarray(x, dtype=np.float64) @ tt.dequantize().astype(np.float64).T
    n = float(np.linalg.norm(ref))
    return float(np.linalg.norm(ref - q)) / n if n else 0.0
