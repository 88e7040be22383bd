"""``ternhw sweep``: the argument definitions and the command (registered by ``ternhw.cli``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..errors import TernhwError
from ..fileio import atomic_write_json, check_writable_dir, check_writable_file
from .pareto import DEFAULT_OBJECTIVES, METRICS

HELP = "design-space exploration: analytic evaluation of a space, Pareto front, plots"
DESCRIPTION = (
    "Expand the design space SPACE (a TOML file of axes over AcceleratorConfig fields and "
    "constraints, or a shipped space: 'example'), evaluate every point analytically on the "
    "workload (exact cycles and utilization from the cycle model and schedule, energy per token "
    "from the energy model, on-chip bytes, generic gates from a cost model calibrated on Yosys "
    "runs), and write DIR/results.csv, results.json, front.json, Pareto plots and index.html. "
    "Invalid points stay in the results with the reason. Results are cached per point, so an "
    "interrupted sweep resumes. --verify N co-simulates the N best front points bit-exactly "
    "on a slice of the workload (cycles must equal the model's) and synthesizes them. Fmax is "
    "not calibrated yet: throughput is at each config's clock_mhz. See docs/sweep.md.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--space", default="example", metavar="SPACE",
                   help="space TOML file or shipped space name; default: %(default)s")
    p.add_argument("--workload", default="minilm", metavar="SOURCE",
                   help="minilm (seq --seq-len), digits, bitnet-2b (decode, projected "
                        "shapes) or a .safetensors / .npz / .gguf model; default: %(default)s")
    p.add_argument("-o", "--output", dest="out_dir", type=Path, required=True, metavar="DIR",
                   help="output directory (created if needed)")
    p.add_argument("--objectives", default=DEFAULT_OBJECTIVES, metavar="M:DIR,...",
                   help="comma-separated metric:max|min; metrics: " + ", ".join(METRICS)
                        + "; default: %(default)s")
    p.add_argument("--seq-len", type=int, default=128,
                   help="tokens per MiniLM / model-file inference; default: %(default)s")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="generate, co-simulate (bit-exact, cycles == model) and synthesize "
                        "(generic Yosys) the N best front points by the first objective; a "
                        "failing point prints VERIFICATION FAILED and the exit status is 1")
    p.add_argument("--verify-tokens", type=int, default=4, metavar="M",
                   help="tokens of the workload's first layer each verified point runs; "
                        "default: %(default)s")
    p.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"),
                   help="simulator for --verify; default: %(default)s")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on this Dask distributed scheduler (tcp://host:8786) instead of "
                        "locally; needs pip install 'ternhw[sweep]' here and on the workers")
    p.add_argument("--no-cache", action="store_true",
                   help="evaluate every point again (the cache is still written)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--json", metavar="PATH", type=Path,
                   help="also write the summary (counts, front) as JSON to PATH")


def register(sub) -> None:
    """Add the ``sweep`` subcommand to ``ternhw``'s subparsers."""
    add_arguments(sub.add_parser("sweep", help=HELP, description=DESCRIPTION))


def run(args) -> int:
    from .driver import resolve_space_path, run_sweep
    from .outputs import write_outputs
    from .pareto import parse_objectives
    from .space import load_space

    check_writable_dir(args.out_dir, "-o")
    if args.json is not None:
        check_writable_file(args.json, "--json")
    if args.jobs is not None and args.jobs < 1:
        raise TernhwError(f"--jobs must be a positive integer, not {args.jobs}")
    if args.verify < 0:
        raise TernhwError(f"--verify must be a non-negative integer, not {args.verify}")
    if args.verify_tokens < 1:
        raise TernhwError(f"--verify-tokens must be a positive integer, not {args.verify_tokens}")
    objectives = parse_objectives(args.objectives)
    space = load_space(resolve_space_path(args.space))
    t0 = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    res = run_sweep(space, args.workload, objectives, seq_len=args.seq_len,
                    jobs=args.jobs, scheduler=args.scheduler,
                    use_cache=not args.no_cache, progress=not args.quiet, log=log)
    verification = None
    if args.verify:
        from .verify import verify_front
        verification = verify_front(res.rows, res.front, objectives, args.verify,
                                    args.workload, seq_len=args.seq_len,
                                    tokens=args.verify_tokens, simulator=args.simulator,
                                    log=log)
        res.doc["verification"] = verification
    files = write_outputs(args.out_dir, res.doc, res.rows, res.front, res.shipped, objectives,
                          verification)
    c = res.doc["counts"]
    secs = time.monotonic() - t0
    print(f"{c['points']:,} points: {c['ok']:,} valid, {c['invalid']:,} invalid "
          f"({', '.join(f'{k} {v:,}' for k, v in c['invalid_by_kind'].items())}); "
          f"{len(res.front)} on the front; {secs:.1f}s")
    for i in res.front[:5]:
        r = res.rows[i]
        print(f"  point {r['point']}: " + ", ".join(f"{o.metric} {r[o.metric]:.4g}"
                                                    for o in objectives))
    for v in verification or []:
        err = "" if v["gates_error"] is None else f" ({v['gates_error']:+.1%})"
        print(f"  verified point {v['point']}: {'PASS' if v['passed'] else 'FAIL'}: cycles "
              f"model {v['cycles_model']} vs RTL {v['cycles_rtl']}, mismatches "
              f"{v['mismatches']}, gates model {_num(v['gates_model'])} vs Yosys "
              f"{_num(v['gates_measured'])}{err}")
    print(f"note: {res.doc['fmax_note']}")
    print(f"wrote {args.out_dir}/" + ", ".join(files))
    failed = [v for v in verification or [] if not v["passed"]]
    for v in failed:
        print(f"VERIFICATION FAILED: point {v['point']}: " + "; ".join(v.get("notes", [])),
              file=sys.stderr)
    if args.json:
        atomic_write_json(args.json, {**{k: v for k, v in res.doc.items()},
                                      "front": [res.rows[i] for i in res.front],
                                      "output": str(args.out_dir), "seconds": secs,
                                      "cpu_count": os.cpu_count()})
        print(f"wrote {args.json}")
    return 1 if failed else 0


def _num(v) -> str:
    return "-" if v is None else f"{v:,.0f}"
