"""The method x hardware table on the digits MLP (``ternhw methods``; MiniLM's is
:mod:`.minilm_table`).

For each method: test accuracy (ternary weights, float arithmetic; ternary hidden activations
for ``features``), per layer the zero fraction, the Tequila dead-zone statistics (weights inside
the dead zone, and the *trapped* ones within 5% of its boundary, :func:`ternary_stats`), the
exact bits per weight in every packed format (:mod:`ternhw.formats.sizes`) against the entropy
of the layer's trits, and the energy of one inference on an accelerator config through
:func:`ternhw.energy.price_gemm` -- the report's energy model: every action of every component,
in the config's technology (``logic_node_nm``, ``dram_technology``, ``vdd``), from the events
of the layer's schedule (:func:`ternhw.workload.layer_events`, which depend only on the trits
and the shapes) -- plus the hardware the method needs beyond the shipped array: per-channel or
asymmetric scales, biases it folds in, binary layers, RMSNorm units, 2-bit activations.

Energy is per image at batch 1 (weights streamed in for every image, as in decode) and per
image when the 359 test images run as one batch (weights read once, or as often as the schedule
reloads them). Cycles do not depend on the method: the array gates zero lanes but does not skip
their cycles.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable

import numpy as np

from ...config import AcceleratorConfig, load_config
from ...energy import Technology, price_gemm, technology_of
from ...errors import TernhwError
from ...formats.sizes import FORMATS, bits_per_weight
from ...model.gemm import WeightMatrix
from ...weights.digits import LAYERS
from ..stats import ternary_stats
from .digits import METHODS, run_method
from .model import QuantizedMLP


def trit_entropy(trits: np.ndarray) -> float:
    """Empirical entropy of the trits, bits per weight: the bound no packing can beat."""
    counts = np.array([(trits == v).sum() for v in (-1, 0, 1)], dtype=np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def layer_rows(q: QuantizedMLP) -> list[dict]:
    rows = []
    for n in LAYERS:
        tt = q.tensors[n]
        st = ternary_stats(q.latent[n], tt)
        rows.append({
            "name": n,
            "shape": list(tt.shape),
            "binary": bool(q.binary.get(n)),
            "zero_fraction": st["zero_fraction"],
            "trapped_fraction": st["boundary_mass"],
            "entropy_bits": trit_entropy(tt.trits),
            "bits_per_weight": {f: bits_per_weight(tt, f) for f in FORMATS},
            "scales": "per-channel" if tt.pos_scale.size > 1 else "per-tensor",
            "asymmetric_scales": not tt.symmetric,
        })
    return rows


def energy_rows(q: QuantizedMLP, cfg: AcceleratorConfig, tech: Technology, batch: int) -> dict:
    """Energy (pJ) and cycles of one image at ``batch`` images per GEMM (``price_gemm`` of
    each layer's schedule and events: biases loaded, hidden layers requantized to int8)."""
    from ...workload import Layer, layer_events, layer_schedule

    total, macs, cycles, comps = 0.0, 0, 0, {}
    for i, n in enumerate(LAYERS):
        c = cfg.replace(act_bits=2) if (q.act == "ternary" and i > 0) else cfg
        tt = q.tensors[n]
        n_out, k = tt.shape
        layer = Layer(n, batch, k, n_out, WeightMatrix(tt.trits),
                      requant=i < len(LAYERS) - 1, bias=True)
        plan = layer_schedule(c, layer)
        e = price_gemm(c, layer_events(c, layer, plan), plan, macs=batch * n_out * k,
                       tech=tech)
        total += e.total
        macs += e.macs
        for key, v in e.components.items():
            comps[key] = comps.get(key, 0.0) + v / batch
        cycles += plan.total_cycles
    extra = _extra_energy(q, cfg, tech)
    return {"energy_pj": total / batch + extra, "extra_energy_pj": extra,
            "macs": macs // batch, "cycles": cycles / batch, "components_pj": comps}


def _extra_energy(q: QuantizedMLP, cfg: AcceleratorConfig, tech: Technology) -> float:
    """Energy the shipped array does not model, per image (estimates, documented, priced with
    the same technology): an RMSNorm before a layer of ``K`` inputs costs ``K`` squares
    (``act x act`` multiply), ``K`` ``acc_bits`` adds and ``K`` gain multiplies
    (``act x 16``); a per-channel scale costs one read of a 16-bit word per output from a
    table of one word per output channel (CACTI, at its width and depth)."""
    e = 0.0
    for n in LAYERS:
        n_out, k = q.tensors[n].shape
        if q.norms is not None:
            e += k * (tech.multiply(cfg.act_bits, cfg.act_bits).pj + tech.add(cfg.acc_bits).pj
                      + tech.multiply(cfg.act_bits, 16).pj)
        if q.tensors[n].pos_scale.size > 1:
            e += channel_scale_pj(tech, n_out)
    return e


def channel_scale_pj(tech: Technology, n_out: int) -> float:
    """Reading per-output-channel scales for one token of a layer with ``n_out`` outputs: one
    16-bit word per output from a table of ``n_out`` words (CACTI at that geometry), pJ. The
    shipped array holds one scale per tensor; this is the estimated cost of the table a
    per-channel method adds."""
    return n_out * tech.sram(16, n_out).read.pj


def hardware_needs(q: QuantizedMLP) -> dict:
    """What the method needs beyond per-tensor symmetric ternary weights and int8 activations."""
    return {
        "per_channel_scales": [n for n in LAYERS if q.tensors[n].pos_scale.size > 1],
        "asymmetric_scales": [n for n in LAYERS if not q.tensors[n].symmetric],
        "folded_bias_words": {n: int(np.count_nonzero(q.extra_bias[n])) for n in q.extra_bias},
        "binary_layers": [n for n in LAYERS if q.binary.get(n)],
        "rmsnorm_units": list(LAYERS) if q.norms is not None else [],
        "activation_bits": {n: 2 if (q.act == "ternary" and i > 0) else 8
                            for i, n in enumerate(LAYERS)},
    }


def method_row(method: str, q: QuantizedMLP, data, cfg, tech: Technology | None,
               seconds: float) -> dict:
    """One row of the table; ``tech`` None: the config's technology."""
    tech = tech or technology_of(cfg)
    b1 = energy_rows(q, cfg, tech, 1)
    bn = energy_rows(q, cfg, tech, len(data.y_test))
    n_total = sum(q.tensors[n].size for n in LAYERS)
    return {
        "method": method,
        "citation": METHODS[method][0],
        "training": q.training,
        "accuracy": q.accuracy(data.x_test, data.y_test),
        "zero_fraction": sum((q.tensors[n].trits == 0).sum() for n in LAYERS) / n_total,
        "layers": layer_rows(q),
        "energy_pj_per_inference": b1["energy_pj"],
        "energy_pj_per_inference_batched": bn["energy_pj"],
        "extra_energy_pj": b1["extra_energy_pj"],
        "energy_components_pj": b1["components_pj"],
        "cycles_per_inference": b1["cycles"],
        "inferences_per_s": cfg.clock_mhz * 1e6 / b1["cycles"],
        "hardware": hardware_needs(q),
        "notes": q.notes,
        "seconds": seconds,
    }


def build_table(methods: list[str] | None = None, *, config: str = "default", seed: int = 0,
                epochs: int = 30, progress=None) -> dict:
    """Run ``methods`` (default: all) on digits; the ``ternhw methods`` JSON document."""
    from .training import digits_data, require_jax, train_float

    methods = list(METHODS) if not methods else methods
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise TernhwError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    require_jax()  # the shared float model is trained with jax
    cfg = load_config(config)
    if not cfg.is_ternary:
        raise TernhwError(f"config {cfg.name!r} is not a ternary design")
    tech = technology_of(cfg)
    data = digits_data()
    float_params = train_float(seed)
    rows = []
    for m in methods:
        t0 = time.perf_counter()
        q = run_method(m, float_params, data, epochs=epochs, seed=seed)
        rows.append(method_row(m, q, data, cfg, tech, time.perf_counter() - t0))
        if progress:
            progress(m, rows[-1])
    from .training import mlp_forward

    logits = np.asarray(mlp_forward(float_params, data.x_test, lambda i, w: w))
    return {
        "model": "digits MLP 64-256-128-10",
        "config": cfg.name,
        "energy_model": "ternhw.energy.price_gemm",
        "technology": tech.describe(),
        "seed": seed,
        "epochs": epochs,
        "float_accuracy": float((logits.argmax(axis=1) == data.y_test).mean()),
        "test_images": int(len(data.y_test)),
        "log2_3": math.log2(3),
        "methods": rows,
    }


def format_table(doc: dict) -> str:
    head = (f"{'method':<15} {'acc %':>6} {'zeros':>6} {'trap':>6} {'H b/w':>6} "
            f"{'2bit':>6} {'base3':>6} {'pJ/inf':>9} {'pJ/inf@B':>9}  extra hardware")
    lines = [f"digits MLP on config {doc['config']!r} (float model: "
             f"{100 * doc['float_accuracy']:.2f}%)", head, "-" * len(head)]
    for r in doc["methods"]:
        n = sum(layer["shape"][0] * layer["shape"][1] for layer in r["layers"])

        def avg(key, rows=r["layers"], n=n):
            return sum(layer[key] * layer["shape"][0] * layer["shape"][1] for layer in rows) / n

        def bpw(fmt, rows=r["layers"], n=n):
            v = [layer["bits_per_weight"][fmt] for layer in rows]
            if any(x is None for x in v):
                return float("nan")
            return sum(x * ly["shape"][0] * ly["shape"][1] for x, ly in zip(v, rows,
                                                                            strict=True)) / n

        hw = r["hardware"]
        extra = []
        if hw["per_channel_scales"]:
            extra.append("per-channel scales")
        if hw["asymmetric_scales"]:
            extra.append("+/- scales")
        if any(hw["folded_bias_words"].values()):
            extra.append("bias (folded)")
        if hw["binary_layers"]:
            extra.append("binary " + ",".join(hw["binary_layers"]))
        if hw["rmsnorm_units"]:
            extra.append("RMSNorm x3")
        if any(b == 2 for b in hw["activation_bits"].values()):
            extra.append("2-bit activations")
        lines.append(f"{r['method']:<15} {100 * r['accuracy']:>6.2f} {r['zero_fraction']:>6.3f} "
                     f"{avg('trapped_fraction'):>6.3f} {avg('entropy_bits'):>6.3f} "
                     f"{bpw('2bit'):>6.3f} {bpw('base3'):>6.3f} "
                     f"{r['energy_pj_per_inference']:>9.0f} "
                     f"{r['energy_pj_per_inference_batched']:>9.0f}  "
                     f"{', '.join(extra) or '-'}")
    return "\n".join(lines)


def plot_accuracy_energy(doc: dict, path, *, batched: bool = False) -> None:
    """Accuracy vs energy per inference, one point per method (PNG, written atomically)."""
    key = "energy_pj_per_inference_batched" if batched else "energy_pj_per_inference"
    scatter_methods(doc["methods"], path, lambda r: r[key] / 1e3,
                    lambda r: 100 * r["accuracy"],
                    "energy per inference (nJ)" + (", batched" if batched else ", batch 1"),
                    "test accuracy (%)",
                    f"digits MLP: quantization method vs energy ({doc['config']})")


def scatter_methods(rows: list[dict], path, x: Callable, y: Callable, xlabel: str, ylabel: str,
                    title: str) -> None:
    """One labelled point per method row (PNG, written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...fileio import atomic_path

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        ax.scatter(x(r), y(r), s=25)
        ax.annotate(r["method"], (x(r), y(r)), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


# --- command line ----------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    from .minilm_table import MINILM_METHODS

    p.add_argument("--model", choices=("digits", "minilm"), default="digits",
                   help="the network the methods quantize; default: %(default)s")
    p.add_argument("--method", action="append", metavar="NAME",
                   help="only this method (repeatable); default: all. digits: "
                        + ", ".join(METHODS) + ". minilm: " + ", ".join(MINILM_METHODS))
    p.add_argument("--sentences", metavar="FILE",
                   help="minilm: held-out sentences, one a line (default: the shipped "
                        "evaluation set, data/minilm_eval_sentences.txt)")
    from ...config import shipped_config_names

    p.add_argument("--config", default="default", metavar="CFG",
                   help="accelerator config for the energy model: a .toml path or a shipped "
                        f"name ({', '.join(shipped_config_names())}); its logic_node_nm, "
                        "dram_technology and vdd choose the technology; default: %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.add_argument("--epochs", type=int, default=30,
                   help="fine-tuning epochs of the training methods; default: %(default)s")
    p.add_argument("--plot", metavar="PNG",
                   help="also plot accuracy (digits) or cosine (minilm) vs energy to PNG")


def run(args) -> dict:
    if args.model == "minilm":
        from ...infer.minilm import read_sentences

        if (args.seed, args.epochs) != (0, 30):
            raise TernhwError("--seed and --epochs set the digits methods' training; the "
                              "MiniLM methods do not train (the distilled model ships)")
        from .minilm_table import build_minilm_table, format_minilm_table, plot_cosine_energy

        sentences = read_sentences(args.sentences) if args.sentences else None
        doc = build_minilm_table(args.method, config=args.config, sentences=sentences,
                                 progress=lambda m, r: print(f"  {m}: done", file=sys.stderr))
        print(format_minilm_table(doc))
        if args.plot:
            plot_cosine_energy(doc, args.plot)
            print(f"wrote {args.plot}")
        return doc
    if args.sentences:
        raise TernhwError("--sentences is for --model minilm")
    if args.epochs < 1:
        raise TernhwError(f"--epochs must be a positive integer, not {args.epochs}")
    unknown = [m for m in args.method or [] if m not in METHODS]
    if unknown:
        raise TernhwError(f"unknown digits method(s) {', '.join(unknown)}; known: "
                          f"{', '.join(METHODS)}")
    doc = build_table(args.method, config=args.config, seed=args.seed, epochs=args.epochs)
    print(format_table(doc))
    if args.plot:
        plot_accuracy_energy(doc, args.plot)
        print(f"wrote {args.plot}")
    return doc
