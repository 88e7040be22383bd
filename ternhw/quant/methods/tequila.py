"""Tequila: trapping-free ternary quantization, post-training form.

Huang, Wu, Cen, Yu, Li, Liu, Zhu, Chen, Liu, Wu, "Tequila: Trapping-free Ternary Quantization
for Large Language Models", arXiv 2509.23809 (ICLR 2026); code in Tencent/AngelSlim.

The paper's observation: with absmean ternarization many weights sit in the dead zone
``|w| < Delta`` (``Delta = s/2``) and, under the straight-through estimator, get only noisy
gradients, so they stay trapped at 0 and the capacity they hold is lost. Tequila reactivates
them as a *bias*: with ``D_i`` the dead-zone weights of output ``i``,

    y_i = s * sum_j T_ij x_j  +  lambda_i * sum_{j in D_i} w_ij

The second term does not depend on the input, so it is folded offline into the layer's bias
(the accelerator's bias path carries it: no extra MACs, one bias word per output channel), while
during training ``w_ij`` in ``D_i`` receives the clean gradient ``lambda_i`` instead of the STE's.
AngelSlim fits the per-channel ``lambda`` so that this constant matches the trapped weights' real
contribution ``sum_{j in D_i} w_ij x_j`` on calibration data (least squares over tokens), whose
closed form is ``lambda_i sum_{D_i} w_ij = mean_tokens(sum_{D_i} w_ij x_j)``: the bias *is* the
trapped weights' mean contribution. :func:`tequila_bias` computes exactly that.

Simplifications: post-training closed form here (the training form, where the trapped
weights keep learning through the bias, is :func:`train_tequila` on the digits MLP);
per-channel ``lambda`` (AngelSlim's default), not per element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import FormatError
from ..ternarize import TernaryTensor, check_weight_matrix

#: Initial lambda of AngelSlim's Tequila layer (its ``range_of_lambada`` scale is 0.01; the
#: paper quotes 1e-3). Used only when no calibration data is given.
DEFAULT_LAMBDA = 1e-3


@dataclass(frozen=True)
class TequilaBias:
    """The reactivated dead-zone weights of one layer.

    Attributes
    ----------
    trapped : ndarray of bool, (rows, cols)
        Weights that ternarize to 0 but are not 0: the dead zone.
    lam : ndarray, (rows,)
        Per-output-channel lambda.
    bias : ndarray, (rows,)
        ``lam_i * sum_{j in D_i} w_ij``: what the bias path adds to output ``i``.
    """

    trapped: np.ndarray
    lam: np.ndarray
    bias: np.ndarray

    @property
    def trapped_fraction(self) -> float:
        return float(self.trapped.mean())


def tequila_bias(w: np.ndarray, tt: TernaryTensor, x_calib: np.ndarray | None = None, *,
                 lam: float = DEFAULT_LAMBDA, name: str = "weight") -> TequilaBias:
    """Tequila's bias for the dead-zone weights of ``w`` under the ternarization ``tt``.

    With calibration inputs ``x_calib`` (tokens, cols) lambda is AngelSlim's least-squares fit,
    so the bias equals the mean contribution of the trapped weights over the calibration set;
    without, lambda is the constant ``lam``. A channel whose trapped weights sum to 0 gets
    lambda 0 (its bias cannot be expressed as ``lambda * sum``).
    """
    w = check_weight_matrix(w, name)
    if tt.shape != w.shape:
        raise FormatError(f"tensor {name!r}: ternary shape {tt.shape} != weight shape {w.shape}")
    trapped = (tt.trits == 0) & (w != 0)
    b = np.where(trapped, w, 0.0)
    s = b.sum(axis=1)
    if x_calib is None:
        lam_v = np.full(w.shape[0], float(lam))
    else:
        x = np.asarray(x_calib, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != w.shape[1]:
            raise FormatError(f"tensor {name!r}: calibration inputs must be (tokens, "
                              f"{w.shape[1]}), got {x.shape}")
        contrib = (x @ b.T).mean(axis=0)
        ok = np.abs(s) > 1e-12
        lam_v = np.where(ok, contrib / np.where(ok, s, 1.0), 0.0)
    return TequilaBias(trapped, lam_v, lam_v * s)


def train_tequila(params: dict[str, np.ndarray], data, *, epochs: int = 30, seed: int = 0,
                  lam0: float = DEFAULT_LAMBDA):
    """Tequila fine-tuning of the digits MLP from float ``params`` (needs jax).

    Forward: ``x (s T)^T + b + lambda_i sum_{j in D_i} w_ij``; the trapped weights get their
    gradient only through the bias term (AngelSlim's backward), the others the STE's; the
    per-channel ``lambda`` (``fcN.lam``) is learned. The final bias is folded into the layer's
    bias and reported as ``extra_bias``.
    """
    from ...weights.digits import LAYERS
    from .model import from_params
    from .training import absmean_q, cross_entropy, fit, mlp_forward, require_jax

    jax, jnp = require_jax()
    p = dict(params)
    for n in LAYERS:
        p[f"{n}.lam"] = np.full(p[f"{n}.bias"].shape, lam0, dtype=np.float32)

    def trapped(w):
        return jax.lax.stop_gradient(absmean_q(w) == 0)

    def loss(pp, xb, yb, prog):
        def weight(i, w):
            live = w * (1 - trapped(w))
            return live + jax.lax.stop_gradient(absmean_q(w) - live)

        def bias(i, w):
            lam = pp[f"{LAYERS[i]}.lam"]
            return lam * jnp.sum(jnp.where(trapped(w), w, 0.0), axis=1)

        return cross_entropy(mlp_forward(pp, xb, weight, extra_bias=bias), yb)

    out = fit(p, loss, data, epochs=epochs, seed=seed, lr=1e-3)
    q = from_params("tequila", "fine-tune from float (trapped weights as bias)", out)
    for n in LAYERS:
        tb = tequila_bias(out[f"{n}.weight"], q.tensors[n], lam=0.0)
        extra = out[f"{n}.lam"].astype(np.float64) * np.where(tb.trapped, out[
            f"{n}.weight"], 0.0).sum(axis=1)
        q.extra_bias[n] = extra
        q.biases[n] = q.biases[n] + extra
    return q
