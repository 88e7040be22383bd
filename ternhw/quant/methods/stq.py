"""Smart Ternary Quantization (STQ): training picks binary or ternary for each layer.

Morin, Razani, Partovi Nia, Sari, "Smart Ternary Quantization", arXiv 1909.12205 (published as
Razani et al., "Adaptive Binary-Ternary Quantization", CVPR Workshops 2021). The quantization
depth of each layer is not chosen by hand nor by a separate search: an adaptive regularisation
function with a trainable per-layer parameter moves every layer toward a binary grid
``{-1, +1}`` or a ternary grid ``{-1, 0, +1}`` during one training run.

Our form (a simplification of the paper's regulariser, same mechanism): with ``u = w / mean|w|``
the layer's normalised weights, ``R_b(u) = (|u| - 1)^2`` (distance to the binary grid),
``R_t(u) = min(u^2, (|u| - 1)^2)`` (to the ternary grid) and ``beta = sigmoid(theta)``,

    loss = CE + mu * sum_l [ mean((1 - beta_l) R_b + beta_l R_t) + c * beta_l ]

``c_l`` is the price of the zero state (a binary layer needs 1 bit and no zero-skip logic, a
ternary one 1.58-2 bits); in :func:`train_stq` it is proportional to the layer's weight count
(``c_l = c * n_l / mean(n)``: the memory a binary layer saves), so big layers are pushed to
binary first. Since ``R_t <= R_b``, ``beta_l`` rises toward ternary only where the
weights gain from a zero state by more than ``c`` — a layer whose weights already cluster at
``+-mean|w|`` goes binary. The forward pass uses the binary quantizer while ``beta < 0.5`` and
absmean ternary otherwise (straight-through). A binary layer has no zeros: the energy model
sees no gated lanes for it.
"""

from __future__ import annotations

import numpy as np

from ...weights.digits import LAYERS
from .model import QuantizedMLP, from_params
from .training import absmean_q, binary_q, cross_entropy, fit, mlp_forward, require_jax, ste

#: Regulariser weight and price of the zero state (per layer, in units of the regulariser).
MU = 0.05
ZERO_COST = 0.1


def stq_regulariser(w, theta, zero_cost: float = ZERO_COST):
    """``mean((1 - beta) R_b + beta R_t) + c beta`` of one layer (jax)."""
    jax, jnp = require_jax()
    u = w / (jnp.mean(jnp.abs(w)) + 1e-8)
    rb = (jnp.abs(u) - 1.0) ** 2
    rt = jnp.minimum(u * u, rb)
    beta = jax.nn.sigmoid(theta)
    return jnp.mean((1 - beta) * rb + beta * rt) + zero_cost * beta


def select_depth(weights: list[np.ndarray], *, zero_cost: float = ZERO_COST, steps: int = 200,
                 lr: float = 0.5) -> list[bool]:
    """STQ's choice for fixed weights: gradient descent on the ``theta`` of each layer alone.
    Returns True for each layer that ends ternary. The small case the paper relies on: a
    layer whose weights cluster at ``+-a`` goes binary, a peaked (Laplacian) one ternary."""
    jax, jnp = require_jax()
    ws = [jnp.asarray(w, dtype=jnp.float32) for w in weights]
    g = jax.jit(jax.grad(lambda th: sum(stq_regulariser(w, th[i], zero_cost)
                                        for i, w in enumerate(ws))))
    theta = jnp.zeros(len(ws))
    for _ in range(steps):
        theta = theta - lr * g(theta)
    return [bool(t > 0) for t in np.asarray(theta)]


def train_stq(params: dict[str, np.ndarray], data, *, epochs: int = 30, seed: int = 0,
              mu: float = MU, zero_cost: float = ZERO_COST) -> QuantizedMLP:
    """Fine-tune the float ``params`` with STQ; returns the mixed binary/ternary MLP."""
    jax, jnp = require_jax()
    p = dict(params)
    sizes = {n: params[f"{n}.weight"].size for n in LAYERS}
    mean_size = float(np.mean(list(sizes.values())))
    cost = {n: zero_cost * sizes[n] / mean_size for n in LAYERS}
    for n in LAYERS:
        p[f"{n}.theta"] = np.zeros((), dtype=np.float32)

    def weight(pp):
        def fn(i, w):
            beta = jax.nn.sigmoid(pp[f"{LAYERS[i]}.theta"])
            return ste(w, jnp.where(beta >= 0.5, absmean_q(w), binary_q(w)))
        return fn

    def loss(pp, xb, yb, prog):
        ce = cross_entropy(mlp_forward(pp, xb, weight(pp)), yb)
        reg = sum(stq_regulariser(pp[f"{n}.weight"], pp[f"{n}.theta"], cost[n])
                  for n in LAYERS)
        return ce + mu * reg

    out = fit(p, loss, data, epochs=epochs, seed=seed, lr=1e-3)
    binary = {n: bool(out[f"{n}.theta"] < 0) for n in LAYERS}
    q = from_params("stq", "fine-tune from float (STQ regulariser)", out, binary=binary)
    q.notes.append("binary layers: " + (", ".join(n for n in LAYERS if binary[n]) or "none"))
    return q
