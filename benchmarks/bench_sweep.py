"""Analytic design points per minute of ``ternhw sweep`` on the MiniLM workload.

    python benchmarks/bench_sweep.py [--jobs 2] [--json benchmarks/results/bench_sweep.json]

The workload profile (MiniLM's ternarized weights reduced to per-shape event statistics) is
built once and timed separately; then a space of about 20,000 points (arrays 4x4 to 64x64,
ternary and int8, widths, requantizers, buffer depths, clocks) is evaluated from scratch
(a fresh cache directory) over a ``--jobs``-process pool, and once inline on one core.
Goal (issue 12): >= 10,000 points per minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.sweep.area import shipped_model  # noqa: E402
from ternhw.sweep.runner import Context, evaluate_chunk, run_points  # noqa: E402
from ternhw.sweep.space import parse_space  # noqa: E402
from ternhw.sweep.workload import build_profile  # noqa: E402

GOAL = 10_000
SPACE = {
    "space": {"name": "bench", "base": "default"},
    "axes": {
        "rows": [4, 8, 16, 32, 64], "cols": [4, 8, 16, 32, 64], "act_bits": [4, 6, 8],
        "acc_bits": [16, 24, 32], "weight_format": ["2bit", "base3", "int8"],
        "requant_lanes": [1, 2, 4], "weight_buffer_depth": [1024, 4096],
        "act_buffer_depth": [512, 1024], "clock_mhz": [100.0, 200.0],
    },
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, metavar="PATH")
    args = ap.parse_args()
    space = parse_space(SPACE, source="bench_sweep.py")
    t0 = time.perf_counter()
    profile = build_profile("minilm", space.axes["cols"])
    t_profile = time.perf_counter() - t0
    ctx = Context(space, profile, shipped_model())
    with tempfile.TemporaryDirectory() as d:
        os.environ["TERNHW_CACHE_DIR"] = d
        t0 = time.perf_counter()
        rows = run_points(ctx, jobs=args.jobs, progress=False, log=lambda m: None)
        t_pool = time.perf_counter() - t0
    points = list(enumerate(space.points()))
    items = random.Random(0).sample(points, 4000)       # a seeded, representative sample
    t0 = time.perf_counter()
    evaluate_chunk(ctx, items)
    t_inline = time.perf_counter() - t0
    n = len(rows)
    ok = sum(r["status"] == "ok" for r in rows)
    pool_rate = 60 * n / t_pool
    inline_rate = 60 * len(items) / t_inline
    print(f"profile of {profile.name}: {t_profile:.2f}s ({len(profile.groups)} layer groups)")
    print(f"{n:,} points ({ok:,} valid) on {args.jobs} processes in {t_pool:.2f}s: "
          f"{pool_rate:,.0f} points/min (goal >= {GOAL:,} on 2 cores)")
    print(f"inline, one core, {len(items):,} sampled points (schedule memo warm from the "
          "profile's process only): "
          f"{inline_rate:,.0f} points/min")
    if args.json:
        atomic_write_json(args.json, {
            "benchmark": "bench_sweep", "workload": profile.name, "platform": platform.platform(),
            "python": platform.python_version(), "cpu_count": os.cpu_count(), "jobs": args.jobs,
            "points": n, "valid_points": ok, "profile_s": t_profile, "pool_s": t_pool,
            "points_per_min": pool_rate, "inline_points": len(items), "inline_s": t_inline,
            "inline_points_per_min": inline_rate, "goal_points_per_min": GOAL,
            "passed": pool_rate >= GOAL})
        print(f"wrote {args.json}")
    return 0 if pool_rate >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
