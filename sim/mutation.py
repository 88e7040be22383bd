"""Mutation score of the co-simulation regression (issue 13, item 4).

    python sim/mutation.py [--config small] [--count 60] [--seed 1] \\
        [--json reports/verification/mutation_small.json]

Lists ``--count`` single-bit mutations of the config's flattened netlist with Yosys's
``mutate -list``, co-simulates each against the regression on the bulk engine and writes the
score, every mutant's fate, and each survivor with the reason it cannot be observed
(``ternhw.cosim.mutation``). Exit status 1 when the score is below 95 %.
"""

import argparse
import sys
from pathlib import Path

from ternhw.config import load_config
from ternhw.cosim.mutation import mutation_score
from ternhw.fileio import atomic_write_json

GOAL = 0.95


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="small")
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path,
                    default=Path("reports/verification/mutation_small.json"))
    args = ap.parse_args(argv)
    doc = mutation_score(load_config(args.config), count=args.count, seed=args.seed,
                         progress=lambda line: print(line, flush=True))
    atomic_write_json(args.json, doc)
    print(f"{doc['killed']} of {doc['mutants']} mutants killed, {doc['unobservable']} "
          f"unobservable (reasons in {args.json}); score {doc['score']:.1%} "
          f"(goal {GOAL:.0%})")
    for s in doc["survivors"]:
        print(f"  survivor {s['id']}: {s['mutation']}\n    {s.get('reason', 'NO REASON')}")
    return 0 if doc["score"] >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
