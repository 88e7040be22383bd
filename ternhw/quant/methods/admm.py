"""ADMM for extremely low-bit networks: decoupled continuous and discrete weights.

Leng, Dou, Li, Zhu, Jin, "Extremely Low Bit Neural Network: Squeeze the Last Bit Out with
ADMM", AAAI 2018 (arXiv 1707.09870). Training with a discrete constraint ``W in C`` (here
``C = {alpha * T : T in {-1, 0, 1}^n}`` per layer) is split with an auxiliary discrete copy
``G`` and a scaled dual ``U``:

    W <- argmin  loss(W) + rho/2 ||W - G + U||^2        (a few extragradient SGD steps)
    G <- Proj_C(W + U)                                  (iterative quantization)
    U <- U + W - G

The continuous ``W`` is never quantized in the forward pass, so its gradients are exact; the
proximal term pulls it to the discrete set. ``Proj_C`` is the paper's iterative quantization:
alternate ``T = clip(round(V / alpha), -1, 1)`` and ``alpha = <V, T> / <T, T>`` (each step
lowers ``||V - alpha T||``). The extragradient step is ``w~ = w - eta grad(w)``,
``w <- w - eta grad(w~)``. Simplifications: ``rho`` is raised geometrically per epoch, the ADMM
(G, U) update runs once per epoch, and the network that ships is ``G``.
"""

from __future__ import annotations

import numpy as np

from ...weights.digits import LAYERS
from .model import QuantizedMLP, tensor_from_trits
from .training import cross_entropy, mlp_forward, require_jax

RHO0 = 1e-2
RHO_GROWTH = 1.3


def project_ternary(v: np.ndarray, iters: int = 10) -> tuple[np.ndarray, float]:
    """``(T, alpha)`` minimising ``||v - alpha T||`` over ternary ``T`` by iterative
    quantization, started from absmean's scale. The error never increases."""
    v = np.asarray(v, dtype=np.float64)
    alpha = float(np.abs(v).mean()) or 1.0
    t = np.clip(np.round(v / alpha), -1, 1)
    for _ in range(iters):
        nz = float((t * t).sum())
        if nz == 0:
            break
        alpha = float((v * t).sum()) / nz
        t_new = np.clip(np.round(v / alpha), -1, 1)
        if np.array_equal(t_new, t):
            break
        t = t_new
    return t.astype(np.int8), alpha


def train_admm(params: dict[str, np.ndarray], data, *, epochs: int = 30, seed: int = 0,
               lr: float = 0.1, batch: int = 32) -> QuantizedMLP:
    jax, jnp = require_jax()
    names = sorted(params)
    w = {k: jnp.asarray(params[k]) for k in names}
    g = {n: project_ternary(params[f"{n}.weight"]) for n in LAYERS}
    G = {n: jnp.asarray(t * a, dtype=jnp.float32) for n, (t, a) in g.items()}
    U = {n: jnp.zeros_like(G[n]) for n in LAYERS}

    def loss(p, G, U, rho, xb, yb):
        ce = cross_entropy(mlp_forward(p, xb, lambda i, ww: ww), yb)
        prox = sum(jnp.sum((p[f"{n}.weight"] - G[n] + U[n]) ** 2) for n in LAYERS)
        return ce + 0.5 * rho * prox

    grad = jax.grad(loss)

    @jax.jit
    def step(p, G, U, rho, xb, yb, eta):
        g1 = grad(p, G, U, rho, xb, yb)
        look = {k: p[k] - eta * g1[k] for k in p}
        g2 = grad(look, G, U, rho, xb, yb)
        return {k: p[k] - eta * g2[k] for k in p}

    rng = np.random.default_rng(seed)
    xs, ys = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    n_tr = len(data.y_train)
    rho = RHO0
    for epoch in range(epochs):
        order = rng.permutation(n_tr)
        eta = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        for b in range(n_tr // batch):
            idx = order[b * batch:(b + 1) * batch]
            w = step(w, G, U, rho, xs[idx], ys[idx], eta)
        for n in LAYERS:
            t, a = project_ternary(np.asarray(w[f"{n}.weight"] + U[n]))
            g[n] = (t, a)
            G[n] = jnp.asarray(t * a, dtype=jnp.float32)
            U[n] = U[n] + w[f"{n}.weight"] - G[n]
        rho *= RHO_GROWTH
    tensors = {n: tensor_from_trits(g[n][0], g[n][1], "admm") for n in LAYERS}
    return QuantizedMLP("admm", "fine-tune from float (ADMM, extragradient)", tensors,
                        {n: np.asarray(w[f"{n}.bias"], dtype=np.float64) for n in LAYERS},
                        {n: np.asarray(w[f"{n}.weight"], dtype=np.float64) for n in LAYERS},
                        {n: False for n in LAYERS})
