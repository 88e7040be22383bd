"""GPTQ-style ternary post-training quantization of all-MiniLM-L6-v2 (no training).

Calibration: sentences from the docstrings of Python's standard library (English prose that
ships with every interpreter, offline; the evaluation sentences of :mod:`ternhw.infer.minilm`
are excluded). The float model runs them once; every encoder linear layer accumulates the
Hessian ``2 X^T X`` of its inputs; each layer is then ternarized with
:func:`ternhw.quant.methods.gptq.gptq_ternarize`. Simplified: inputs come from the float model
(GPTQ feeds each layer the outputs of the already-quantized ones).
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable

import numpy as np

from ...formats.model_io import LoadedModel
from ...infer.minilm import LINEAR_SUFFIXES, SENTENCES, MiniLM
from ...infer.tokenizer import WordPieceTokenizer
from ..ternarize import TernaryTensor
from .gptq import gptq_ternarize

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
            text = re.sub(r"\s+", " ", d)
            for s in re.split(r"(?<=[.!?])\s+", text):
                words = s.split()
                letters = sum(c.isalpha() or c == " " for c in s) / max(len(s), 1)
                if 6 <= len(words) <= 40 and letters > 0.9 and s[:1].isupper() and \
                        s not in seen:
                    seen.add(s)
                    found.append(s)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(found))[:n]
    return [found[i] for i in sorted(order)]


def gptq_minilm(model: LoadedModel, model_dir, sentences: list[str] | None = None, *,
                granularity: str = "tensor", progress: Callable[[str], None] | None = None,
                ) -> dict[str, TernaryTensor]:
    """GPTQ-ternarized weights of every encoder linear layer, ``{name.weight: tensor}``; put
    them in ``model.ternary`` and :func:`ternhw.infer.minilm.evaluate_minilm` runs them."""
    sentences = calibration_sentences() if sentences is None else sentences
    config = json.loads((model_dir / "config.json").read_text())
    tok = WordPieceTokenizer(model_dir / "vocab.txt")
    net = MiniLM(model, config)
    hess: dict[str, np.ndarray] = {}
    count: dict[str, int] = {}

    def hook(name, x):
        hess[name] = hess.get(name, 0.0) + 2.0 * (x.T @ x)
        count[name] = count.get(name, 0) + len(x)
        return net.float_linear(name, x)

    for s in sentences:
        net.encode(tok.encode(s), hook)
    out = {}
    for i in range(net.layers):
        for suffix in LINEAR_SUFFIXES:
            name = f"encoder.layer.{i}.{suffix}"
            out[name + ".weight"] = gptq_ternarize(
                model.tensors[name + ".weight"], h=hess[name] / count[name],
                granularity=granularity, name=name + ".weight")
            if progress:
                progress(name)
    return out
