"""Peer cross-check (issue 11, item 6): array cycles of ternhw's schedule vs SCALE-Sim v3.

    python -m venv .peers && .peers/bin/pip install scalesim "numpy<2"
    python benchmarks/peer_scalesim.py --peer-python .peers/bin/python \\
        --json benchmarks/results/peer_scalesim.json

SCALE-Sim (``scalesim`` 3.0.0 on PyPI) needs numpy < 2, which ternhw's environment does not
have, so it runs in its own interpreter (``--peer-python``); this script writes its config,
GEMM topology and layout files, runs it once per dataflow (weight-stationary ``ws`` and
output-stationary ``os``) on MiniLM's distinct GEMM shapes at ``--seq-len`` tokens on the same
16 x 16 array, reads its ``COMPUTE_REPORT.csv`` (``scalesim.get_total_cycles`` fails in 3.0.0:
it indexes a method) and prints, per shape, SCALE-Sim's compute cycles beside the cycles of
ternhw's schedule for the default config (``ternhw.workload.layer_schedule``: the commands the
RTL runs, cycle-exact against it). Nothing is tuned to agree: the two model different arrays.
SCALE-Sim's is systolic (operands skewed through the PEs, a fill and a drain per fold of the
array); ternhw's broadcasts an activation word to a column and reduces each row in an adder
tree, so a step's latency is a fixed pipeline depth paid once per command, not per fold.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peer_tools import missing_peer, peer_parser, run_peer  # noqa: E402

from ternhw.config import load_config  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.workload import Layer, layer_schedule  # noqa: E402

#: MiniLM's distinct linear shapes (K, N): Q/K/V/attention output, intermediate, output.
SHAPES = {"attention (384 -> 384)": (384, 384), "intermediate (384 -> 1536)": (384, 1536),
          "output (1536 -> 384)": (1536, 384)}
LAYOUT_HEADER = (
    "Layer name,IFMAP Height Intraline Factor,IFMAP Width Intraline Factor,"
    "Filter Height Intraline Factor,Filter Width Intraline Factor,Channel Intraline Factor,"
    "Num Filter Intraline Factor,IFMAP Height Intraline Order,IFMAP Width Intraline Order,"
    "Channel Intraline Order,IFMAP Height Interline Order,IFMAP Width Interline Order,"
    "Channel Interline Order,Num Filter Intraline Order,Channel Intraline Order,"
    "Filter Height Intraline Order,Filter Width Intraline Order,Num Filter Interline Order,"
    "Channel Interline Order,Filter Height Interline Order,Filter Width Interline Order,")
CONFIG = """[general]
run_name = {run}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {act_kb}
FilterSramSzkB: {wgt_kb}
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: {df}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""
RUNNER = """
import sys
from scalesim.scale_sim import scalesim
s = scalesim(save_disk_space=True, verbose=False, config=sys.argv[1], topology=sys.argv[2],
             layout=sys.argv[3], input_type_gemm=True)
s.run_scale(top_path=sys.argv[4])
"""


def run_scalesim(python: str, cfg, df: str, m: int, work: Path) -> list[int]:
    """SCALE-Sim's compute cycles (no prefetch) per shape of :data:`SHAPES`, dataflow ``df``."""
    run = f"ternhw_{cfg.name}_{df}"
    (work / f"{df}.cfg").write_text(CONFIG.format(
        run=run, rows=cfg.rows, cols=cfg.cols, df=df,
        act_kb=max(1, cfg.act_buffer_depth * cfg.act_word_bits // 8192),
        wgt_kb=max(1, cfg.weight_buffer_depth * cfg.weight_word_bits // 8192)))
    names = [f"l{i}" for i in range(len(SHAPES))]
    (work / "gemm.csv").write_text("Layer, M, N, K,\n" + "".join(
        f"{nm}, {m}, {n}, {k},\n" for nm, (k, n) in zip(names, SHAPES.values(), strict=True)))
    (work / "layout.csv").write_text(LAYOUT_HEADER + "\n" + "".join(
        f"{nm},1,1,1,1,1,1,0,1,2,0,1,2,0,1,2,3,0,1,2,3,\n" for nm in names))
    (work / "run.py").write_text(RUNNER)
    report = work / "out" / run / "COMPUTE_REPORT.csv"
    run_peer(f"SCALE-Sim ({df})", [python, "run.py", f"{df}.cfg", "gemm.csv", "layout.csv",
                                   "out"], cwd=work, output=report)
    rows = [ln.split(",") for ln in report.read_text().splitlines()[1:] if ln.strip()]
    return [int(r[2]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    args = peer_parser(__doc__, "scalesim and numpy<2").parse_args(argv)
    why = missing_peer(args.peer_python, "scalesim 'numpy<2'")
    if why:
        print(why, file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    ours = {name: layer_schedule(cfg, Layer(name, args.seq_len, k, n, zero_fraction=0.3))
            .total_cycles for name, (k, n) in SHAPES.items()}
    peer = {}
    with tempfile.TemporaryDirectory(prefix="ternhw-scalesim-") as d:
        for df in ("ws", "os"):
            peer[df] = dict(zip(SHAPES, run_scalesim(args.peer_python, cfg, df, args.seq_len,
                                                     Path(d)), strict=True))
    rows = []
    for name, (k, n) in SHAPES.items():
        ideal = args.seq_len * k * n / cfg.lanes
        row = {"shape": name, "m": args.seq_len, "k": k, "n": n, "ideal_cycles": ideal,
               "ternhw_cycles": ours[name],
               **{f"scalesim_{df}_cycles": peer[df][name] for df in peer},
               **{f"scalesim_{df}_over_ternhw": peer[df][name] / ours[name] for df in peer}}
        rows.append(row)
        theirs = "  ".join(f"SCALE-Sim {df} {peer[df][name]:>9,} "
                           f"({peer[df][name] / ours[name]:.2f}x)" for df in peer)
        print(f"{name:<28} ideal {ideal:>9,.0f}  ternhw {ours[name]:>9,}  {theirs}")
    doc = {"benchmark": "array cycles: ternhw schedule vs SCALE-Sim v3", "config": cfg.name,
           "array": f"{cfg.rows}x{cfg.cols}", "peer": "scalesim 3.0.0 (PyPI)",
           "rows": rows, "why_they_differ": __doc__.split("\n\n")[2].replace("\n", " ")}
    if args.json:
        atomic_write_json(args.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
