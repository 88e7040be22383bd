"""``ternhw energy``: the energy of a few layers, component by component, from the event model
and (``--activity``) from the RTL's own toggles beside it (registered by ``ternhw.cli``)."""

from __future__ import annotations

import argparse
import time

from ..errors import TernhwError
from .activity_check import DEFAULT_TOKENS

HELP = "per-component energy of layers; --activity cross-checks it with RTL toggles"
DESCRIPTION = (
    "Price layers of a workload (--layer; default: MiniLM's first feed-forward block, both "
    "matrices, on the real activations of 16 tokens) with the event model: every action of "
    "every component, "
    "events from the golden model on the real operands. --activity also runs the same "
    "operands through the generated Verilog in the bulk harness with a toggle counter on every "
    "bit of every net (Verilator --coverage-toggle; the first build of a design takes minutes), "
    "prices each toggle from the same technology table, and prints both side by side with "
    "their ratio; the MAC array and accumulators are the headline (goal: within 15 %). "
    "Components toggles cannot see (SRAM arrays, DRAM, clock tree, leakage) keep the event "
    "model's figure and say so.")


def register(sub) -> None:
    from ..cli import _add_config, _add_json

    p = sub.add_parser("energy", help=HELP, description=DESCRIPTION)
    _add_config(p)
    p.add_argument("--workload", default="minilm", metavar="SPEC",
                   help="a workload as `ternhw sim --workload` takes it; default: %(default)s")
    p.add_argument("--layer", action="append", metavar="NAME",
                   help="a layer of the workload (repeatable); default: MiniLM's "
                        "encoder.layer.0 intermediate and output dense, else the first layer")
    p.add_argument("--tokens", type=int, default=DEFAULT_TOKENS, metavar="M",
                   help="tokens each layer runs; default: %(default)s")
    p.add_argument("--activity", action="store_true",
                   help="also measure the RTL's toggles and compare (needs Verilator)")
    p.add_argument("--node-nm", type=float, metavar="NM",
                   help="logic node, 7-130 nm (default: the config's logic_node_nm)")
    _add_json(p)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..workload import load_workload
    from .activity_check import default_layers, price_layers
    from .tech import technology_of

    cfg = load_config(args.config)
    if args.tokens < 1:
        raise TernhwError(f"--tokens must be a positive integer, not {args.tokens}")
    tech = technology_of(cfg, args.node_nm)
    workload = load_workload(args.workload)
    layers = ([workload.find(n) for n in args.layer] if args.layer
              else default_layers(workload.layers))
    names = [lay.label for lay in layers]
    print(f"{cfg.name}: {', '.join(lay.label for lay in layers)} x {args.tokens} tokens "
          f"({workload.name})", flush=True)
    if args.activity:
        from .activity_check import activity_cross_check

        if not cfg.is_ternary:
            raise TernhwError(f"--activity runs the ternary RTL; config {cfg.name!r} is int8")
        t0 = time.monotonic()
        print("building the toggle-counting harness (Verilator --coverage-toggle: minutes the "
              "first time for a design, cached after) and running it ...", flush=True)
        doc = activity_cross_check(cfg, layers, args.tokens, tech=tech)
        print_comparison(doc)
        print(f"({doc['commands']} commands, {doc['cycles']:,} cycles; build "
              f"{doc['build_s']:.0f} s, run {doc['run_s']:.1f} s, {time.monotonic() - t0:.0f} s "
              f"in all)")
    else:
        total = price_layers(cfg, layers, args.tokens, tech=tech)[0]
        doc = {"config": cfg.name, "layers": names, "tokens": args.tokens,
               "energy": total.to_dict()}
        for comp, pj in total.components.items():
            print(f"  {comp:28s} {pj / 1e6:12.4f} uJ  {pj / total.macs:9.4f} pJ/MAC")
        print(f"  {'total':28s} {total.total / 1e6:12.4f} uJ  {total.per_mac:9.4f} pJ/MAC")
    if args.json:
        from ..fileio import atomic_write_json

        atomic_write_json(args.json, doc)
        print(f"wrote {args.json}")
    return 0


def print_comparison(doc: dict) -> None:
    """The cross-check's table (:func:`~ternhw.energy.activity_check.compare`) and headline."""
    print(f"  {'component':28s} {'event model':>12s} {'toggles':>12s} {'ratio':>7s}  basis")
    for r in doc["components"]:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3f}"
        print(f"  {r['component']:28s} {r['event_pj'] / 1e6:10.4f}uJ {r['activity_pj'] / 1e6:10.4f}"
              f"uJ {ratio:>7s}  {r['basis']}")
    h = doc["array_and_accumulators"]
    verdict = "met" if h["met"] else "NOT met"
    print(f"  MAC array + accumulators: event {h['event_pj'] / 1e6:.4f} uJ, toggles "
          f"{h['activity_pj'] / 1e6:.4f} uJ, ratio {h['ratio']:.3f} (goal {h['goal']}: "
          f"{verdict})")
