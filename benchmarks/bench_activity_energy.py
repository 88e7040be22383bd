"""Activity-based energy cross-check (issue 11, item 5): event model vs RTL toggles.

    python benchmarks/bench_activity_energy.py --json benchmarks/results/bench_activity_energy.json

Runs MiniLM's first feed-forward block (intermediate and output dense, real activations of
``--tokens`` tokens, int8 outputs) on ``--config`` through the toggle-counting bulk harness
(``ternhw energy --activity``) and prints, per component, the event model's energy beside the
toggle-priced one with their ratio; the headline is the MAC array plus accumulators, goal
within 15 %. In the same run it times the plain bulk harness on the same job, so the JSON
also says what counting every toggle costs in simulation speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.config import load_config  # noqa: E402
from ternhw.cosim.runner import run_cases  # noqa: E402
from ternhw.cosim.workloads import layer_cases  # noqa: E402
from ternhw.energy.activity_check import activity_cross_check, default_layers  # noqa: E402
from ternhw.energy.cli import print_comparison  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.workload import load_workload  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    cfg = load_config(args.config)
    layers = default_layers(load_workload("minilm").layers)
    t0 = time.monotonic()
    doc = activity_cross_check(cfg, layers, args.tokens)
    wall = time.monotonic() - t0
    cases = [c for lay in layers for c in layer_cases(cfg, lay, args.tokens)[0]]
    plain = run_cases(cfg, cases, engine="bulk")
    print_comparison(doc)
    doc.update({
        "benchmark": "activity-based energy cross-check",
        "wall_s": wall,
        "toggle_cycles_per_s": doc["cycles"] / doc["run_s"] if doc["run_s"] else None,
        "plain_bulk_cycles_per_s": plain.sim_cycles_per_s,
        "plain_bulk_run_s": plain.run_s,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    })
    print(f"toggle-counting run {doc['run_s']:.1f} s vs plain bulk {plain.run_s:.1f} s on "
          f"{doc['cycles']:,} cycles (build {doc['build_s']:.0f} s)")
    if args.json:
        atomic_write_json(args.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
