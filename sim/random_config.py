"""Replay the random-config co-simulation regression: ``python sim/random_config.py SEED [...]``.

Each seed names one random valid configuration and its random GEMMs
(``ternhw.cosim.random_configs``); the test suite prints the seeds it runs, and a failing one
is replayed here with the full per-case report.
"""

import sys

from ternhw.cosim.random_configs import random_cases, random_config
from ternhw.cosim.runner import run_cases


def main(seeds: list[int]) -> int:
    failed = 0
    for seed in seeds:
        cfg = random_config(seed)
        report = run_cases(cfg, random_cases(cfg, seed), engine="bulk")
        print(f"seed {seed}: {cfg}")
        for c in report.cases:
            print(f"  {c['name']} {c['m']}x{c['k']}x{c['n']}: {c['outputs_checked']} outputs, "
                  f"{c['mismatches']} mismatches, cycles {c['cycles_rtl']}/{c['cycles_model']}, "
                  f"checks tripped: {c['checks'] or 'none'}")
        failed += not report.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main([int(s) for s in sys.argv[1:]] or [0]))
