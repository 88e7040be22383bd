"""The method x hardware table on all-MiniLM-L6-v2 (``ternhw methods --model minilm``).

The methods that apply to a pretrained transformer without training it from scratch: the
shipped distilled model (:mod:`.distill`) and the post-training ones, each from the same float
checkpoint. For each: the mean cosine similarity and the Spearman correlation of pairwise
similarities between its sentence embeddings and the float model's on held-out sentences
(default: ``data/minilm_eval_sentences.txt``), every encoder linear layer on the bit-exact
integer pipeline; per layer the zero fraction, dead-zone statistics where the latent float
weights are known, bits per weight in every packed format and the trits' entropy; and the
energy per token and tokens/s of a 128-token sequence on an accelerator config through the
report's event model (:func:`ternhw.energy.activity_check.price_layers`: each method's own
trits and the real activations its own pipeline computes), plus what the array lacks for a
method: a per-channel scale table (:func:`.table.channel_scale_pj`).

A method whose weights the integer pipeline cannot run gets a row saying why (TTQ's separate
positive and negative scales need a second requantizer scale the array does not have).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ...config import AcceleratorConfig, load_config
from ...energy import technology_of
from ...errors import TernhwError
from ...formats.model_io import LoadedModel
from ...formats.sizes import FORMATS, bits_per_weight
from ..stats import ternary_stats
from ..ternarize import ternarize
from .btq import bernoulli_ternarize
from .table import channel_scale_pj, scatter_methods, trit_entropy

#: Method -> (paper, what is done to MiniLM).
MINILM_METHODS: dict[str, tuple[str, str]] = {
    "distilled": ("BitNet b1.58 absmean, arXiv 2402.17764, distilled (scripts/distill_minilm.py)",
                  "shipped: fine-tuned against the float model, per-tensor scales"),
    "absmean-ptq": ("BitNet b1.58, arXiv 2402.17764", "post-training, per-tensor scales"),
    "absmean-channel-ptq": ("BitNet b1.58, arXiv 2402.17764",
                            "post-training, per-output-channel scales"),
    "twn-ptq": ("TWN, arXiv 1605.04711", "post-training"),
    "btq-ptq": ("HitNet BTQ, NeurIPS 2018", "post-training, stochastic (seed 0)"),
    "gptq-ptq": ("GPTQ, arXiv 2210.17323 (ternary grid)",
                 "post-training, calibrated on standard-library prose"),
    "tequila-ptq": ("Tequila, arXiv 2509.23809 (calibrated bias)",
                    "post-training, calibrated on standard-library prose"),
    "ttq-ptq": ("TTQ, arXiv 1612.01064 (closed-form scales)", "post-training"),
}
#: Tokens of the sequence the energy and throughput columns price (MiniLM's seq-128 prefill).
SEQ_LEN = 128


def minilm_variant(method: str, float_model: LoadedModel, distilled: LoadedModel,
                   calib: Callable[[], dict[str, np.ndarray]]) -> tuple[LoadedModel, dict]:
    """``(model, extra)``: the float checkpoint with ``method``'s ternary weights (and trained
    or folded float parameters); ``extra`` holds what the row reports beyond the weights.
    ``calib()`` gives the float model's per-layer calibration inputs (computed once)."""
    from .minilm_ptq import gptq_minilm, tequila_minilm

    # source "minilm": the workload feeds each variant its own pipeline's real activations
    m = LoadedModel("minilm", float_model.tensors)
    names = [n for n in float_model.linear_names() if n.startswith("encoder.layer.")]
    extra: dict = {}
    if method == "distilled":
        m.ternary, m.ternary_floats = distilled.ternary, distilled.ternary_floats
    elif method in ("absmean-ptq", "absmean-channel-ptq", "twn-ptq", "ttq-ptq"):
        how = method.split("-")[0]
        gran = "channel" if "channel" in method else "tensor"
        m.ternary = {n: ternarize(float_model.tensors[n], how, gran, name=n) for n in names}
    elif method == "btq-ptq":
        rng = np.random.default_rng(0)
        m.ternary = {n: bernoulli_ternarize(float_model.tensors[n], rng, name=n) for n in names}
    elif method == "gptq-ptq":
        m.ternary = gptq_minilm(float_model, None, inputs=calib())
    elif method == "tequila-ptq":
        m.ternary, m.ternary_floats, trapped = tequila_minilm(float_model, calib())
        # BERT's linear layers have biases already: the folded term rides in the same words
        extra["folded_bias_words"] = sum(t.shape[0] for t in m.ternary.values())
        extra["trapped_fraction"] = trapped
    else:
        raise TernhwError(f"unknown MiniLM method {method!r}; known: "
                          f"{', '.join(MINILM_METHODS)}")
    return m, extra


def layer_rows(model: LoadedModel, float_model: LoadedModel, latent_known: bool) -> list[dict]:
    rows = []
    for name, tt in model.ternary.items():
        st = ternary_stats(float_model.tensors[name], tt) if latent_known else None
        rows.append({
            "name": name.removesuffix(".weight"),
            "shape": list(tt.shape),
            "zero_fraction": float(np.mean(tt.trits == 0)),
            "trapped_fraction": None if st is None else st["boundary_mass"],
            "entropy_bits": trit_entropy(tt.trits),
            "bits_per_weight": {f: bits_per_weight(tt, f) for f in FORMATS},
            "scales": "per-channel" if tt.pos_scale.size > 1 else "per-tensor",
            "asymmetric_scales": not tt.symmetric,
        })
    return rows


def hardware_energy(cfg: AcceleratorConfig, model: LoadedModel, tech) -> dict:
    """Energy and cycles of one ``SEQ_LEN``-token sequence of ``model`` on ``cfg``."""
    from ...energy.activity_check import price_layers
    from ...workload.models import model_workload

    layers = model_workload(model, seq_len=SEQ_LEN).layers
    energy, runs = price_layers(cfg, layers, SEQ_LEN, tech=tech)
    cycles = sum(plan.total_cycles for _, _, plan in runs)
    # what the array does not have: a scale table for per-channel methods (per token)
    extra = sum(channel_scale_pj(tech, t.shape[0]) for t in model.ternary.values()
                if t.pos_scale.size > 1)
    return {"energy_pj_per_token": energy.total / SEQ_LEN + extra,
            "extra_energy_pj_per_token": extra,
            "energy_components_pj_per_token": {k: v / SEQ_LEN
                                               for k, v in energy.components.items()},
            "cycles_per_sequence": cycles,
            "tokens_per_s": SEQ_LEN * cfg.clock_mhz * 1e6 / cycles}


def method_row(method: str, float_model: LoadedModel, distilled: LoadedModel, calib,
               cfg: AcceleratorConfig, sentences, tech) -> dict:
    from ...infer.minilm import evaluate_minilm
    from ...weights import minilm_dir

    t0 = time.perf_counter()
    row = {"method": method, "citation": MINILM_METHODS[method][0],
           "training": MINILM_METHODS[method][1]}
    model, extra = minilm_variant(method, float_model, distilled, calib)
    asym = [n for n, t in model.ternary.items() if not t.symmetric]
    if asym:
        row["not_applicable"] = (
            f"{len(asym)} layers have separate +1/-1 scales; the integer pipeline (and the "
            "accelerator's requantizer) holds one symmetric scale per tensor or channel")
        return row
    ev = evaluate_minilm(cfg, model, minilm_dir(), sentences)
    n_total = sum(t.size for t in model.ternary.values())
    per_channel = [n for n, t in model.ternary.items() if t.pos_scale.size > 1]
    row.update({
        "cosine_similarity": ev.doc["cosine_similarity"],
        "cosine_similarity_min": ev.doc["cosine_similarity_min"],
        "spearman_pairwise": ev.doc.get("spearman_pairwise"),
        "zero_fraction": sum(int((t.trits == 0).sum()) for t in model.ternary.values())
        / n_total,
        "layers": layer_rows(model, float_model, latent_known=method != "distilled"),
        **hardware_energy(cfg, model, tech),
        "hardware": {"per_channel_scales": per_channel,
                     "folded_bias_layers": sorted(n.removesuffix(".bias")
                                                  for n in model.ternary_floats
                                                  if n.endswith(".bias")),
                     "trained_layernorms": method == "distilled"},
        **extra,
    })
    row["seconds"] = time.perf_counter() - t0
    return row


def build_minilm_table(methods: list[str] | None = None, *, config: str = "default",
                       sentences: list[str] | None = None, progress=None) -> dict:
    """Run ``methods`` (default: all of :data:`MINILM_METHODS`) on MiniLM."""
    from ...infer.minilm import read_sentences
    from ...weights import load_source, minilm_dir
    from .distill import EVAL_SENTENCES_FILE
    from .minilm_ptq import calibration_sentences, float_layer_inputs

    methods = list(MINILM_METHODS) if not methods else methods
    unknown = [m for m in methods if m not in MINILM_METHODS]
    if unknown:
        raise TernhwError(f"unknown MiniLM method(s) {', '.join(unknown)}; known: "
                          f"{', '.join(MINILM_METHODS)}")
    cfg = load_config(config)
    if not cfg.is_ternary:
        raise TernhwError(f"config {cfg.name!r} is not a ternary design")
    tech = technology_of(cfg)
    if sentences is None:
        sentences = read_sentences(EVAL_SENTENCES_FILE)
    if not sentences:
        raise TernhwError("no sentences to evaluate the MiniLM methods on")
    float_model = load_source("minilm", distilled=False)
    distilled = load_source("minilm")
    cache: dict[str, dict] = {}

    def calib():
        if "x" not in cache:
            cache["x"] = float_layer_inputs(float_model, minilm_dir(), calibration_sentences())
        return cache["x"]

    rows = []
    for m in methods:
        rows.append(method_row(m, float_model, distilled, calib, cfg, sentences, tech))
        if progress:
            progress(m, rows[-1])
    return {"model": "all-MiniLM-L6-v2", "config": cfg.name,
            "energy_model": "ternhw.energy.activity_check.price_layers (the report's events)",
            "technology": tech.describe(), "seq_len": SEQ_LEN,
            "clock_mhz": cfg.clock_mhz,
            "clock_basis": "the config's clock_mhz target (leakage and tokens/s); `ternhw "
                           "report` uses the placed Fmax where one is cached",
            "eval_sentences": len(sentences), "methods": rows}


def format_minilm_table(doc: dict) -> str:
    head = (f"{'method':<20} {'cosine':>7} {'min':>6} {'rho':>6} {'zeros':>6} {'H b/w':>6} "
            f"{'uJ/tok':>7} {'tok/s':>8}  extra hardware")
    lines = [f"all-MiniLM-L6-v2 on config {doc['config']!r}: {doc['eval_sentences']} held-out "
             f"sentences; energy and tokens/s of a {doc['seq_len']}-token sequence at "
             f"{doc['clock_mhz']:g} MHz ({doc['technology']['logic_node_nm']:g} nm, "
             f"{doc['technology']['dram']['technology']})", head, "-" * len(head)]
    for r in doc["methods"]:
        if "not_applicable" in r:
            lines.append(f"{r['method']:<20} n/a: {r['not_applicable']}")
            continue
        n = sum(ly["shape"][0] * ly["shape"][1] for ly in r["layers"])
        h = sum(ly["entropy_bits"] * ly["shape"][0] * ly["shape"][1] for ly in r["layers"]) / n
        hw = r["hardware"]
        extra = ([f"per-channel scales x{len(hw['per_channel_scales'])}"]
                 if hw["per_channel_scales"] else [])
        if hw["folded_bias_layers"] and r["method"] != "distilled":
            extra.append("bias (folded)")
        if hw["trained_layernorms"]:
            extra.append("- (trained biases/LayerNorms replace the float ones)")
        rho = r["spearman_pairwise"]
        lines.append(f"{r['method']:<20} {r['cosine_similarity']:>7.4f} "
                     f"{r['cosine_similarity_min']:>6.3f} "
                     f"{'n/a' if rho is None else format(rho, '.3f'):>6} "
                     f"{r['zero_fraction']:>6.3f} {h:>6.3f} "
                     f"{r['energy_pj_per_token'] / 1e6:>7.2f} {r['tokens_per_s']:>8.0f}  "
                     f"{', '.join(extra) or '-'}")
    return "\n".join(lines)


def plot_cosine_energy(doc: dict, path) -> None:
    """Cosine to the float model vs energy per token, one point per method."""
    rows = [r for r in doc["methods"] if "not_applicable" not in r]
    scatter_methods(rows, path, lambda r: r["energy_pj_per_token"] / 1e6,
                    lambda r: r["cosine_similarity"],
                    f"energy per token (uJ), {doc['seq_len']}-token sequence",
                    "mean cosine to the float embeddings",
                    f"all-MiniLM-L6-v2: quantization method vs energy ({doc['config']})")
