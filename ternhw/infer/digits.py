"""The ternary digits MLP run entirely on the integer pipeline.

Inputs are pixels 0-16 quantized to ``round(pixel / 16 * Qmax)``; each layer is a ternary GEMM
with an integer bias ``round(b / (s_x s_w))`` in the accumulator; between layers the
accumulators are requantized (16-bit multiplier, shift, ReLU in the clamp) to int8 with a static
activation scale calibrated on the training images; the last layer's accumulators are the
logits (argmax). The float-ternary model (same ternary weights, float activations) is the
comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..model.contract import OUT_MAX, Events, Requant
from ..model.gemm import WeightMatrix, gemm
from ..quant.ternarize import ternarize
from ..weights.digits import LAYERS, PIXEL_MAX, forward_float, load_digits_split


@dataclass
class IntegerLayer:
    name: str
    weights: WeightMatrix
    bias: np.ndarray          # int64, in accumulator units
    requant: Requant | None   # None for the logits layer


def build_integer_mlp(cfg: AcceleratorConfig, model: LoadedModel) -> list[IntegerLayer]:
    """Quantize the MLP for ``cfg``; activation scales are calibrated on the training split."""
    if cfg.act_bits < 8:
        raise TernhwError(f"the digits pipeline passes int8 activations between layers, so it "
                          f"needs act_bits >= 8 (config {cfg.name!r} has {cfg.act_bits})")
    params = {k: np.asarray(v, dtype=np.float64) for k, v in model.tensors.items()}
    x_tr = load_digits_split()[0]
    s_x = PIXEL_MAX / cfg.act_max / PIXEL_MAX      # input scale: x = pixel/16 = xq * s_x
    h = x_tr / PIXEL_MAX
    layers = []
    for i, name in enumerate(LAYERS):
        tt = model.ternary.get(f"{name}.weight") or ternarize(params[f"{name}.weight"],
                                                              name=f"{name}.weight")
        if tt.pos_scale.size != 1 or not tt.symmetric:
            raise TernhwError(f"{name}.weight: the digits pipeline needs one scale per tensor")
        s_w = float(tt.pos_scale[0, 0])
        s_acc = s_x * s_w
        b = params[f"{name}.bias"]
        bias = np.round(b / s_acc).astype(np.int64)
        if (np.abs(bias) > cfg.acc_max).any():
            raise TernhwError(f"{name}.bias does not fit a {cfg.acc_bits}-bit accumulator")
        h = h @ tt.dequantize().astype(np.float64).T + b
        requant = None
        if i < len(LAYERS) - 1:
            h = np.maximum(h, 0.0)
            s_next = float(h.max()) / OUT_MAX
            requant = Requant.from_scale(s_acc / s_next, relu=True)
            s_x = s_next
        layers.append(IntegerLayer(name, WeightMatrix(tt.trits), bias, requant))
    return layers


def run_digits(cfg: AcceleratorConfig, model: LoadedModel) -> dict:
    """Integer-pipeline accuracy on the test split vs the float-ternary model."""
    layers = build_integer_mlp(cfg, model)
    _, _, x_te, y_te = load_digits_split()
    x = np.round(x_te / PIXEL_MAX * cfg.act_max).astype(np.int64)
    events: dict[str, Events] = {}
    overflow = 0
    for layer in layers:
        r = gemm(cfg, x, layer.weights, layer.bias, layer.requant)
        events[layer.name] = r.events
        overflow += r.events.overflow_events
        x = r.out
    int_acc = float((x.argmax(axis=1) == y_te).mean())
    params = {k: np.asarray(v, dtype=np.float64) for k, v in model.tensors.items()}
    weights = {k: v.dequantize().astype(np.float64) for k, v in model.ternary.items()} or None
    float_acc = float((forward_float(params, x_te, weights).argmax(axis=1) == y_te).mean())
    return {
        "model": "digits MLP 64-256-128-10",
        "config": cfg.name,
        "test_images": int(len(y_te)),
        "accuracy": int_acc,
        "float_ternary_accuracy": float_acc,
        "accuracy_delta": int_acc - float_acc,
        "overflow_events": overflow,
        "layers": {name: ev.to_dict() for name, ev in events.items()},
        "requant": {layer.name: None if layer.requant is None else
                    {"multiplier": layer.requant.multiplier, "shift": layer.requant.shift,
                     "relu": layer.requant.relu} for layer in layers},
    }
