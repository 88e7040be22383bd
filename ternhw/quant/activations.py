"""Per-token absmax activation quantization (BitNet b1.58, arXiv 2402.17764).

``xq = clip(round(x * Qb / max|x|), -Qb - 1, Qb)`` with ``Qb = 2**(bits - 1) - 1``, one scale per
token (row), so ``x ~ xq * scale`` with ``scale = max|x| / Qb``.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError


def quantize_activations(x: np.ndarray, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Quantize ``x`` of shape ``(tokens, features)`` per token to signed ``bits``-bit integers.

    Returns ``(xq, scale)``: ``xq`` int32 of the same shape, ``scale`` float64 of shape
    ``(tokens,)``; an all-zero token gets scale 1.
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise FormatError(f"activation bits must be an integer in [2, 16], not {bits!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise FormatError(f"activations must be 2-D (tokens, features), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise FormatError("activations contain NaN or Inf")
    qb = (1 << (bits - 1)) - 1
    amax = np.abs(x).max(axis=1) if x.shape[1] else np.zeros(x.shape[0])
    scale = np.where(amax > 0, amax / qb, 1.0)
    xq = np.clip(np.round(x / scale[:, None]), -qb - 1, qb).astype(np.int32)
    return xq, scale
