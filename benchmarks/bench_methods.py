"""Method x hardware tables: the digits MLP (every method) and, with --minilm, all-MiniLM-L6-v2
(the shipped distilled model and the post-training methods that apply).

    python benchmarks/bench_methods.py --json benchmarks/results/bench_methods.json \
        --plot benchmarks/results/methods_accuracy_energy.png --minilm

Needs the ``train`` extra (jax). Digits: about a minute on 2 cores. --minilm adds the MiniLM
table on the 120 held-out sentences of ``ternhw/data/minilm_eval_sentences.txt`` and its plot
(``methods_minilm_cosine_energy.png`` beside --plot; about 10 minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.quant.methods.minilm_table import (  # noqa: E402
    build_minilm_table,
    format_minilm_table,
    plot_cosine_energy,
)
from ternhw.quant.methods.table import build_table, format_table, plot_accuracy_energy  # noqa


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/bench_methods.json"))
    ap.add_argument("--plot", type=Path,
                    default=Path("benchmarks/results/methods_accuracy_energy.png"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--minilm", action="store_true", help="also the MiniLM table (slow)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    doc = build_table(seed=args.seed, epochs=args.epochs)
    doc["seconds"] = time.perf_counter() - t0
    print(format_table(doc))
    if args.minilm:
        t1 = time.perf_counter()
        doc["minilm"] = build_minilm_table(
            progress=lambda m, r: print(f"  MiniLM {m}: {r.get('cosine_similarity')}",
                                        flush=True))
        doc["minilm"]["seconds"] = time.perf_counter() - t1
        print(format_minilm_table(doc["minilm"]))
        plot_cosine_energy(doc["minilm"],
                           args.plot.with_name("methods_minilm_cosine_energy.png"))
    atomic_write_json(args.json, doc)
    plot_accuracy_energy(doc, args.plot, batched=True)
    print(f"wrote {args.json} and {args.plot} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
