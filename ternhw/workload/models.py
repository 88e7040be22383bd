"""Workloads from model files: every linear layer of a model ternhw reads becomes a GEMM.

``M`` is the tokens of one inference, ``seq_len x batch`` (for the digits MLP, ``batch``
images); ``K`` and ``N`` are the weight matrix's columns and rows. A model with a position
table (BERT-style ``position_embeddings``, GPT-2's ``wpe``) cannot run more tokens than it
has positions, so a longer ``--seq-len`` is refused here rather than silently modelled.
The shipped models bring real activations (:mod:`.activations`); other files do not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..quant.pipeline import QuantizedModel, skipped_note, unknown_layer_message
from ..weights.sources import BUILTIN_SOURCES
from .activations import DigitsFeed, MiniLMFeed
from .layer import Layer, Workload, check_dim

DIGITS_LAYERS = ("fc1.weight", "fc2.weight", "fc3.weight")
#: Tensor-name endings of learned position tables (rows = positions): BERT/MiniLM, GPT-2,
#: BART/OPT/Whisper.
POSITION_TABLES = ("position_embeddings.weight", "wpe.weight", "embed_positions.weight")


def positions(model: LoadedModel) -> tuple[str, int] | None:
    """``(tensor, rows)`` of the model's learned position table, if it has one."""
    for name, t in model.tensors.items():
        if name.endswith(POSITION_TABLES) and np.ndim(t) == 2:
            return name, int(np.shape(t)[0])
    return None


def check_seq_len(model: LoadedModel, seq_len: int, option: str = "--seq-len") -> None:
    """Refuse a sequence longer than the model's positions, naming both (and the option that
    set the length)."""
    pos = positions(model)
    if pos is not None and seq_len > pos[1]:
        raise TernhwError(f"{model.source}: {option} {seq_len} is beyond the model's "
                          f"{pos[1]} positions ({pos[0]} has {pos[1]} rows)")


def _label(model: LoadedModel) -> str:
    return model.source if model.source in BUILTIN_SOURCES else Path(model.source).name


def model_workload(model: LoadedModel, q: QuantizedModel | None = None, *, seq_len: int = 128,
                   batch: int = 1, option: str = "--seq-len") -> Workload:
    """One inference of ``model``: its linear layers as GEMMs of ``seq_len x batch`` tokens.

    With ``q`` (a :func:`~ternhw.quant.pipeline.quantize_model` result) the layers take its
    trits; without, each layer ternarizes its own tensor (absmean, per tensor, as ``q`` would)
    on first use, so co-simulating one layer of a large model costs one ternarization.
    The digits MLP runs ``batch`` images with biases and int8 requantization between layers;
    MiniLM (and other BERT-style files) its 36 encoder matrices. Every layer but the digits
    classifier writes int8 outputs, as a deployed pipeline does (the next operation reads
    int8): its requantizer is calibrated on the real activations where the workload has them.
    ``option`` names what set ``seq_len`` in errors."""
    seq_len = check_dim(seq_len, option)
    batch = check_dim(batch, "--batch")
    names = list(q.ternary) if q is not None else model.linear_names()
    # a position table is looked up, not multiplied (GPT-2's wpe.weight passes the linear test)
    names = [n for n in names if not n.endswith(POSITION_TABLES)]
    if not names:
        raise TernhwError(f"{model.source}: no linear weight matrices found"
                          + skipped_note(model))

    def shape(n: str) -> tuple[int, int]:
        t = q.ternary[n] if q is not None else (model.ternary.get(n) or model.tensors[n])
        return tuple(t.shape)

    def trits(n: str):
        if q is not None:
            return lambda: q.ternary[n].trits

        def make():
            from ..quant.ternarize import ternarize

            tt = model.ternary.get(n)
            if tt is None:
                try:
                    tt = ternarize(model.tensors[n], name=n)
                except TernhwError as e:
                    raise TernhwError(f"{model.source}: {e}") from None
            return tt.trits
        return make

    def layer(n: str, m: int, **kw) -> Layer:
        rows, cols = shape(n)
        name = n.removesuffix(".weight")
        return Layer(name, m, cols, rows, weights_fn=trits(n), tensor=n,
                     where=f"{model.source}: layer {name!r}", **kw)

    label = _label(model)

    def unknown(name: str) -> str:
        return unknown_layer_message(model, name, names)

    if set(DIGITS_LAYERS) <= set(names):
        feed = DigitsFeed(model)
        layers = [layer(n, batch, requant=n != "fc3.weight", bias=True, feed=feed)
                  for n in DIGITS_LAYERS]
        what = "digits" if label == "digits" else f"{label} (digits MLP)"
        images = f"{batch} image{'s' if batch > 1 else ''}"
        return Workload(f"{what} ({images})", layers, batch, model.source,
                        ["real weights; real activations: held-out images through the "
                         "integer MLP"], unknown)
    check_seq_len(model, seq_len, option)
    m = seq_len * batch
    per = f"seq {seq_len}" + (f", batch {batch}" if batch > 1 else "")
    encoder = [n for n in names if n.startswith("encoder.layer.")]
    if encoder:
        feed = MiniLMFeed(model) if model.source in ("minilm", "minilm-ptq") else None
        # as deployed, the accelerator writes int8 outputs for the next operation to read
        layers = [layer(n, m, feed=feed, requant=True) for n in encoder]
        what = {"minilm": "MiniLM", "minilm-ptq": "MiniLM (post-training)"}.get(label, label)
        acts = ("real activations: the fixed sentences through the integer pipeline; int8 "
                "outputs, each layer's requantizer calibrated on them"
                if feed else "no activations (co-simulation draws seeded random ones); int8 "
                "outputs")
        return Workload(f"{what} ({per})", layers, m, model.source,
                        [f"real weights; {acts}"], unknown)
    layers = [layer(n, m, requant=True) for n in names]
    tokens = f"{seq_len} tokens" + (f", batch {batch}" if batch > 1 else "")
    return Workload(f"{label} ({tokens})", layers, m, model.source,
                    ["real weights; no activations (co-simulation draws seeded random ones)"],
                    unknown)


def unpriced_work(model: LoadedModel, seq_len: int, batch: int = 1) -> str:
    """What one inference of ``model`` does besides its linear layers, which the ternary
    array does not run and the report does not price (a sentence for the report)."""
    queries = [n for n in model.tensors if n.endswith("attention.self.query.weight")]
    if not queries:
        return ("Out of scope (not run on the array, not priced): every operation of the "
                "model outside its linear layers (their bias, ReLU and requantization run in "
                "the array's output stage and are priced).")
    hidden = int(np.shape(model.tensors[queries[0]])[0])
    attn = 2 * len(queries) * batch * seq_len * seq_len * hidden
    return (f"Out of scope (not run on the ternary array, not priced): the attention products "
            f"QK^T and PV (activation x activation: {attn:,} MACs per inference over "
            f"{len(queries)} layers), softmax, LayerNorm, GELU, the embedding lookup and the "
            "pooling; the report prices the linear layers only.")


def real_workload(cfg, model: LoadedModel, q: QuantizedModel, seq_len: int, *,
                  batch: int = 1) -> tuple[str, list[Layer], int]:
    """``(name, layers, tokens per inference)`` of one inference on the real weights: the
    report's former signature (``cfg`` is unused: a layer gives each config its own view of
    its weights, :meth:`Layer.weights_on`)."""
    w = model_workload(model, q, seq_len=seq_len, batch=batch)
    return w.name, w.layers, w.tokens
