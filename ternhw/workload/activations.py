"""Real activations of the shipped models, per layer: what co-simulation feeds a layer when the
workload has them.

* digits: the held-out images through the integer MLP (``ternhw infer digits``), each layer
  fed the previous layer's int8 outputs, with its integer bias and requantizer;
* MiniLM: the quantized inputs the integer pipeline feeds a linear layer over the fixed
  sentences (``ternhw infer minilm``).

Both depend on the config (activation bits, the digits biases in accumulator units), so a feed
computes them for the config it is asked about.
"""

from __future__ import annotations

import json

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..model.contract import Requant
from ..quant.activations import quantize_activations
from ..quant.pipeline import unknown_layer_message
from .layer import DEFAULT_SIM_TOKENS, Layer


def minilm_activations(cfg: AcceleratorConfig, model: LoadedModel, layer: str,
                       tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """``(xq, trits)``: the first ``tokens`` quantized inputs that the integer MiniLM pipeline
    feeds ``layer`` (over the fixed sentences), and the layer's ternary weights."""
    from ..infer.minilm import SENTENCES, MiniLM, ternary_linears
    from ..infer.tokenizer import WordPieceTokenizer
    from ..weights import minilm_dir

    d = minilm_dir()
    net = MiniLM(model, json.loads((d / "config.json").read_text()))
    linears = ternary_linears(model, net.layers)
    key = layer.removesuffix(".weight")
    if key not in linears:
        raise TernhwError(unknown_layer_message(model, layer, [f"{n}.weight" for n in linears]))
    tok = WordPieceTokenizer(d / "vocab.txt")
    captured: list[np.ndarray] = []

    def linear(name, x):
        if name == key:
            captured.append(quantize_activations(x, cfg.act_bits)[0])
        return linears[name](cfg, x)

    for sentence in SENTENCES:
        net.encode(tok.encode(sentence), linear)
        if sum(len(c) for c in captured) >= tokens:
            break
    xq = np.concatenate(captured)[:tokens]
    if len(xq) < tokens:
        raise TernhwError(f"the fixed sentences give only {len(xq)} tokens; ask for fewer")
    return xq, linears[key].weights.w


class MiniLMFeed:
    """MiniLM's real activations, layer by layer."""

    def __init__(self, model: LoadedModel):
        self.model = model

    def operands(self, cfg: AcceleratorConfig, layer: Layer, tokens: int | None):
        tokens = tokens or min(DEFAULT_SIM_TOKENS, layer.m)
        x, _ = minilm_activations(cfg, self.model, layer.label, tokens)
        return (x, None, None,
                f"real activations: the first {tokens} tokens `ternhw infer minilm` feeds it")


class DigitsFeed:
    """The digits MLP's real activations: held-out images through the integer pipeline."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self._mlp: dict = {}

    def mlp(self, cfg: AcceleratorConfig):
        """The integer MLP for ``cfg`` (biases and requantizers depend on its act_bits)."""
        from ..infer.digits import build_integer_mlp

        if cfg not in self._mlp:
            self._mlp[cfg] = build_integer_mlp(cfg, self.model)
        return self._mlp[cfg]

    def operands(self, cfg: AcceleratorConfig, layer: Layer, tokens: int | None
                 ) -> tuple[np.ndarray, np.ndarray | None, Requant | None, str]:
        from ..model.gemm import gemm
        from ..weights.digits import PIXEL_MAX, load_digits_split

        x_te = load_digits_split()[2]
        if tokens is not None:
            if tokens > len(x_te):
                raise TernhwError(f"--tokens {tokens}: the digits test split has "
                                  f"{len(x_te)} images")
            x_te = x_te[:tokens]
        x = np.round(x_te / PIXEL_MAX * cfg.act_max).astype(np.int64)
        for lay in self.mlp(cfg):
            if f"{lay.name}.weight" == layer.label:
                return (x, lay.bias, lay.requant, "real activations: the integer pipeline's, "
                        "layer to layer, on held-out images")
            x = gemm(cfg, x, lay.weights, lay.bias, lay.requant).out
        raise TernhwError(f"digits: no MLP layer {layer.label!r}")
