"""Ternary quantization of features (activations), after Lu et al.

Lu, Chen, Guo, Li, "Quantization: Is It Possible to Improve Classification?" / "Ternary and
Binary Quantization for Improved Classification" (Weizhi Lu et al., arXiv 2203.16798, 2022):
ternarizing features — small values to 0, the rest to their sign — can keep or even improve the
discrimination between classes, because the thresholding suppresses the small, noisy
coordinates; the choice of threshold matters and they relate it to the feature distribution.

What we implement: the digits MLP with ternary *hidden activations* ``sign(z) [|z| > 0.7
mean|z|]`` per token (TWN's rule applied to features; it replaces the ReLU) and absmean-ternary
weights, trained with straight-through gradients from the float model. On the accelerator the
hidden layers then take 2-bit activations (``act_bits = 2``: -1, 0, +1 fit), which narrows the
activation buffers, the activation stream and the adder tree. Simplified: a fixed threshold
ratio (the paper studies the threshold), the input layer keeps 8-bit pixels.
"""

from __future__ import annotations

import numpy as np

from .model import ACT_THRESHOLD, from_params
from .training import absmean_q, cross_entropy, fit, mlp_forward, ste, ternary_act


def train_features(params: dict[str, np.ndarray], data, *, epochs: int = 30, seed: int = 0):
    def loss(p, xb, yb, prog):
        logits = mlp_forward(p, xb, lambda i, w: ste(w, absmean_q(w)),
                             act_fn=lambda z: ternary_act(z, ACT_THRESHOLD))
        return cross_entropy(logits, yb)

    out = fit(dict(params), loss, data, epochs=epochs, seed=seed, lr=1e-3)
    return from_params("features", "fine-tune from float (ternary activations, STE)", out,
                       act="ternary")
