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

#: The sentence batch co-simulation feeds MiniLM: ``ternhw infer minilm``'s sentences, then
#: more, so that a whole-model run has 128 + tokens of real text (each sentence is encoded on
#: its own; its tokens, [CLS] and [SEP] included, are rows of every layer's input).
SIM_EXTRA_SENTENCES = (
    "A woman is slicing tomatoes in the kitchen while the radio plays an old song.",
    "The committee postponed its decision on the new bridge until the spring meeting.",
    "Children were building a sandcastle near the lighthouse when the tide came in.",
    "Quantized neural networks trade a little accuracy for much smaller and faster models.",
    "Heavy rain flooded several streets, and the buses ran more than an hour late.",
    "She borrowed three books about medieval castles from the public library.",
    "The orchestra rehearsed the second movement until the conductor was satisfied.",
    "Engineers measured the energy of every memory access before choosing the cache size.",
)


def minilm_layer_inputs(cfg: AcceleratorConfig, model: LoadedModel,
                        tokens: int) -> tuple[dict[str, np.ndarray], dict]:
    """The first ``tokens`` quantized inputs the integer MiniLM pipeline feeds each of its
    linear layers, keyed by weight name (``...dense.weight``), from one pass over the sentence
    batch: each layer's input is what the layers before it computed on the ternary
    accelerator's integer arithmetic (:func:`ternhw.infer.minilm.ternary_linears`, returned
    second, keyed without ``.weight``)."""
    from ..infer.minilm import SENTENCES, MiniLM, ternary_linears
    from ..infer.tokenizer import WordPieceTokenizer
    from ..weights import minilm_dir

    d = minilm_dir()
    net = MiniLM(model, json.loads((d / "config.json").read_text()), ternary=True)
    linears = ternary_linears(model, net.layers)
    tok = WordPieceTokenizer(d / "vocab.txt")
    captured: dict[str, list[np.ndarray]] = {name: [] for name in linears}
    seen = 0

    def linear(name, x):
        captured[name].append(quantize_activations(x, cfg.act_bits)[0])
        return linears[name](cfg, x)

    for sentence in SENTENCES + SIM_EXTRA_SENTENCES:
        ids = tok.encode(sentence)
        net.encode(ids, linear)
        seen += len(ids)
        if seen >= tokens:
            break
    if seen < tokens:
        raise TernhwError(f"the built-in sentences give only {seen} tokens; ask for fewer")
    return ({f"{name}.weight": np.concatenate(xs)[:tokens] for name, xs in captured.items()},
            linears)


def minilm_activations(cfg: AcceleratorConfig, model: LoadedModel, layer: str,
                       tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """``(xq, trits)``: the first ``tokens`` quantized inputs that the integer MiniLM pipeline
    feeds ``layer`` (over the sentence batch), and the layer's ternary weights."""
    inputs, linears = minilm_layer_inputs(cfg, model, tokens)
    if layer not in inputs:
        raise TernhwError(unknown_layer_message(model, layer, list(inputs)))
    return inputs[layer], linears[layer.removesuffix(".weight")].weights.w


class MiniLMFeed:
    """MiniLM's real activations, layer by layer (one pass over the sentences computes every
    layer's, kept for the next layer asked about)."""

    def __init__(self, model: LoadedModel):
        self.model = model
        self._inputs: dict[tuple[int, int], dict[str, np.ndarray]] = {}

    def operands(self, cfg: AcceleratorConfig, layer: Layer, tokens: int | None):
        tokens = tokens or min(DEFAULT_SIM_TOKENS, layer.m)
        key = (cfg.act_bits, tokens)
        if key not in self._inputs:
            self._inputs = {key: minilm_layer_inputs(cfg, self.model, tokens)[0]}
        if layer.label not in self._inputs[key]:
            raise TernhwError(unknown_layer_message(self.model, layer.label,
                                                    list(self._inputs[key])))
        x = self._inputs[key][layer.label]
        requant = calibrated_requant(cfg, layer, x) if layer.requant else None
        what = ("; int8 outputs, requantizer calibrated on these tokens (127 / max |acc|)"
                if requant is not None else "")
        return (x, None, requant,
                f"real activations: the first {tokens} tokens `ternhw infer minilm` feeds "
                f"it{what}")


def calibrated_requant(cfg: AcceleratorConfig, layer: Layer, x: np.ndarray) -> Requant:
    """The static per-tensor requantizer a deployment calibrates for ``layer``: the largest
    accumulator magnitude of ``x`` through the layer's weights on ``cfg`` maps to 127 (int8
    outputs, as the next layer reads them)."""
    from ..model.gemm import gemm

    peak = int(np.abs(gemm(cfg, x, layer.weights_on(cfg)).acc).max())
    return Requant.from_scale(127 / max(peak, 1))


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
