"""Method x hardware table on the digits MLP (and, with --minilm, GPTQ-style MiniLM PTQ).

    python benchmarks/bench_methods.py --json benchmarks/results/bench_methods.json \
        --plot benchmarks/results/methods_accuracy_energy.png [--minilm]

Needs the ``train`` extra (jax). Digits: about a minute on 2 cores. --minilm adds the absmean
vs GPTQ-style post-training cosine similarity of all-MiniLM-L6-v2 (about 5 minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.quant.methods.table import build_table, format_table, plot_accuracy_energy  # noqa


def minilm_gptq() -> dict:
    from ternhw.config import load_config
    from ternhw.infer.minilm import evaluate_minilm
    from ternhw.quant.methods.minilm_ptq import calibration_sentences, gptq_minilm
    from ternhw.weights import load_source, minilm_dir

    cfg, model, d = load_config("default"), load_source("minilm"), minilm_dir()
    sents = calibration_sentences()
    out = {"calibration_sentences": len(sents)}
    for g in ("tensor", "channel"):
        base = evaluate_minilm(cfg, model, d, granularity=g).doc
        t0 = time.perf_counter()
        model.ternary = gptq_minilm(model, d, sents, granularity=g)
        doc = evaluate_minilm(cfg, model, d, granularity=g).doc
        model.ternary = {}
        out[g] = {"absmean_cosine": base["cosine_similarity"],
                  "absmean_spearman": base.get("spearman_pairwise"),
                  "gptq_cosine": doc["cosine_similarity"],
                  "gptq_spearman": doc.get("spearman_pairwise"),
                  "gptq_seconds": time.perf_counter() - t0}
        print(f"MiniLM {g} scales: absmean cosine {base['cosine_similarity']:.4f}, "
              f"GPTQ-style {doc['cosine_similarity']:.4f}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/bench_methods.json"))
    ap.add_argument("--plot", type=Path,
                    default=Path("benchmarks/results/methods_accuracy_energy.png"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--minilm", action="store_true", help="also GPTQ-style MiniLM PTQ (slow)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    doc = build_table(seed=args.seed, epochs=args.epochs)
    doc["seconds"] = time.perf_counter() - t0
    print(format_table(doc))
    if args.minilm:
        doc["minilm_gptq"] = minilm_gptq()
    atomic_write_json(args.json, doc)
    plot_accuracy_energy(doc, args.plot, batched=True)
    print(f"wrote {args.json} and {args.plot} ({doc['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
