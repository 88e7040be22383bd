"""The training back end of the quantization methods: ``jax`` on CPU (the ``train`` extra).

Why a real autodiff library: the methods of issue 14 (regularisers, ADMM, learned per-layer
binary/ternary choice, RMSNorm, ternary activations) each change the forward pass; hand-written
backprop, as in :mod:`ternhw.weights.digits`, would have to be re-derived for every one, and for
a transformer. jax installs CPU-only from PyPI, and the same code runs on a GPU where jax sees
one. It is imported lazily, so ``ternhw`` itself never needs it.

This module holds what every method shares: the digits data, a jitted Adam loop
(:func:`fit`), straight-through quantizers (the forward uses the quantized value, the backward
the identity) and the MLP forward with the hooks the methods plug into.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import ToolMissingError
from ...weights.digits import LAYER_SIZES, LAYERS, PIXEL_MAX, load_digits_split

TRAIN_INSTALL = "pip install 'ternhw[train]'  (or: pip install jax)"
#: BitNet's epsilon in the absmean division.
EPS = 1e-5


def require_jax():
    """Import jax (CPU is enough) or raise a :class:`ToolMissingError` naming the extra."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise ToolMissingError(
            f"this quantization method trains with jax, which is not installed: {TRAIN_INSTALL}"
        ) from None
    jax.config.update("jax_enable_x64", False)
    return jax, jnp


@dataclass(frozen=True)
class Data:
    """The digits split, pixels scaled to [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def digits_data() -> Data:
    x_tr, y_tr, x_te, y_te = load_digits_split()
    return Data((x_tr / PIXEL_MAX).astype(np.float32), y_tr, (x_te / PIXEL_MAX).astype(
        np.float32), y_te)


def init_mlp(seed: int = 0) -> dict[str, np.ndarray]:
    """He-initialised float parameters of the 64-256-128-10 MLP (``fc1.weight``, ...)."""
    rng = np.random.default_rng(seed)
    params = {}
    for n, fan_in, fan_out in zip(LAYERS, LAYER_SIZES[:-1], LAYER_SIZES[1:], strict=True):
        params[f"{n}.weight"] = rng.normal(0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)).astype(
            np.float32)
        params[f"{n}.bias"] = np.zeros(fan_out, dtype=np.float32)
    return params


# --- straight-through quantizers (jax) -------------------------------------------------------

def ste(x, q):
    """``q`` in the forward pass, the identity's gradient in the backward pass."""
    jax, _ = require_jax()
    return x + jax.lax.stop_gradient(q - x)


def absmean_q(w):
    """BitNet b1.58 absmean ternarization, per tensor, dequantized: ``s * T``."""
    _, jnp = require_jax()
    s = jnp.mean(jnp.abs(w))
    return s * jnp.clip(jnp.round(w / (s + EPS)), -1, 1)


def binary_q(w):
    """Binary ``mean|W| * sign(W)`` (XNOR-Net/BWN style; 0 goes to +1, no zeros)."""
    _, jnp = require_jax()
    return jnp.mean(jnp.abs(w)) * jnp.where(w >= 0, 1.0, -1.0)


def ternary_act(z, threshold: float = 0.7):
    """Ternary features ``sign(z) [|z| > threshold * mean|z|]`` per token, with the
    straight-through gradient clipped to ``|z| <= 1`` (as for binarized activations)."""
    jax, jnp = require_jax()
    t = threshold * jax.lax.stop_gradient(jnp.mean(jnp.abs(z), axis=-1, keepdims=True))
    q = jnp.sign(z) * (jnp.abs(z) > t)
    return ste(jnp.clip(z, -1.0, 1.0), q)


# --- the MLP and the training loop -----------------------------------------------------------

def mlp_forward(params, x, weight_fn: Callable, *, act_fn: Callable | None = None,
                norm: bool = False, extra_bias: Callable | None = None):
    """Logits of the MLP; ``weight_fn(i, w)`` gives the weight layer ``i`` uses, ``act_fn(z)``
    replaces the ReLU of the hidden layers (ternary features), ``norm`` inserts an RMSNorm
    (gain ``fcN.norm``) before every linear layer, ``extra_bias(i, w)`` adds a per-output
    bias (Tequila)."""
    _, jnp = require_jax()
    h = x
    for i, n in enumerate(LAYERS):
        if norm:
            h = h / jnp.sqrt(jnp.mean(h * h, axis=-1, keepdims=True) + 1e-6) * params[
                f"{n}.norm"]
        w = params[f"{n}.weight"]
        h = h @ weight_fn(i, w).T + params[f"{n}.bias"]
        if extra_bias is not None:
            h = h + extra_bias(i, w)
        if i < len(LAYERS) - 1:
            h = jnp.maximum(h, 0.0) if act_fn is None else act_fn(h)
    return h


def cross_entropy(logits, y):
    jax, jnp = require_jax()
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def adam_update(p, g, m, v, t, rates, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    """One Adam step (Kingma & Ba, bias-corrected) on dicts of jax arrays; ``t`` counts from 1
    and ``rates[name]`` is each parameter's learning rate (0 freezes it). Returns
    ``(p, m, v)``."""
    _, jnp = require_jax()
    m = {k: b1 * m[k] + (1 - b1) * g[k] for k in p}
    v = {k: b2 * v[k] + (1 - b2) * g[k] ** 2 for k in p}
    p = {k: p[k] - rates[k] * (m[k] / (1 - b1 ** t)) / (jnp.sqrt(v[k] / (1 - b2 ** t)) + eps)
         for k in p}
    return p, m, v


def fit(params: dict[str, np.ndarray], loss_fn: Callable, data: Data, *, epochs: int = 30,
        batch: int = 32, lr: float = 3e-3, seed: int = 0, trainable: Callable | None = None,
        step_hook: Callable | None = None) -> dict[str, np.ndarray]:
    """Adam with a cosine learning-rate decay on ``loss_fn(params, xb, yb, progress)``.

    ``progress`` is the fraction of training done (0 -> 1), for schedules. ``trainable(name)``
    says which parameters move (default: all). ``step_hook(params, progress)`` runs in NumPy
    between epochs (ADMM's discrete updates) and returns new params. Deterministic for a seed.
    """
    jax, jnp = require_jax()
    names = sorted(params)
    mask = {k: 1.0 if trainable is None or trainable(k) else 0.0 for k in names}
    p = {k: jnp.asarray(params[k], dtype=jnp.float32) for k in names}
    m = {k: jnp.zeros_like(v) for k, v in p.items()}
    v = {k: jnp.zeros_like(x) for k, x in p.items()}
    grad = jax.value_and_grad(loss_fn)

    @jax.jit
    def step(p, m, v, t, xb, yb, prog, rate):
        _, g = grad(p, xb, yb, prog)
        return adam_update(p, g, m, v, t, {k: mask[k] * rate for k in p})

    rng = np.random.default_rng(seed)
    n = len(data.y_train)
    xs, ys = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    t = 0
    per_epoch = n // batch  # full batches only: one compiled shape
    for epoch in range(epochs):
        order = rng.permutation(n)
        rate = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        for b in range(per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            t += 1
            prog = (epoch * per_epoch + b) / (epochs * per_epoch)
            p, m, v = step(p, m, v, float(t), xs[idx], ys[idx], float(prog), float(rate))
        if step_hook is not None:
            host = step_hook({k: np.asarray(x) for k, x in p.items()}, (epoch + 1) / epochs)
            p = {k: jnp.asarray(host[k], dtype=jnp.float32) for k in names}
    return {k: np.asarray(x, dtype=np.float32) for k, x in p.items()}


_FLOAT_CACHE: dict[tuple[int, int], dict[str, np.ndarray]] = {}


def train_float(seed: int = 0, epochs: int = 30) -> dict[str, np.ndarray]:
    """The float MLP (no quantization): the starting point of the post-training and
    fine-tuning methods. Cached per ``(seed, epochs)`` within a process."""
    key = (seed, epochs)
    if key not in _FLOAT_CACHE:
        data = digits_data()

        def loss(p, xb, yb, prog):
            return cross_entropy(mlp_forward(p, xb, lambda i, w: w), yb)

        _FLOAT_CACHE[key] = fit(init_mlp(seed), loss, data, epochs=epochs, seed=seed)
    return {k: v.copy() for k, v in _FLOAT_CACHE[key].items()}
