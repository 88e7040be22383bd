"""An extra RMSNorm before every ternary linear layer, with gradual quantization.

Steinmetz, Gokce, Sachdeva, ..., "An Extra RMSNorm is All You Need for Fine Tuning to 1.58
Bits", arXiv 2505.08823 (2025). Fine-tuning a float checkpoint straight to ternary weights is
unstable; the paper inserts an RMSNorm (with a learned gain) in front of every linear layer
that becomes ternary, so each ternary matmul sees inputs of a fixed scale, and moves from float
to ternary gradually: ``W_used = (1 - lambda) W + lambda Q(W)`` with ``lambda`` ramped from 0 to 1,
layer by layer.

What we implement on the digits MLP: RMSNorm (gain initialised to 1) before each of the three
linear layers, and a layer-wise linear ramp — layer ``l`` of ``L`` ramps during the training
fraction ``[l / (2L), l / (2L) + 1/2]``, then stays fully ternary (straight-through ``Q``).
Simplified: cross-entropy on the labels rather than distillation from the float model.
Hardware: each norm needs, per token, ``K`` squares and adds, one reciprocal square root and
``K`` gain multiplies before the activation quantizer (accounted in the method table).
"""

from __future__ import annotations

import numpy as np

from ...weights.digits import LAYER_SIZES, LAYERS
from .model import from_params
from .training import absmean_q, cross_entropy, fit, mlp_forward, require_jax, ste


def ramp(progress, layer: int, layers: int = len(LAYERS)):
    """Quantization weight ``lambda`` of ``layer`` at training ``progress`` (0..1)."""
    _, jnp = require_jax()
    start = layer / (2.0 * layers)
    return jnp.clip((progress - start) / 0.5, 0.0, 1.0)


def train_rmsnorm(params: dict[str, np.ndarray], data, *, epochs: int = 30, seed: int = 0):
    p = dict(params)
    for n, k in zip(LAYERS, LAYER_SIZES[:-1], strict=True):
        p[f"{n}.norm"] = np.ones(k, dtype=np.float32)

    def loss(pp, xb, yb, prog):
        def weight(i, w):
            lam = ramp(prog, i)
            return (1 - lam) * w + lam * ste(w, absmean_q(w))
        return cross_entropy(mlp_forward(pp, xb, weight, norm=True), yb)

    # the last epoch must be fully ternary: stretch the ramp over 90% of training
    out = fit(p, lambda pp, xb, yb, prog: loss(pp, xb, yb, prog / 0.9), data, epochs=epochs,
              seed=seed, lr=1e-3)
    return from_params("rmsnorm", "fine-tune from float (extra RMSNorm, gradual schedule)", out,
                       norms={n: np.asarray(out[f"{n}.norm"], dtype=np.float64)
                              for n in LAYERS})
