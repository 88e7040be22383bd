"""Real-weight GEMMs to co-simulate: the digits MLP layer by layer, MiniLM linear layers with
the activations ``ternhw infer minilm`` feeds them, or any ternarized matrix of a model file.

Each GEMM runs as the commands of its schedule (``ternhw.model.schedule``): batches of tokens
that fit the activation buffer, each its own case, the first loading a matrix that fits the
weight buffer as resident and the rest reusing it.
"""

from __future__ import annotations

import json

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..model import gemm
from ..model.schedule import schedule_gemm
from ..quant.activations import quantize_activations
from ..quant.pipeline import unknown_layer_message
from ..quant.ternarize import ternarize
from .runner import CosimCase

DEFAULT_MINILM_LAYER = "encoder.layer.0.intermediate.dense.weight"


def _batched(cfg: AcceleratorConfig, name: str, x, w, bias=None, requant=None,
             **handshake) -> list[CosimCase]:
    x = np.asarray(x)
    plan = schedule_gemm(cfg, x.shape[0], x.shape[1], np.shape(w)[0], bias=bias is not None)
    cases = []
    for cmd in plan.commands:
        s, e = cmd.token_start, cmd.token_start + cmd.m
        label = name if len(plan.commands) == 1 else f"{name}[{s}:{e}]"
        cases.append(CosimCase(label, x[s:e], w, bias, requant, resident=cmd.resident,
                               keep_weights=cmd.keep_weights, **handshake))
    return cases


def digits_cases(cfg: AcceleratorConfig, model: LoadedModel, tokens: int | None = None,
                 layer: str | None = None, **handshake) -> list[CosimCase]:
    """The MLP's three layers on the held-out images, each fed the previous layer's int8
    outputs, with their integer biases and requantization (``ternhw infer digits``)."""
    from ..infer.digits import build_integer_mlp
    from ..weights.digits import PIXEL_MAX, load_digits_split

    layers = build_integer_mlp(cfg, model)
    names = [f"{lay.name}.weight" for lay in layers]
    if layer is not None and layer not in names:
        raise TernhwError(unknown_layer_message(model, layer, names))
    x_te = load_digits_split()[2]
    if tokens is not None:
        x_te = x_te[:tokens]
    x = np.round(x_te / PIXEL_MAX * cfg.act_max).astype(np.int64)
    cases = []
    for lay, name in zip(layers, names, strict=True):
        if layer is None or layer == name:
            cases += _batched(cfg, name, x, lay.weights.w, lay.bias, lay.requant, **handshake)
        x = gemm(cfg, x, lay.weights, lay.bias, lay.requant).out
    return cases


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


def matrix_cases(cfg: AcceleratorConfig, model: LoadedModel, layer: str | None, tokens: int,
                 *, seed: int = 0, **handshake) -> tuple[list[CosimCase], str]:
    """One linear layer of ``model``; MiniLM layers get their real activations, other files
    seeded random activations (said in the returned note)."""
    names = model.linear_names()
    if layer is None:
        layer = DEFAULT_MINILM_LAYER if DEFAULT_MINILM_LAYER in names else names[0]
    if layer not in names:
        raise TernhwError(unknown_layer_message(model, layer, names))
    if model.source == "minilm":
        x, w = minilm_activations(cfg, model, layer, tokens)
        note = f"real activations: the first {tokens} tokens `ternhw infer minilm` feeds it"
    else:
        tt = model.ternary.get(layer) or ternarize(model.tensors[layer], name=layer)
        w = tt.trits
        x = np.random.default_rng(seed).integers(cfg.act_min, cfg.act_max + 1,
                                                 size=(tokens, w.shape[1]))
        note = f"seeded random activations (seed {seed}): this file has no activations"
    return _batched(cfg, layer, x, np.asarray(w), seed=seed, **handshake), note
