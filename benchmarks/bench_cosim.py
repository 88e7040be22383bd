"""Co-simulation throughput: the cocotb testbench, the bulk harness and free-running Verilator.

    python benchmarks/bench_cosim.py --json benchmarks/results/bench_cosim.json

All three run the same RTL (the default config) in the same run on the same job: MiniLM's
first FFN matrix (1536 x 384, real activations, 2-bit weights) for ``--tokens`` tokens.

* ``cocotb``: ``ternhw sim --engine cocotb``'s path, the driver/monitor/scoreboard testbench
  (a Python call per handshake);
* ``bulk``: ``--engine bulk``, the compiled C++ harness (``ternhw/cosim/harness.cpp``) driving
  every stream word and recording every result word, checked in Python afterwards;
* ``raw``: the same executable clocking the same command with constant stream words and no
  bookkeeping at all (``harness --raw``): the ceiling of any harness on this Verilator model.

Rates are simulated clock cycles per second of the simulation loop (build time excluded; for
the bulk path the checking in Python is reported apart, ``bulk_check_s``); bulk and raw are
the best of ``--repeats`` runs (the shared machines this runs on are noisy: single runs of the
bulk path vary by +-20 %). Target: bulk >= 0.5 of raw.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.config import load_config  # noqa: E402
from ternhw.cosim.bulk import raw_rate  # noqa: E402
from ternhw.cosim.runner import prebuild, run_cases  # noqa: E402
from ternhw.cosim.workloads import matrix_cases  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.weights import load_source  # noqa: E402

TARGET = 0.5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--raw-cycles", type=int, default=400_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    cfg = load_config(args.config)
    cases, note = matrix_cases(cfg, load_source("minilm"), None, args.tokens)
    builds = {e: prebuild(cfg, e) for e in ("cocotb", "bulk")}
    cocotb = run_cases(cfg, cases, engine="cocotb")
    bulks = [run_cases(cfg, cases, engine="bulk") for _ in range(args.repeats)]
    bulk = max(bulks, key=lambda r: r.sim_cycles_per_s)
    raws = [raw_rate(cfg, cases[0], args.raw_cycles) for _ in range(args.repeats)]
    raw = max(raws, key=lambda r: r["raw_cycles_per_s"])
    for r in (cocotb, *bulks):
        if not r.passed:
            print(f"{r.simulator}: co-simulation FAILED", file=sys.stderr)
            return 1
    ratio = bulk.sim_cycles_per_s / raw["raw_cycles_per_s"]
    doc = {
        "benchmark": "co-simulation throughput, cycles/s",
        "config": cfg.name, "job": f"{cases[0].name}, {args.tokens} tokens ({note})",
        "cycles": bulk.cycles_rtl, "outputs_checked": bulk.outputs_checked,
        "cocotb_cycles_per_s": cocotb.sim_cycles_per_s,
        "bulk_cycles_per_s": bulk.sim_cycles_per_s,
        "raw_cycles_per_s": raw["raw_cycles_per_s"], "raw_cycles": raw["raw_cycles"],
        "cocotb_over_raw": cocotb.sim_cycles_per_s / raw["raw_cycles_per_s"],
        "bulk_over_raw": ratio,
        "bulk_over_cocotb": bulk.sim_cycles_per_s / cocotb.sim_cycles_per_s,
        "bulk_end_to_end_cycles_per_s": bulk.cycles_rtl / bulk.run_s,
        "repeats": args.repeats,
        "bulk_cycles_per_s_all": [r.sim_cycles_per_s for r in bulks],
        "raw_cycles_per_s_all": [r["raw_cycles_per_s"] for r in raws],
        "bulk_run_s": bulk.run_s, "bulk_harness_s": bulk.extra["harness_s"],
        "bulk_check_s": bulk.run_s - bulk.extra["harness_s"],
        "build_s": builds,
        "target": f"bulk_over_raw >= {TARGET}", "target_met": ratio >= TARGET,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    for k in ("cocotb_cycles_per_s", "bulk_cycles_per_s", "raw_cycles_per_s"):
        print(f"{k:<22} {doc[k]:>12,.0f}")
    print(f"bulk / raw {ratio:.2f} (target >= {TARGET}: "
          f"{'met' if doc['target_met'] else 'NOT met'}); cocotb / raw "
          f"{doc['cocotb_over_raw']:.3f}; bulk / cocotb {doc['bulk_over_cocotb']:.1f}x")
    if args.json:
        atomic_write_json(args.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
