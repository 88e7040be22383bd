"""MLQ-style incremental layer quantization: quantize layer by layer, let the rest compensate.

Xu, Wang, Li, Wang, Wang, Liu, Tian, "Deep Neural Network Compression with Single and Multiple
Level Quantization", AAAI 2018 (arXiv 1803.03289). Single-level quantization (SLQ) partitions a
layer's weights, quantizes one part and retrains the rest; multiple-level quantization (MLQ)
also proceeds *across layers*: once a layer is quantized it is frozen, and the layers not yet
quantized are retrained to compensate for the error it introduced.

What we implement: the across-layer incremental scheme on the digits MLP — starting from the
float model, for ``l = 1..L``: ternarize layer ``l`` (absmean), freeze it, retrain the float
layers after it (and every bias) for a few epochs. Simplified: whole layers (no SLQ partition
within a layer), layers in network order. Its post-training counterpart, which compensates
within a layer on calibration data instead of by retraining, is :mod:`.gptq`.
"""

from __future__ import annotations

import numpy as np

from ...weights.digits import LAYERS
from .model import QuantizedMLP, from_params
from .training import cross_entropy, fit, mlp_forward


def _absmean_np(w: np.ndarray) -> np.ndarray:
    s = np.abs(w).mean()
    return (s * np.clip(np.round(w / (s + 1e-5)), -1, 1)).astype(np.float32)


def train_mlq(params: dict[str, np.ndarray], data, *, epochs: int = 30,
              seed: int = 0) -> QuantizedMLP:
    p = dict(params)
    per_stage = max(1, epochs // len(LAYERS))
    latent = {}
    for k, n in enumerate(LAYERS):
        latent[n] = np.asarray(p[f"{n}.weight"], dtype=np.float64)
        p[f"{n}.weight"] = _absmean_np(p[f"{n}.weight"])
        frozen = {f"{m}.weight" for m in LAYERS[:k + 1]}

        def loss(pp, xb, yb, prog):
            return cross_entropy(mlp_forward(pp, xb, lambda i, w: w), yb)

        p = fit(p, loss, data, epochs=per_stage, seed=seed + k, lr=1e-3,
                trainable=lambda name, frozen=frozen: name not in frozen)
    q = from_params("mlq", "fine-tune from float (incremental layer-wise)", p)
    q.latent = latent
    return q
