"""Hyperspherical loss-aware ternary quantization.

Liu & Liu, "Hyperspherical Loss-Aware Ternary Quantization", arXiv 2212.12649 (2022). Instead
of ternarizing in one projection, it first *pulls* the full-precision weights toward ternary
ones with a regularisation term, then projects; and in the quantized phase it replaces the
straight-through estimator's flat gradient by a re-scaling factor that imitates the derivative
of a temperature sigmoid (the smooth step that gradually-discretising methods use), so weights
near the rounding threshold get larger, more accurate gradients.

What we implement: phase 1 trains with ``CE + mu * sum_l (1 - cos(W_l, Q(W_l)))`` (the angle
between a layer's weights and their absmean ternarization on the unit hypersphere; ``Q`` held
constant in the gradient) with ``mu`` ramped up; phase 2 is QAT whose backward pass is the
derivative of ``s * (sigmoid(k(u - 1/2)) - sigmoid(k(-u - 1/2)))`` (``u = w/s``, temperature
``k``) instead of the identity. Simplified: absmean as the projection (the paper's ternary
projection has its own threshold), one fixed temperature.
"""

from __future__ import annotations

import numpy as np

from ...weights.digits import LAYERS
from .model import QuantizedMLP, from_params
from .training import EPS, absmean_q, cross_entropy, fit, mlp_forward, require_jax

MU = 0.5
TEMPERATURE = 6.0


def hyperspherical_regulariser(w):
    """``1 - cos(W, Q(W))`` with the ternarization ``Q`` held constant (jax)."""
    jax, jnp = require_jax()
    q = jax.lax.stop_gradient(absmean_q(w))
    return 1.0 - jnp.sum(w * q) / (jnp.linalg.norm(w) * jnp.linalg.norm(q) + 1e-12)


def rescaled_ternary(w, k: float = TEMPERATURE):
    """Absmean ternary forward; backward = derivative of the temperature-sigmoid step."""
    jax, jnp = require_jax()
    s = jax.lax.stop_gradient(jnp.mean(jnp.abs(w)) + EPS)
    u = w / s
    soft = s * (jax.nn.sigmoid(k * (u - 0.5)) - jax.nn.sigmoid(k * (-u - 0.5)))
    return soft + jax.lax.stop_gradient(absmean_q(w) - soft)


def train_hyperspherical(params: dict[str, np.ndarray], data, *, epochs: int = 30,
                         seed: int = 0) -> QuantizedMLP:
    half = max(1, epochs // 2)

    def loss1(p, xb, yb, prog):
        reg = sum(hyperspherical_regulariser(p[f"{n}.weight"]) for n in LAYERS)
        return cross_entropy(mlp_forward(p, xb, lambda i, w: w), yb) + MU * prog * reg

    def loss2(p, xb, yb, prog):
        return cross_entropy(mlp_forward(p, xb, lambda i, w: rescaled_ternary(w)), yb)

    p = fit(params, loss1, data, epochs=half, seed=seed, lr=1e-3)
    p = fit(p, loss2, data, epochs=epochs - half, seed=seed + 1, lr=1e-3)
    return from_params("hyperspherical", "fine-tune from float (regulariser, then re-scaled QAT)",
                       p)
