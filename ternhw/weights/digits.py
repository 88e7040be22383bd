"""The ternary digits MLP: 64-256-128-10, trained by ternhw itself with quantization-aware
training on scikit-learn's bundled 8x8 digits (1797 images, offline).

Training keeps float latent weights; every forward pass uses their absmean ternarization
(per tensor, as in BitNet b1.58) and the backward pass treats the ternarizer as the identity
(the straight-through estimator). The shipped file ``ternhw/data/digits_mlp.npz`` holds the
latent weights (``fc1.weight`` ...) and biases, so ``ternhw quantize digits`` with the default
absmean method reproduces exactly the ternary network that was trained; it is rebuilt bit for
bit by ``ternhw train-digits --seed 0``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import numpy as np

from ..quant.ternarize import ternarize

LAYER_SIZES = (64, 256, 128, 10)
LAYERS = ("fc1", "fc2", "fc3")
#: Fixed test split (20% of the 1797 images), independent of the training seed.
SPLIT_SEED = 1234
TEST_FRACTION = 0.2
#: Input scaling: pixels are integers 0-16.
PIXEL_MAX = 16.0


def load_digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` with pixels as float in [0, 16]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.float64)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_test = int(round(TEST_FRACTION * len(y)))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def ternary_weights(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The dequantized absmean-ternary weight of each layer (what the forward pass uses)."""
    return {f"{n}.weight": ternarize(params[f"{n}.weight"], name=n).dequantize().astype(
        np.float64) for n in LAYERS}


def forward_float(params: dict[str, np.ndarray], x: np.ndarray,
                  weights: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Logits of the float-ternary model (ternary weights, float activations).

    ``weights`` gives the dequantized ternary matrices when they are already known (a ternary
    file); otherwise they are the absmean ternarization of the latent ``params``.
    """
    w = weights if weights is not None else ternary_weights(params)
    h = x / PIXEL_MAX
    for i, n in enumerate(LAYERS):
        h = h @ w[f"{n}.weight"].T + params[f"{n}.bias"]
        if i < len(LAYERS) - 1:
            h = np.maximum(h, 0.0)
    return h


def accuracy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    return float((forward_float(params, x).argmax(axis=1) == y).mean())


def train_digits(seed: int = 0, epochs: int = 60, batch: int = 32, lr: float = 3e-3,
                 progress: Callable[[int, int, float], None] | None = None,
                 ) -> tuple[dict[str, np.ndarray], float]:
    """Train the ternary MLP with QAT; returns ``(params, test_accuracy)``.

    Adam on the float latent weights, cross-entropy loss, straight-through estimator through
    the absmean ternarizer. Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    x_tr, y_tr, x_te, y_te = load_digits_split()
    x_tr = x_tr / PIXEL_MAX
    params: dict[str, np.ndarray] = {}
    shapes = zip(LAYER_SIZES[:-1], LAYER_SIZES[1:], strict=True)
    for n, (fan_in, fan_out) in zip(LAYERS, shapes, strict=True):
        params[f"{n}.weight"] = rng.normal(0, np.sqrt(2.0 / fan_in), (fan_out, fan_in))
        params[f"{n}.bias"] = np.zeros(fan_out)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    b1, b2, eps, step = 0.9, 0.999, 1e-8, 0
    n = len(y_tr)
    for epoch in range(epochs):
        order = rng.permutation(n)
        rate = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        loss_sum = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb, yb = x_tr[idx], y_tr[idx]
            w = ternary_weights(params)
            acts = [xb]
            h = xb
            for i, name in enumerate(LAYERS):
                h = h @ w[f"{name}.weight"].T + params[f"{name}.bias"]
                if i < len(LAYERS) - 1:
                    h = np.maximum(h, 0.0)
                    acts.append(h)
            z = h - h.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            loss_sum += -np.log(p[np.arange(len(yb)), yb] + 1e-12).sum()
            g = p
            g[np.arange(len(yb)), yb] -= 1.0
            g /= len(yb)
            grads = {}
            for i in reversed(range(len(LAYERS))):
                name = LAYERS[i]
                grads[f"{name}.weight"] = g.T @ acts[i]  # straight-through: dL/dW = dL/dWq
                grads[f"{name}.bias"] = g.sum(axis=0)
                if i > 0:
                    g = (g @ w[f"{name}.weight"]) * (acts[i] > 0)
            step += 1
            for k in params:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                mh = m[k] / (1 - b1 ** step)
                vh = v[k] / (1 - b2 ** step)
                params[k] -= rate * mh / (np.sqrt(vh) + eps)
        if progress is not None:
            progress(epoch + 1, epochs, loss_sum / n)
    params = {k: val.astype(np.float32) for k, val in params.items()}
    return params, accuracy(params, x_te, y_te)


def shipped_digits_path():
    return resources.files("ternhw").joinpath("data", "digits_mlp.npz")
