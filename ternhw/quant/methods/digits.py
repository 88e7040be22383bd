"""Every quantization method on the digits MLP, from one float model.

All methods start from the same float MLP (:func:`.training.train_float`, seed 0) except the
shipped absmean QAT network, so their accuracies differ only by the method: post-training
methods quantize it directly (with the training images as calibration data where they need
some), fine-tuning methods train it further for the same number of epochs. ``absmean-ft`` is
the plain straight-through fine-tune they should all beat.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import TernhwError
from ...weights.digits import LAYERS
from ..ternarize import ternarize
from .btq import bernoulli_ternarize
from .gptq import gptq_ternarize
from .model import QuantizedMLP, from_params
from .tequila import tequila_bias
from .training import Data, absmean_q, cross_entropy, fit, mlp_forward, ste

#: Method name -> (paper, kind). ``kind``: "ptq" (NumPy only) or "train" (needs jax).
METHODS: dict[str, tuple[str, str]] = {
    "absmean-qat": ("BitNet b1.58, arXiv 2402.17764 (shipped weights, QAT from scratch)", "ptq"),
    "absmean-ptq": ("BitNet b1.58, arXiv 2402.17764", "ptq"),
    "twn-ptq": ("TWN, arXiv 1605.04711", "ptq"),
    "ttq-ptq": ("TTQ, arXiv 1612.01064 (closed-form scales)", "ptq"),
    "btq-ptq": ("HitNet BTQ, NeurIPS 2018", "ptq"),
    "gptq-ptq": ("GPTQ, arXiv 2210.17323 (ternary grid)", "ptq"),
    "tequila-ptq": ("Tequila, arXiv 2509.23809 (calibrated bias)", "ptq"),
    "absmean-ft": ("BitNet b1.58 STE fine-tune (baseline of the training methods)", "train"),
    "tequila": ("Tequila, arXiv 2509.23809", "train"),
    "hyperspherical": ("Liu & Liu, arXiv 2212.12649", "train"),
    "stq": ("Smart Ternary Quantization, arXiv 1909.12205", "train"),
    "admm": ("Leng et al., AAAI 2018, arXiv 1707.09870", "train"),
    "mlq": ("Xu et al., AAAI 2018, arXiv 1803.03289", "train"),
    "rmsnorm": ("Extra RMSNorm, arXiv 2505.08823", "train"),
    "features": ("Lu et al., ternary features, arXiv 2203.16798", "train"),
}


def _ptq(method: str, params, data: Data, seed: int) -> QuantizedMLP:
    """Post-training methods; calibrated ones see each layer's input in the *quantized*
    network built so far (sequential, as GPTQ does)."""
    q = from_params(method, "post-training on the float model", params)
    x = data.x_train.astype(np.float64)
    rng = np.random.default_rng(seed)
    for i, n in enumerate(LAYERS):
        w = np.asarray(params[f"{n}.weight"], dtype=np.float64)
        if method == "twn-ptq":
            q.tensors[n] = ternarize(w, "twn", name=n)
        elif method == "ttq-ptq":
            q.tensors[n] = ternarize(w, "ttq", name=n)
        elif method == "btq-ptq":
            q.tensors[n] = bernoulli_ternarize(w, rng, name=n)
        elif method == "gptq-ptq":
            q.tensors[n] = gptq_ternarize(w, q.layer_inputs(x)[n], name=n)
        elif method == "tequila-ptq":
            tb = tequila_bias(w, q.tensors[n], q.layer_inputs(x)[n], name=n)
            q.extra_bias[n] = tb.bias
            q.biases[n] = np.asarray(params[f"{n}.bias"], dtype=np.float64) + tb.bias
        del i
    return q


def _absmean_ft(params, data: Data, epochs: int, seed: int) -> QuantizedMLP:
    def loss(p, xb, yb, prog):
        return cross_entropy(mlp_forward(p, xb, lambda i, w: ste(w, absmean_q(w))), yb)

    out = fit(dict(params), loss, data, epochs=epochs, seed=seed, lr=1e-3)
    return from_params("absmean-ft", "fine-tune from float (STE)", out)


def _trainers() -> dict[str, Callable]:
    from .admm import train_admm
    from .features import train_features
    from .hyperspherical import train_hyperspherical
    from .mlq import train_mlq
    from .rmsnorm import train_rmsnorm
    from .stq import train_stq
    from .tequila import train_tequila

    return {"tequila": train_tequila, "hyperspherical": train_hyperspherical,
            "stq": train_stq, "admm": train_admm, "mlq": train_mlq, "rmsnorm": train_rmsnorm,
            "features": train_features}


def run_method(method: str, float_params: dict[str, np.ndarray], data: Data, *,
               epochs: int = 30, seed: int = 0) -> QuantizedMLP:
    """Quantize the digits MLP with ``method`` (a key of :data:`METHODS`)."""
    if method not in METHODS:
        raise TernhwError(f"unknown quantization method {method!r}; known: "
                          f"{', '.join(METHODS)}")
    if method == "absmean-qat":
        from ...weights import load_source

        model = load_source("digits")
        params = {k: np.asarray(v, dtype=np.float64) for k, v in model.tensors.items()}
        return from_params(method, "QAT from scratch (shipped, ternhw train-digits)", params)
    if METHODS[method][1] == "ptq":
        return _ptq(method, float_params, data, seed)
    if method == "absmean-ft":
        return _absmean_ft(float_params, data, epochs, seed)
    return _trainers()[method](float_params, data, epochs=epochs, seed=seed)
