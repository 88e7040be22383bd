"""HitNet's Bernoulli ternary quantization (BTQ).

Wang, Xie, Deng, Li, Wang, Xie, "HitNet: Hybrid Ternary Recurrent Neural Network", NeurIPS 2018.
HitNet quantizes weights with a threshold (TTQ in its terms, TWN-like) and activations with BTQ:
a value ``x`` in ``[-1, 1]`` becomes ``sign(x)`` with probability ``|x|`` and 0 otherwise, so
``E[q] = x``: the quantizer is *unbiased*, which is what lets noisy ternary activations carry a
real-valued signal through many recurrent steps.

We apply the same stochastic rounding to weight matrices (the issue lists BTQ beside TTQ as a
weight method): with ``s`` the block's ``max|W|``, ``T = sign(W) * Bernoulli(|W| / s)`` and
``E[s T] = W`` exactly. Simplification: one draw; HitNet redraws activations every step, and
a weight drawn once keeps that draw's error (larger than TWN's on average). The zero fraction
is ``1 - mean|W| / max|W|``, which is high for heavy-tailed weights: the accelerator skips more
lanes, at a cost in accuracy. :func:`bernoulli_ternary_activations` is the activation form.
"""

from __future__ import annotations

import numpy as np

from ...errors import FormatError
from ..ternarize import GRANULARITIES, TernaryTensor, check_weight_matrix


def bernoulli_ternarize(w: np.ndarray, rng: np.random.Generator | int = 0,
                        granularity: str = "tensor", *, name: str = "weight") -> TernaryTensor:
    """Stochastic ternarization ``T = sign(W) Bernoulli(|W| / max|W|)``, scale ``max|W|``.

    ``granularity`` is ``"tensor"`` or ``"channel"`` (one ``max|W|`` per output row). The
    threshold recorded in the result is 0: every non-zero weight can become +-1.
    """
    if granularity not in GRANULARITIES[:2]:
        raise FormatError(f"BTQ granularity must be 'tensor' or 'channel', not {granularity!r}")
    w = check_weight_matrix(w, name)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    per_row = granularity == "channel"
    s = np.abs(w).max(axis=1, keepdims=True) if per_row else np.array([[np.abs(w).max()]])
    p = np.abs(w) / np.where(s > 0, s, 1.0)
    trits = (np.sign(w) * (rng.random(w.shape) < p)).astype(np.int8)
    scale = s.astype(np.float32).reshape(-1, 1)
    return TernaryTensor(trits, scale, scale, np.zeros(scale.shape), w.shape[1], "btq",
                         granularity)


def bernoulli_ternary_activations(x: np.ndarray, rng: np.random.Generator | int = 0,
                                  ) -> tuple[np.ndarray, np.ndarray]:
    """HitNet's BTQ of activations, per token: ``(q, scale)`` with ``q`` int8 in {-1, 0, 1},
    ``scale = max|x|`` of the row and ``E[q * scale] = x``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise FormatError(f"activations must be 2-D (tokens, features), got shape {x.shape}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    s = np.abs(x).max(axis=1, keepdims=True)
    p = np.abs(x) / np.where(s > 0, s, 1.0)
    q = (np.sign(x) * (rng.random(x.shape) < p)).astype(np.int8)
    return q, np.where(s > 0, s, 1.0)[:, 0]
