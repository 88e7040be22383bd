"""all-MiniLM-L6-v2 in NumPy, with every linear layer on the ternary integer pipeline.

Embeddings, attention softmax, LayerNorm and GELU stay in float32/float64; the 36 encoder
linear layers (query, key, value, attention output, intermediate, output per block) run as
absmean-ternary weights times per-token int activations through ``ternhw.model.gemm``. The
sentence embedding is the mean of the last hidden states (sentence-transformers' pooling); the
cosine similarity of the ternary and the float embeddings measures what post-training
ternarization costs this model. :func:`evaluate_minilm` runs any list of sentences (e.g. from
:func:`read_sentences`) and also returns both sets of L2-normalised embeddings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf
from scipy.stats import spearmanr

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..quant.ternarize import ternarize
from .linear import TernaryLinear
from .tokenizer import MAX_LENGTH, WordPieceTokenizer

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
    """The encoder; ``linear(name, x)`` decides how each linear layer is computed.

    ``ternary=True`` is the network the ternary pipeline runs: a distilled model's trained
    biases and LayerNorms (``model.ternary_floats``) replace the checkpoint's; the default is
    the float checkpoint, the reference.
    """

    def __init__(self, model: LoadedModel, config: dict, *, ternary: bool = False):
        tensors = {**model.tensors, **model.ternary_floats} if ternary else model.tensors
        self.t = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
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
    """The encoder's linear layers on the integer pipeline: the model's ternary weights (a
    distilled model's) or, for a float checkpoint, ``method``/``granularity`` post-training."""
    out = {}
    for i in range(layers):
        for s in LINEAR_SUFFIXES:
            name = f"encoder.layer.{i}.{s}"
            tt = model.ternary.get(name + ".weight") or ternarize(
                model.tensors[name + ".weight"], method, granularity, name=name + ".weight")
            bias = model.ternary_floats.get(name + ".bias", model.tensors.get(name + ".bias"))
            out[name] = TernaryLinear.from_ternary(name + ".weight", tt, bias)
    return out


def weights_description(model: LoadedModel, granularity: str = "tensor") -> str:
    """What the ternary pipeline runs, for reports: distilled (shipped) or post-training."""
    if model.ternary:
        methods = sorted({t.method for t in model.ternary.values()})
        grans = sorted({t.granularity for t in model.ternary.values()})
        return f"{'/'.join(methods)} ternary, {'/'.join(grans)} scales (from {model.source})"
    return f"absmean ternary, {granularity} scales (post-training)"


@dataclass
class MiniLMEvaluation:
    """What :func:`evaluate_minilm` measured.

    ``doc`` is the ``infer`` JSON document; ``ternary_embeddings`` (every encoder linear layer
    on the ternary integer pipeline) and ``float_embeddings`` (the float model) are the sentence
    embeddings, one float32 row per sentence, mean-pooled over the attention mask (every token:
    one unpadded sentence at a time) and L2-normalised, as sentence-transformers' ``Pooling``
    and ``Normalize`` modules do for all-MiniLM-L6-v2, so a dot product is a cosine.
    """

    doc: dict
    ternary_embeddings: np.ndarray
    float_embeddings: np.ndarray


def _unit_rows(rows: list[np.ndarray]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)


def spearman_pairwise(ternary: np.ndarray, reference: np.ndarray) -> float | None:
    """Spearman rank correlation of the pairwise cosine similarities (each pair once).

    This is the figure sentence-embedding benchmarks (STS) report: what matters downstream is
    whether the ternary model *ranks* sentence pairs as the float model does, not whether each
    embedding is close to its float twin. Needs at least 3 sentences (3 pairs); ``None`` when
    the correlation is undefined (a constant similarity list).
    """
    if len(ternary) < 3:
        raise ValueError("Spearman correlation of pairwise similarities needs >= 3 sentences")
    i, j = np.triu_indices(len(ternary), k=1)
    t = (ternary.astype(np.float64) @ ternary.T.astype(np.float64))[i, j]
    f = (reference.astype(np.float64) @ reference.T.astype(np.float64))[i, j]
    rho = float(spearmanr(t, f).statistic)
    return rho if np.isfinite(rho) else None


def evaluate_minilm(cfg: AcceleratorConfig, model: LoadedModel, model_dir,
                    sentences: Sequence[str] | None = None, granularity: str = "tensor",
                    progress: Callable[[int, int], None] | None = None,
                    max_length: int = MAX_LENGTH) -> MiniLMEvaluation:
    """Embed ``sentences`` (default: the built-in :data:`SENTENCES`) with the float model and
    with every encoder linear layer on the ternary integer pipeline.

    Each sentence is tokenized to at most ``max_length`` ids ([CLS] and [SEP] included) and
    encoded on its own. The document has the per-sentence and mean cosine of ternary vs float
    embeddings, the accelerator events of every layer and, with >= 3 sentences,
    ``spearman_pairwise`` (:func:`spearman_pairwise`).
    """
    sentences = SENTENCES if sentences is None else tuple(sentences)
    if not sentences:
        raise TernhwError("no sentences to embed")
    if any(not isinstance(s, str) for s in sentences):
        raise TernhwError("sentences must be strings")
    config = json.loads((model_dir / "config.json").read_text())
    tok = WordPieceTokenizer(model_dir / "vocab.txt")
    net = MiniLM(model, config)
    student = MiniLM(model, config, ternary=True)
    linears = ternary_linears(model, net.layers, granularity=granularity)
    per_sentence = []
    refs, terns = [], []
    tokens = 0
    for i, s in enumerate(sentences):
        ids = tok.encode(s, max_length=max_length)
        tokens += len(ids)
        ref = net.encode(ids, net.float_linear)
        tern = student.encode(ids, lambda name, x: linears[name](cfg, x))
        refs.append(ref)
        terns.append(tern)
        cos = float(ref @ tern / (np.linalg.norm(ref) * np.linalg.norm(tern)))
        per_sentence.append({"sentence": s, "tokens": len(ids), "cosine_similarity": cos})
        if progress:
            progress(i + 1, len(sentences))
    cosines = [p["cosine_similarity"] for p in per_sentence]
    ternary, reference = _unit_rows(terns), _unit_rows(refs)
    doc = {
        "model": "all-MiniLM-L6-v2",
        "config": cfg.name,
        "weights": weights_description(model, granularity),
        "sentences": len(sentences),
        "tokens": tokens,
        "cosine_similarity": float(np.mean(cosines)),
        "cosine_similarity_min": float(np.min(cosines)),
    }
    if len(sentences) >= 3:
        doc["spearman_pairwise"] = spearman_pairwise(ternary, reference)
    doc["per_sentence"] = per_sentence
    doc["layers"] = {name: lin.events.to_dict() for name, lin in linears.items()}
    return MiniLMEvaluation(doc, ternary, reference)


def run_minilm(cfg: AcceleratorConfig, model: LoadedModel, model_dir,
               sentences: Sequence[str] | None = None, granularity: str = "tensor",
               progress: Callable[[int, int], None] | None = None) -> dict:
    """Float vs ternary-integer sentence embeddings; returns the ``infer`` JSON document.

    ``sentences`` defaults to the built-in :data:`SENTENCES`; use :func:`evaluate_minilm` to
    get the embeddings too.
    """
    return evaluate_minilm(cfg, model, model_dir, sentences, granularity, progress).doc


def read_sentences(path: str | Path) -> list[str]:
    """Sentences from a UTF-8 text file, one per line; blank lines are skipped.

    Lines end at LF, CRLF or CR only (not at U+2028 or form feed, which ``str.splitlines``
    would also break on), a leading byte-order mark is ignored, and surrounding whitespace is
    trimmed (the tokenizer ignores it anyway). Every failure is a :class:`TernhwError` naming
    the file: missing, a directory, unreadable, not UTF-8, or without a single sentence.
    """
    p = Path(path)
    if p.is_dir():
        raise TernhwError(f"{p}: is a directory, not a sentence file (one sentence per line)")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise TernhwError(f"{p}: no such sentence file") from None
    except OSError as e:
        raise TernhwError(f"{p}: cannot read the sentence file: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise TernhwError(f"{p}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                          f"{e.start}, line {line})") from None
    sentences = [s.strip() for s in re.split(r"\r\n|\r|\n", text)]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise TernhwError(f"{p}: no sentences (the file is empty or every line is blank)")
    return sentences
