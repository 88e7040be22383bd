"""How close the shipped ternary MiniLM is to the float model, on text it never saw.

    python benchmarks/bench_minilm_distilled.py \\
        --json benchmarks/results/bench_minilm_distilled.json

Three held-out sets, each through the bit-exact integer pipeline of the default config
(:func:`ternhw.infer.minilm.evaluate_minilm`; every encoder linear layer ternary, int8
activations), against the float all-MiniLM-L6-v2, for the shipped distilled weights (``minilm``)
and for post-training absmean (``minilm-ptq``) beside them:

- ``everyday``: ``ternhw/data/minilm_eval_sentences.txt`` (120 sentences written for ternhw).
  The distillation's generated sentences (``distill.generated_sentences``) share their author
  and domain, not their sentences: bring your own text with ``ternhw infer minilm --sentences``
  for an independent figure.
- ``builtin``: the 8 sentences ``ternhw infer minilm`` uses by default.
- ``technical``: 200 sentences from numpy's docstrings (the training prose is the standard
  library's, so these are held out; another author, another domain than the generated text).

The issue's goal: mean cosine >= 0.90 and Spearman of pairwise similarities >= 0.9. About
five minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.config import load_config  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.infer.minilm import SENTENCES, evaluate_minilm, read_sentences  # noqa: E402
from ternhw.weights import load_source, minilm_dir  # noqa: E402


def numpy_sentences(n: int = 200) -> list[str]:
    """The first ``n`` distinct docstring sentences of numpy's sources (sorted files), none of
    them in the distillation's training text."""
    import numpy

    from ternhw.quant.methods.distill import docstrings, prose_sentences, training_sentences

    trained = set(training_sentences())
    out: dict[str, None] = {}
    for doc in docstrings(sorted(Path(numpy.__file__).parent.rglob("*.py"))):
        for s in prose_sentences(doc):
            if s not in trained:
                out[s] = None
                if len(out) == n:
                    return list(out)
    return list(out)


def main() -> int:
    from ternhw.quant.methods.distill import EVAL_SENTENCES_FILE

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path,
                    default=Path("benchmarks/results/bench_minilm_distilled.json"))
    args = ap.parse_args()
    cfg, d = load_config("default"), minilm_dir()
    sets = {"everyday": read_sentences(EVAL_SENTENCES_FILE), "builtin": list(SENTENCES),
            "technical": numpy_sentences()}
    doc = {"config": cfg.name, "goal": {"cosine_similarity": 0.90, "spearman_pairwise": 0.9},
           "sets": {}}
    for source in ("minilm", "minilm-ptq"):
        model = load_source(source)
        for name, sentences in sets.items():
            t0 = time.perf_counter()
            ev = evaluate_minilm(cfg, model, d, sentences).doc
            row = {"sentences": len(sentences), "weights": ev["weights"],
                   "cosine_similarity": ev["cosine_similarity"],
                   "cosine_similarity_min": ev["cosine_similarity_min"],
                   "spearman_pairwise": ev.get("spearman_pairwise"),
                   "seconds": time.perf_counter() - t0}
            doc["sets"].setdefault(name, {})[source] = row
            print(f"{source:<11} {name:<10} {len(sentences):>4} sentences: mean cosine "
                  f"{row['cosine_similarity']:.4f} (min {row['cosine_similarity_min']:.3f}), "
                  f"Spearman {row['spearman_pairwise']}", flush=True)
    atomic_write_json(args.json, doc)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
