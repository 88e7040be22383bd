"""Regenerate ``ternhw/energy/sram_cacti<node>.yaml``: on-chip SRAM energy per access by word
width and depth at one technology node, from CACTI as packaged by ``hwcomponents-cacti``.

One table per node CACTI has device and wire data for (CACTI 7: 22, 32, 45, 65 and 90 nm;
``CACTI_NODES``). ``ternhw.energy.tech`` prices SRAM at a logic node from the table of that
node, interpolates between the two nearest tables in between, and node-scales the 22 nm table
below it (``Technology.sram``). 45 nm is the node of the shipped configs.

Why a shipped table and not a run-time call: ``hwcomponents`` needs Python >= 3.12 and the CACTI
binary in the ``hwcomponents-cacti`` wheel needs glibc 2.38; ternhw supports Python 3.11. So the
table is generated once, offline, with the same inputs hwcomponents-cacti gives CACTI, and ships.

How (about 10 s per node for the whole grid)::

    pip download --no-deps --python-version 3.12 --only-binary=:all: -d /tmp/hwc \\
        hwcomponents-cacti==1.0.40
    cd /tmp/hwc && unzip -q hwcomponents_cacti-1.0.40-py3-none-any.whl -d x
    make -C x/hwcomponents_cacti/cacti opt          # rebuild CACTI for this glibc
    python benchmarks/gen_sram_cacti_table.py --package x/hwcomponents_cacti --all-nodes

(``--node 22`` for one node; repeatable. Each node writes ``ternhw/energy/sram_cacti<node>.yaml``,
or ``-o`` for a single node.)

Each point is one CACTI run of a 1-bank, 1 read/write-port "ram" of ``depth`` words of ``width``
bits (block size = width / 8 bytes, bus width = width), with hwcomponents-cacti's own
``default_cfg.cfg`` template (ITRS low-standby-power cells, leakage-weighted optimization) and the
user lines its ``_Memory._call_cacti`` appends, with ``-technology (u)`` the node. Every node uses
the same grid, template and lines; only the node changes. Energies are per access of one whole
word.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import subprocess
import tempfile
from pathlib import Path

import yaml

WIDTHS = (32, 64, 128, 256, 512, 1024, 2048)      # bits per word
DEPTHS = (64, 256, 1024, 4096, 16384)              # words
#: Nodes CACTI 7 ships technology data for (nm); a table is generated for each.
CACTI_NODES = (22, 32, 45, 65, 90)


def cacti_point(package: Path, width: int, depth: int, node_nm: float) -> dict:
    """One CACTI run; returns read/write pJ per word access, leakage mW, area mm2."""
    template = (package / "default_cfg.cfg").read_text()
    block = width // 8
    lines = [template.rstrip("\n"), "",
             f"-size (bytes) {block * depth}", "-read-write port  1",
             f"-block size (bytes) {block}", f"-technology (u) {node_nm / 1000}",
             f"-output/input bus width  {width}", "-UCA bank 1", '-cache type "ram"',
             "-tag size (b) 0", "-associativity 1", ""]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "in.cfg"
        cfg.write_text("\n".join(lines))
        subprocess.run(["./cacti", "-infile", str(cfg)], cwd=package / "cacti", check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = list(csv.DictReader(Path(str(cfg) + ".out").read_text().splitlines()))
    r = {k.strip(): v.strip() for k, v in rows[-1].items()}
    return {"read_pj": round(float(r["Dynamic read energy (nJ)"]) * 1e3, 4),
            "write_pj": round(float(r["Dynamic write energy (nJ)"]) * 1e3, 4),
            "leak_mw": round(float(r["Standby leakage per bank(mW)"]), 6),
            "area_mm2": round(float(r["Area (mm2)"]), 5)}


def table(package: Path, node_nm: float) -> dict:
    """The whole grid at ``node_nm``, as the YAML document ternhw ships."""
    template = (package / "default_cfg.cfg").read_bytes()
    points = []
    for w in WIDTHS:
        for d in DEPTHS:
            points.append({"width": w, "depth": d, **cacti_point(package, w, d, node_nm)})
            print(f"{node_nm:g} nm", w, d, points[-1])
    return {
        "name": f"sram-cacti{node_nm:g}",
        "technology": f"{node_nm:g} nm",
        "unit": "pJ per access of one word; leakage mW per array; area mm2",
        "citation": ("CACTI 7 (Balasubramonian et al., ACM TACO 14(2), 2017) as packaged by "
                     "hwcomponents-cacti 1.0.40 (Accelergy project), run with its "
                     "default_cfg.cfg: 1 bank, 1 read/write port, ITRS LSTP cells"),
        "generator": "benchmarks/gen_sram_cacti_table.py",
        "template_sha256": hashlib.sha256(template).hexdigest(),
        "interpolation": ("bilinear in (log2 width, log2 depth) between grid points; outside the "
                          "grid, linear extrapolation in the same coordinates (flagged)"),
        "points": points,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", type=Path, required=True,
                    help="the unpacked hwcomponents_cacti package folder (CACTI rebuilt inside)")
    ap.add_argument("--node", type=float, action="append", default=[],
                    help="technology node in nm (repeatable; default 45)")
    ap.add_argument("--all-nodes", action="store_true",
                    help=f"every node CACTI has data for: {', '.join(map(str, CACTI_NODES))} nm")
    ap.add_argument("-o", "--out", type=Path,
                    help="output file (one node only; default ternhw/energy/sram_cacti<node>.yaml)")
    args = ap.parse_args()
    nodes = sorted({*args.node, *(CACTI_NODES if args.all_nodes else ())}) or [45.0]
    if args.out and len(nodes) > 1:
        ap.error("-o takes one node")
    for nm in nodes:
        out = args.out or (Path(__file__).resolve().parents[1]
                           / f"ternhw/energy/sram_cacti{nm:g}.yaml")
        out.write_text("# Generated by benchmarks/gen_sram_cacti_table.py; do not edit by hand.\n"
                       + yaml.safe_dump(table(args.package, nm), sort_keys=False, width=100))
        print("wrote", out)


if __name__ == "__main__":
    main()
