"""all-MiniLM-L6-v2 in NumPy, with every linear layer on the ternary integer pipeline.

Embeddings, attention softmax, LayerNorm and GELU stay in float32/float64; the 36 encoder
linear layers (query, key, value, attention output, intermediate, output per block) run as
absmean-ternary weights times per-token int activations through ``ternhw.model.gemm``. The
sentence embedding is the mean of the last hidden states (sentence-transformers' pooling); the
cosine similarity of the ternary and the float embeddings measures what post-training
ternarization costs this model.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
from scipy.special import erf

from ..config import AcceleratorConfig
from ..formats.model_io import LoadedModel
from ..quant.ternarize import ternarize
from .linear import TernaryLinear
from .tokenizer import WordPieceTokenizer

#: Fixed real sentences for the cosine-similarity measurement.
SENTENCES = (
    "A man is playing a guitar on the stage.",
    "The new movie is awesome and the actors were great.",
    "Ternary weights replace every multiplication with an addition or a subtraction.",
    "The cat sits outside on the warm window sill.",
    "Stock markets fell sharply after the central bank raised interest rates.",
    "How do I bake bread without yeast?",
    "Researchers trained a small transformer to translate English into German.",
    "The hardware accelerator runs at one hundred megahertz on a low-cost FPGA.",
)
LINEAR_SUFFIXES = ("attention.self.query", "attention.self.key", "attention.self.value",
                   "attention.output.dense", "intermediate.dense", "output.dense")


class MiniLM:
    """The encoder; ``linear(name, x)`` decides how each linear layer is computed."""

    def __init__(self, model: LoadedModel, config: dict):
        self.t = {k: np.asarray(v, dtype=np.float64) for k, v in model.tensors.items()}
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]

    def layer_norm(self, x: np.ndarray, prefix: str) -> np.ndarray:
        mu = x.mean(axis=-1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.t[prefix + ".weight"] + \
            self.t[prefix + ".bias"]

    def float_linear(self, name: str, x: np.ndarray) -> np.ndarray:
        return x @ self.t[name + ".weight"].T + self.t[name + ".bias"]

    def encode(self, ids: list[int], linear: Callable[[str, np.ndarray], np.ndarray]):
        """Mean-pooled sentence embedding of one token sequence."""
        n = len(ids)
        h = (self.t["embeddings.word_embeddings.weight"][ids]
             + self.t["embeddings.position_embeddings.weight"][:n]
             + self.t["embeddings.token_type_embeddings.weight"][0])
        h = self.layer_norm(h, "embeddings.LayerNorm")
        d = self.hidden // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (linear(p + f"attention.self.{w}", h).reshape(n, self.heads, d)
                       .transpose(1, 0, 2) for w in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(1, 0, 2).reshape(n, self.hidden)
            h = self.layer_norm(linear(p + "attention.output.dense", ctx) + h,
                                p + "attention.output.LayerNorm")
            inter = linear(p + "intermediate.dense", h)
            inter = 0.5 * inter * (1.0 + erf(inter / np.sqrt(2.0)))
            h = self.layer_norm(linear(p + "output.dense", inter) + h, p + "output.LayerNorm")
        return h.mean(axis=0)


def ternary_linears(model: LoadedModel, layers: int, method: str = "absmean",
                    granularity: str = "tensor") -> dict[str, TernaryLinear]:
    out = {}
    for i in range(layers):
        for s in LINEAR_SUFFIXES:
            name = f"encoder.layer.{i}.{s}"
            tt = model.ternary.get(name + ".weight") or ternarize(
                model.tensors[name + ".weight"], method, granularity, name=name + ".weight")
            out[name] = TernaryLinear.from_ternary(name + ".weight", tt,
                                                   model.tensors.get(name + ".bias"))
    return out


def run_minilm(cfg: AcceleratorConfig, model: LoadedModel, model_dir,
               sentences=SENTENCES, granularity: str = "tensor",
               progress: Callable[[int, int], None] | None = None) -> dict:
    """Float vs ternary-integer sentence embeddings; returns the ``infer`` JSON document."""
    config = json.loads((model_dir / "config.json").read_text())
    tok = WordPieceTokenizer(model_dir / "vocab.txt")
    net = MiniLM(model, config)
    linears = ternary_linears(model, net.layers, granularity=granularity)
    per_sentence = []
    tokens = 0
    for i, s in enumerate(sentences):
        ids = tok.encode(s)
        tokens += len(ids)
        ref = net.encode(ids, net.float_linear)
        tern = net.encode(ids, lambda name, x: linears[name](cfg, x))
        cos = float(ref @ tern / (np.linalg.norm(ref) * np.linalg.norm(tern)))
        per_sentence.append({"sentence": s, "tokens": len(ids), "cosine_similarity": cos})
        if progress:
            progress(i + 1, len(sentences))
    cosines = [p["cosine_similarity"] for p in per_sentence]
    return {
        "model": "all-MiniLM-L6-v2",
        "config": cfg.name,
        "weights": f"absmean ternary, {granularity} scales (post-training)",
        "sentences": len(sentences),
        "tokens": tokens,
        "cosine_similarity": float(np.mean(cosines)),
        "cosine_similarity_min": float(np.min(cosines)),
        "per_sentence": per_sentence,
        "layers": {name: lin.events.to_dict() for name, lin in linears.items()},
    }
