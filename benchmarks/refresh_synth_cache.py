"""Synthesize the shipped reference configs and store the results in the package's cache.

    python benchmarks/refresh_synth_cache.py [--targets generic ice40 ecp5] [--configs ...]

``ternhw synth`` and ``ternhw report`` look results up by the SHA-256 of the design's Verilog
and the flow (``ternhw.synth.flow_key``): in the user's cache first, then in
``ternhw/data/synth_cache``. Shipping the entries of the reference configs lets a fresh install
report iCE40/ECP5 numbers without the long WebAssembly synthesis and place-and-route; they stay
valid exactly as long as the generated RTL does (``tests/test_generate.py`` checks ``rtl/``).
Runs whatever is not cached yet (the ECP5 flow of a 16x16 array takes tens of minutes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ternhw.config import load_config  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.synth import TARGETS, design_verilog, flow_key, synthesize  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[1] / "ternhw" / "data" / "synth_cache"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["default", "int8-baseline"])
    ap.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    ap.add_argument("--no-pnr", action="store_true", help="synthesis only (no Fmax)")
    args = ap.parse_args()
    for name in args.configs:
        cfg = load_config(name)
        for target in args.targets:
            _, text = design_verilog(cfg, target)
            r = synthesize(cfg, target, place_route=not args.no_pnr)
            r = {k: v for k, v in r.items() if k != "cached"}
            key = flow_key(text, target, not args.no_pnr, cfg.clock_mhz)
            atomic_write_json(SHIPPED / f"{key[:24]}.json", r)
            print(f"{name} {target}: cells {r['cells']}, LUTs {r.get('luts')}, "
                  f"Fmax {r.get('fmax_mhz')} -> {SHIPPED.name}/{key[:24]}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
