"""Bit-exact ternary GEMM (ternhw.model.gemm) against NumPy float32 matmul of the same shapes.

    python benchmarks/bench_model.py --json benchmarks/results/bench_model.json

Shapes: BitNet b1.58 2B4T's FFN up-projection (K = 2560 -> N = 6912) in decode (M = 1) and
prefill (M = 128), and all-MiniLM-L6-v2's FFN matrices (384 <-> 1536). Both sides get their
weights prepared in advance (ternhw: a WeightMatrix with its packed / float forms; NumPy: a
float32 array) and are timed in the same run, best of several repeats. Targets: M = 128 within
1.2x of float32 matmul; M = 1 faster than float32 matvec.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.config import load_config  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.model import WeightMatrix, gemm, reference  # noqa: E402
from ternhw.model.kernels import threads  # noqa: E402

CASES = (
    ("bitnet2b_ffn_up_decode", 1, 2560, 6912),
    ("bitnet2b_ffn_up_prefill", 128, 2560, 6912),
    ("minilm_intermediate_decode", 1, 384, 1536),
    ("minilm_intermediate_m128", 128, 384, 1536),
    ("minilm_output_m128", 128, 1536, 384),
)
TARGETS = {1: ("ratio < 1.0 (faster than float32 matvec)", lambda r: r < 1.0),
           128: ("ratio <= 1.2", lambda r: r <= 1.2)}


def best_time(fn, repeats: int, min_time: float = 0.2) -> float:
    fn()  # warm up: JIT compile, caches
    best = float("inf")
    start = time.perf_counter()
    n = 0
    while n < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        n += 1
    return best


def run(repeats: int) -> dict:
    cfg = load_config("default")
    rng = np.random.default_rng(0)
    cases = []
    for name, m, k, n in CASES:
        w = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(n, k), p=[0.34, 0.32, 0.34])
        x = rng.integers(-128, 128, size=(m, k)).astype(np.int8)
        wm = WeightMatrix(w)
        wf = w.astype(np.float32)
        xf = x.astype(np.float32)
        # correctness guard: the fast path must equal the reference on a slice
        check = gemm(cfg, x[:1, :], WeightMatrix(w[:8]))
        assert (check.acc == reference.gemm(cfg, x[:1, :], w[:8]).acc).all()
        t_tern = best_time(lambda x=x, wm=wm: gemm(cfg, x, wm), repeats)
        t_np = best_time(lambda xf=xf, wf=wf: xf @ wf.T, repeats)
        ratio = t_tern / t_np
        target, ok = TARGETS.get(m, ("", lambda r: True))
        cases.append({"name": name, "m": m, "k": k, "n": n, "ternhw_s": t_tern,
                      "numpy_f32_s": t_np, "ratio": ratio, "target": target,
                      "target_met": bool(ok(ratio)) if target else None})
    return {
        "benchmark": "bit-exact ternary GEMM vs numpy float32 matmul",
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "numba_threads": threads(),
                    "processor": platform.processor() or platform.machine()},
        "cases": cases,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the results as JSON")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    doc = run(args.repeats)
    print(f"{'case':<28} {'M':>4} {'K':>5} {'N':>5} {'ternhw ms':>10} {'f32 ms':>9} "
          f"{'ratio':>6}  target")
    for c in doc["cases"]:
        met = "" if c["target_met"] is None else ("met" if c["target_met"] else "NOT met")
        print(f"{c['name']:<28} {c['m']:>4} {c['k']:>5} {c['n']:>5} {1e3 * c['ternhw_s']:10.3f} "
              f"{1e3 * c['numpy_f32_s']:9.3f} {c['ratio']:6.2f}  {c['target']} {met}")
    if args.json:
        atomic_write_json(args.json, doc)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
