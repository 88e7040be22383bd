"""Calibrated ternary post-training quantization of all-MiniLM-L6-v2 (no training): GPTQ-style
error compensation and Tequila's dead-zone bias.

Calibration: sentences from the docstrings of Python's standard library (English prose that
ships with every interpreter, offline; the evaluation sentences of :mod:`ternhw.infer.minilm`
are excluded). The float model runs them once (:func:`float_layer_inputs`); GPTQ ternarizes
every encoder linear layer against the Hessian ``2 X^T X`` of its inputs
(:func:`ternhw.quant.methods.gptq.gptq_ternarize`), Tequila adds the trapped weights' mean
contribution to its bias (:func:`ternhw.quant.methods.tequila.tequila_bias`). Simplified: inputs
come from the float model (GPTQ feeds each layer the outputs of the already-quantized ones).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable

import numpy as np

from ...formats.model_io import LoadedModel
from ...infer.minilm import LINEAR_SUFFIXES, SENTENCES, MiniLM
from ...infer.tokenizer import WordPieceTokenizer
from ..ternarize import TernaryTensor, ternarize
from .distill import prose_sentences
from .gptq import gptq_ternarize, hessian
from .tequila import tequila_bias

#: Standard-library modules whose docstrings give the calibration prose.
CALIBRATION_MODULES = (
    "argparse", "json", "csv", "logging", "unittest", "collections", "itertools", "functools",
    "pathlib", "subprocess", "threading", "datetime", "random", "statistics", "textwrap",
    "difflib", "heapq", "bisect", "shutil", "tempfile", "zipfile", "tarfile", "decimal",
    "fractions", "string", "calendar", "email.message", "http.client", "urllib.request",
    "sqlite3", "asyncio.queues", "typing", "dataclasses", "enum", "abc", "contextlib",
)


def calibration_sentences(n: int = 128, seed: int = 0) -> list[str]:
    """``n`` English sentences from standard-library docstrings (deterministic for ``seed``)."""
    found: list[str] = []
    seen = set(SENTENCES)
    for mod_name in CALIBRATION_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        docs = [inspect.getdoc(mod) or ""]
        docs += [inspect.getdoc(getattr(mod, a)) or "" for a in sorted(dir(mod))
                 if not a.startswith("_")]
        for d in docs:
            for s in prose_sentences(d, words=(6, 40), letters=0.9):
                if s not in seen:
                    seen.add(s)
                    found.append(s)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(found))[:n]
    return [found[i] for i in sorted(order)]


def float_layer_inputs(model: LoadedModel, model_dir, sentences: list[str] | None = None,
                       ) -> dict[str, np.ndarray]:
    """Every encoder linear layer's inputs (tokens, in_features) when the float model runs
    ``sentences`` (default :func:`calibration_sentences`), keyed by layer name."""
    sentences = calibration_sentences() if sentences is None else sentences
    config = json.loads((model_dir / "config.json").read_text())
    tok = WordPieceTokenizer(model_dir / "vocab.txt")
    net = MiniLM(model, config)
    xs: dict[str, list[np.ndarray]] = {}

    def hook(name, x):
        xs.setdefault(name, []).append(x)
        return net.float_linear(name, x)

    for s in sentences:
        net.encode(tok.encode(s), hook)
    return {name: np.concatenate(v) for name, v in xs.items()}


def gptq_minilm(model: LoadedModel, model_dir, sentences: list[str] | None = None, *,
                granularity: str = "tensor", progress: Callable[[str], None] | None = None,
                inputs: dict[str, np.ndarray] | None = None) -> dict[str, TernaryTensor]:
    """GPTQ-ternarized weights of every encoder linear layer, ``{name.weight: tensor}``; put
    them in ``model.ternary`` and :func:`ternhw.infer.minilm.evaluate_minilm` runs them.
    ``inputs``: :func:`float_layer_inputs` already computed."""
    inputs = float_layer_inputs(model, model_dir, sentences) if inputs is None else inputs
    out = {}
    for name in sorted(inputs, key=_layer_order):
        out[name + ".weight"] = gptq_ternarize(
            model.tensors[name + ".weight"], h=hessian(inputs[name]),
            granularity=granularity, name=name + ".weight")
        if progress:
            progress(name)
    return out


def tequila_minilm(model: LoadedModel, inputs: dict[str, np.ndarray]
                   ) -> tuple[dict[str, TernaryTensor], dict[str, np.ndarray], float]:
    """Tequila post-training: absmean per-tensor trits, and each layer's bias plus the trapped
    weights' mean contribution on the calibration ``inputs`` (:func:`float_layer_inputs`).
    Returns ``(ternary, biases, trapped_fraction)``; the biases go to ``ternary_floats``."""
    ternary, biases, trapped, total = {}, {}, 0, 0
    for name in sorted(inputs, key=_layer_order):
        w = model.tensors[name + ".weight"]
        tt = ternarize(w, name=name + ".weight")
        tb = tequila_bias(w, tt, inputs[name], name=name + ".weight")
        ternary[name + ".weight"] = tt
        biases[name + ".bias"] = (np.asarray(model.tensors[name + ".bias"], dtype=np.float64)
                                  + tb.bias).astype(np.float32)
        trapped += int(tb.trapped.sum())
        total += tb.trapped.size
    return ternary, biases, trapped / total


def _layer_order(name: str) -> tuple[int, int]:
    parts = name.split(".")
    return int(parts[2]), LINEAR_SUFFIXES.index(".".join(parts[3:]))
