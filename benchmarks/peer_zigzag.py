"""Peer cross-check (issue 11, item 6): per-MAC compute and memory energy vs ZigZag.

    python -m venv .peers && .peers/bin/pip install zigzag-dse==3.9.1 "numpy<2"
    python benchmarks/peer_zigzag.py --peer-python .peers/bin/python \\
        --json benchmarks/results/peer_zigzag.json

ZigZag (``zigzag-dse`` 3.9.1 on PyPI) runs in its own interpreter (``--peer-python``; the
SCALE-Sim environment of ``peer_scalesim.py`` serves). This script writes ZigZag's three inputs
(accelerator, mapping, workload YAML) for the config's array and a small driver, runs it once
per MiniLM GEMM shape at ``--seq-len`` tokens, unit-cost variant and mapping, and reads the
evaluation back: MAC count, MAC energy, and energy and word accesses per memory level. The
driver builds ZigZag's stage list itself instead of calling ``zigzag.api``, whose result-plot
stage imports seaborn and pandas (pandas 3 refuses numpy < 2), and stands in a one-line ``six``
for the package ZigZag 3.9.1 imports without declaring. ternhw's side is its event model
(``ternhw.energy.activity_check.price_layers``) on the same shape with seeded projected trits
(MiniLM's measured zero fraction) and seeded random int8 activations.

The accelerator given to ZigZag: a 16 x 16 operational array, D1 (the columns) unrolling the
reduction C and D2 (the rows) the outputs K, as ternhw broadcasts an activation word down the
columns and reduces each row in an adder tree; one ``acc_bits`` accumulator register per row
(served along D1); the activation buffer (``act_buffer_depth`` x ``cols x act_bits``) and the
weight buffer (``weight_buffer_depth`` x ``weight_word_bits``) each serving the whole array
with one word per cycle; DRAM behind them at the config's bytes per clock. The ``ternhw
order`` mapping fixes ZigZag's temporal loops to the schedule's issue order (chunk innermost,
then token, then output tile, then command: ``docs/microarchitecture.md``); the ``ZigZag
search`` mapping lets its LOMA engine pick the order of least energy. Two unit-cost variants:
``zigzag`` uses ZigZag's per-MAC energy (0.04 pJ, the ``unit_energy`` of every digital
accelerator it ships, e.g. ``inputs/hardware/tpu_like.yaml``) and its example output-register
cost (0.02 pJ per access, ``gemm_l1.yaml``); ``ternhw`` uses ternhw's own: the datapath's
pJ per MAC from the event model (lanes, adder trees, array pipeline registers, accumulator
add and saturate) and a register write per accumulator update. ZigZag ships no SRAM or DRAM
energies (they come from the user or its CACTI wrapper, hardwired to 22 nm, which writes into
its own install), so both variants take ternhw's: CACTI 45 nm per word, DRAM pJ per bit.

Nothing is tuned to agree, and the figures differ for known reasons. ZigZag prices every MAC
alike with one number, 0.04 pJ in its examples for an int8 multiply-accumulate, with no node
or width attached (for scale the script prints an int8 multiply plus an ``acc_bits`` add from
ternhw's 45 nm table); ternhw's lane is an add, a subtract or a gated skip, and its per-MAC
datapath also carries the adder-tree levels and the pipeline registers latched every step
(about half of it). ZigZag charges the accumulator a read and a write per array step and row;
ternhw a write (its read is a wire) and nothing on an all-zero chunk. With the ternhw order,
ZigZag's SRAM and DRAM access counts equal the schedule's (one activation and one weight word
per step, resident weights fetched once); ternhw adds the read port held enabled on the few
idle cycles. ZigZag's own search finds no cheaper order: with no register below the buffers,
every order reads each operand word once per array step. ZigZag has no counterpart for the
weight decoder, output stage, controller, status counters, clock tree and leakage: their
share is printed apart.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peer_tools import missing_peer, peer_parser, run_peer  # noqa: E402

from ternhw.config import load_config  # noqa: E402
from ternhw.energy.activity_check import ARRAY_AND_ACCUMULATORS, price_layers  # noqa: E402
from ternhw.energy.tech import Technology, technology_of  # noqa: E402
from ternhw.errors import TernhwError  # noqa: E402
from ternhw.fileio import atomic_write_json  # noqa: E402
from ternhw.model.cycles import max_tokens  # noqa: E402
from ternhw.workload import DEFAULT_ZERO_FRACTION, Layer  # noqa: E402

#: MiniLM's distinct linear shapes (K, N), as in ``peer_scalesim.py``.
SHAPES = {"attention (384 -> 384)": (384, 384), "intermediate (384 -> 1536)": (384, 1536),
          "output (1536 -> 384)": (1536, 384)}
#: ZigZag's per-MAC energy (pJ): ``unit_energy`` of its shipped digital accelerators.
ZIGZAG_MAC_PJ = 0.04
#: ZigZag's example output-register access (pJ): ``reg_O`` of ``inputs/hardware/gemm_l1.yaml``.
ZIGZAG_REG_PJ = 0.02
#: ternhw's levels, the ZigZag memory that stands for each, and its operands there.
LEVELS = {"accumulator register": "acc_reg", "activation buffer": "act_buf",
          "weight buffer": "wgt_buf", "DRAM": "dram"}
RUNNER = '''
import json, logging, sys, types
try:
    import six  # noqa: F401
except ImportError:      # zigzag-dse 3.9.1 imports six undeclared; it calls six.u only
    sys.modules["six"] = types.SimpleNamespace(u=str)
logging.disable(logging.CRITICAL)
from zigzag.hardware.architecture.memory_port import DataDirection
from zigzag.mapping.temporal_mapping import TemporalMappingType
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.main import MainStage
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
from zigzag.stages.parser.workload_parser import WorkloadParserStage
from zigzag.stages.results.reduce_stages import MinimalEnergyStage, SumStage
from zigzag.stages.workload_iterator import WorkloadStage

STAGES = [WorkloadParserStage, AcceleratorParserStage, SumStage, WorkloadStage,
          MinimalEnergyStage, SpatialMappingGeneratorStage, MinimalEnergyStage,
          TemporalMappingGeneratorStage, CostModelStage]   # zigzag.api's, less save and plots

def run(job):
    main = MainStage(list_of_callables=STAGES, accelerator=job["accelerator"],
                     workload=job["workload"], mapping=job["mapping"], dump_folder=job["dump"],
                     loma_lpf_limit=6, loma_show_progress_bar=False, nb_mappings_generated=3,
                     enable_mix_spatial_mapping_generation=False,
                     access_same_data_considered_as_no_access=True,
                     temporal_mapping_type=TemporalMappingType("uneven"))
    cme = main.run()[0][1][0][0]
    hier = cme.accelerator.memory_hierarchy
    levels = {}
    for op, energies in cme.mem_energy_breakdown.items():
        mem_op = cme.memory_operand_links.layer_to_mem_op(op)
        for lv, pj, acc in zip(hier.get_memory_levels(mem_op), energies,
                               cme.memory_word_access[op]):
            levels.setdefault(lv.name, {})[str(op)] = {
                "pj": pj, "accesses": {d.value: acc.get(d) for d in DataDirection}}
    return {"macs": cme.layer.total_mac_count, "mac_pj": cme.mac_energy,
            "mem_pj": cme.mem_energy, "total_pj": cme.energy_total,
            "latency_cycles": cme.latency_total2, "levels": levels,
            "temporal_mapping": str(cme.temporal_mapping)}

jobs = json.load(open(sys.argv[1]))
json.dump({name: run(job) for name, job in jobs.items()}, open(sys.argv[2], "w"))
'''


def _port(name: str, kind: str, bits: int, alloc: list[str], low: int | None = None) -> dict:
    return {"name": name, "type": kind, "bandwidth_min": low or bits, "bandwidth_max": bits,
            "allocation": alloc}


def _memory(size: int, r: float, w: float, operands: list[str], ports: list[dict],
            served: list[str]) -> dict:
    return {"size": size, "r_cost": float(r), "w_cost": float(w), "area": 0.0, "latency": 1,
            "operands": operands, "ports": ports, "served_dimensions": served}


def accelerator(cfg, unit: dict) -> dict:
    """ZigZag's description of the array and memories of ``cfg`` with the unit costs ``unit``
    (``mac``, ``acc_r``, ``acc_w``, ``act_r``, ``act_w``, ``wgt_r``, ``wgt_w``, ``dram_bit``)."""
    ab, aw, ww = cfg.acc_bits, cfg.act_word_bits, cfg.weight_word_bits
    dram_bits = round(cfg.dram_bandwidth_gbs * 8e3 / cfg.clock_mhz)      # bits per clock
    return {
        "name": f"ternhw_{cfg.name}",
        "memories": {
            "acc_reg": _memory(ab, unit["acc_r"], unit["acc_w"], ["O"], [
                _port("r_port_1", "read", ab, ["O, tl", "O, th"]),
                _port("w_port_1", "write", ab, ["O, fh", "O, fl"])], ["D1"]),
            "act_buf": _memory(cfg.act_buffer_depth * aw, unit["act_r"], unit["act_w"], ["I1"], [
                _port("r_port_1", "read", aw, ["I1, tl"]),
                _port("w_port_1", "write", aw, ["I1, fh"])], ["D1", "D2"]),
            "wgt_buf": _memory(cfg.weight_buffer_depth * ww, unit["wgt_r"], unit["wgt_w"], ["I2"],
                               [_port("r_port_1", "read", ww, ["I2, tl"]),
                                _port("w_port_1", "write", ww, ["I2, fh"])], ["D1", "D2"]),
            "dram": _memory(10**12, unit["dram_bit"] * dram_bits, unit["dram_bit"] * dram_bits,
                            ["I1", "I2", "O"], [_port(
                                "rw_port_1", "read_write", dram_bits,
                                ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl",
                                 "O, fl", "O, th"], low=8)], ["D1", "D2"]),
        },
        "operational_array": {"input_precision": [cfg.act_bits, ww // cfg.lanes],
                              "unit_energy": float(unit["mac"]), "unit_area": 1.0,
                              "dimensions": ["D1", "D2"], "sizes": [cfg.cols, cfg.rows]},
    }


def workload(cfg, m: int, k: int, n: int, out_bits: int) -> list[dict]:
    """``Y = X W^T`` as ZigZag's GEMM: B tokens, K outputs, C the reduction."""
    return [{"id": 0, "name": "gemm", "operator_type": "Gemm",
             "equation": "O[b][k]+=I[b][c]*W[k][c]", "loop_dims": ["B", "K", "C"],
             "loop_sizes": [m, n, k],
             "operand_precision": {"W": cfg.weight_word_bits // cfg.lanes, "I": cfg.act_bits,
                                   "O": cfg.acc_bits, "O_final": out_bits},
             "operand_source": {"W": 0, "I": 0}}]


def mapping(cfg, m: int, k: int, n: int, fixed: bool) -> list[dict]:
    """C on the columns, K on the rows; with ``fixed`` the schedule's loop order (chunks,
    tokens of a command, output tiles, commands), the command size rounded down to a divisor
    of ``m`` (ZigZag's loops factor the dimension exactly; ternhw's last command is short)."""
    entry = {"name": "default", "spatial_mapping": {"D1": [f"C, {cfg.cols}"],
                                                    "D2": [f"K, {cfg.rows}"]},
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
    if fixed:
        per = max(d for d in range(1, max_tokens(cfg, k) + 1) if m % d == 0)
        loops = [["C", k // cfg.cols], ["B", per], ["K", n // cfg.rows], ["B", m // per]]
        entry["temporal_ordering"] = [lp for lp in loops if lp[1] > 1]
    return [entry]


def ternhw_side(cfg, tech: Technology, name: str, m: int, k: int, n: int) -> dict:
    """The event model on the shape: pJ by level, the datapath's unit costs, access counts."""
    total, runs = price_layers(cfg, [Layer(name, m, k, n)], m, tech=tech)
    plan = runs[0][2]
    comps = total.components
    line = {(li.component, li.action): li for li in total.lines}
    acc_w = line["accumulators", "register write"]
    compute = sum(comps.get(c, 0.0) for c in ARRAY_AND_ACCUMULATORS)
    by_level = {"accumulator register": acc_w.total_pj, "activation buffer":
                comps["activation buffer"], "weight buffer": comps["weight buffer"],
                "DRAM": comps["DRAM"]}
    other = total.total - compute - sum(by_level.values()) + acc_w.total_pj

    def count(comp: str, *actions: str) -> float:
        return sum(line[comp, a].count for a in actions)

    idle = "idle read (read enable held)"
    return {
        "macs": total.macs, "out_bits": plan.out_bits, "cycles": plan.total_cycles,
        "compute_pj": compute, "datapath_pj": compute - acc_w.total_pj,
        "levels_pj": by_level, "not_in_zigzag_pj": other, "total_pj": total.total,
        "not_in_zigzag": {c: pj for c, pj in comps.items() if c not in (
            *ARRAY_AND_ACCUMULATORS, "activation buffer", "weight buffer", "DRAM") and pj},
        "accesses": {
            "accumulator register writes": acc_w.count,
            "activation buffer reads": count("activation buffer", "read word", idle),
            "activation buffer writes": count("activation buffer", "write word"),
            "weight buffer reads": count("weight buffer", "read word", idle),
            "weight buffer writes": count("weight buffer", "write word"),
            "DRAM bits": count("DRAM", *(a for c, a in line if c == "DRAM"))},
        "acc_write_pj": acc_w.pj_each, "activations": runs[0][1].note,
        "weights": runs[0][0].weights_note(),
    }


def zigzag_accesses(res: dict, dram_bits: int) -> dict:
    """ZigZag's word accesses in ternhw's terms (writes from above or below, reads to either)."""
    def lv(mem: str, what: str) -> float:
        return sum(op["accesses"][d] for op in res["levels"][mem].values()
                   for d in (("wr_in_by_high", "wr_in_by_low") if what == "w" else
                             ("rd_out_to_high", "rd_out_to_low")))
    return {"accumulator register writes": lv("acc_reg", "w"),
            "accumulator register reads": lv("acc_reg", "r"),
            "activation buffer reads": lv("act_buf", "r"),
            "activation buffer writes": lv("act_buf", "w"),
            "weight buffer reads": lv("wgt_buf", "r"), "weight buffer writes": lv("wgt_buf", "w"),
            "DRAM bits": (lv("dram", "r") + lv("dram", "w")) * dram_bits}


def run_zigzag(python: str, jobs: dict, work: Path) -> dict:
    (work / "run.py").write_text(RUNNER)
    (work / "jobs.json").write_text(json.dumps(jobs))
    out = work / "results.json"
    run_peer("ZigZag", [python, "run.py", "jobs.json", "results.json"], cwd=work, output=out)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    args = peer_parser(__doc__, "zigzag-dse").parse_args(argv)
    why = missing_peer(args.peer_python, "zigzag-dse==3.9.1 'numpy<2'")
    if why:
        print(why, file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    tech = technology_of(cfg)
    act, wgt = (tech.sram(cfg.act_word_bits, cfg.act_buffer_depth),
                tech.sram(cfg.weight_word_bits, cfg.weight_buffer_depth))
    memories = {"act_r": act.read.pj, "act_w": act.write.pj, "wgt_r": wgt.read.pj,
                "wgt_w": wgt.write.pj, "dram_bit": tech.dram_bit().pj}
    dram_bits = round(cfg.dram_bandwidth_gbs * 8e3 / cfg.clock_mhz)
    m = args.seq_len
    int8_mac = tech.multiply(cfg.act_bits, 8).pj + tech.add(cfg.acc_bits).pj
    print(f"{cfg.name} ({cfg.rows}x{cfg.cols}, {tech.node_nm:g} nm): ZigZag's MAC "
          f"{ZIGZAG_MAC_PJ} pJ; for scale, an int8 multiply + {cfg.acc_bits}-bit add in "
          f"ternhw's table is {int8_mac:.3f} pJ")
    ours = {name: ternhw_side(cfg, tech, name, m, k, n) for name, (k, n) in SHAPES.items()}
    units = {name: {"zigzag": {"mac": ZIGZAG_MAC_PJ, "acc_r": ZIGZAG_REG_PJ,
                               "acc_w": ZIGZAG_REG_PJ, **memories},
                    "ternhw": {"mac": ours[name]["datapath_pj"] / ours[name]["macs"],
                               "acc_r": 0.0, "acc_w": ours[name]["acc_write_pj"], **memories}}
             for name in SHAPES}
    with tempfile.TemporaryDirectory(prefix="ternhw-zigzag-") as d:
        work, jobs = Path(d), {}
        for i, (name, (k, n)) in enumerate(SHAPES.items()):
            wl = work / f"workload{i}.yaml"
            wl.write_text(yaml.safe_dump(workload(cfg, m, k, n, ours[name]["out_bits"])))
            for order in ("ternhw order", "ZigZag search"):
                mp = work / f"mapping{i}_{order.split()[0]}.yaml"
                mp.write_text(yaml.safe_dump(mapping(cfg, m, k, n, order == "ternhw order")))
                for variant, unit in units[name].items():
                    hw = work / f"accelerator{i}_{variant}.yaml"
                    hw.write_text(yaml.safe_dump(accelerator(cfg, unit), sort_keys=False))
                    jobs[f"{name}|{order}|{variant}"] = {
                        "workload": str(wl), "mapping": str(mp), "accelerator": str(hw),
                        "dump": str(work / "out")}
        peer = run_zigzag(args.peer_python, jobs, work)
    rows = []
    for name, (k, n) in SHAPES.items():
        t = ours[name]
        macs = t["macs"]
        zz = {(o, v): peer[f"{name}|{o}|{v}"] for o in ("ternhw order", "ZigZag search")
              for v in ("zigzag", "ternhw")}
        if any(r["macs"] != macs for r in zz.values()):
            raise TernhwError(f"{name}: ZigZag counts {zz['ternhw order', 'zigzag']['macs']:,} "
                              f"MACs, ternhw {macs:,}")

        def level_pj(res: dict, mem: str) -> float:
            return sum(op["pj"] for op in res["levels"][mem].values())

        cols = {v: zz["ternhw order", v] for v in ("zigzag", "ternhw")}
        table = {"MAC datapath": ({v: r["mac_pj"] for v, r in cols.items()},
                                  t["datapath_pj"])}
        for lvl, mem in LEVELS.items():
            table[lvl] = ({v: level_pj(r, mem) for v, r in cols.items()}, t["levels_pj"][lvl])
        zz_compute = {v: r["mac_pj"] + level_pj(r, "acc_reg") for v, r in cols.items()}
        print(f"{name}, M = {m}: {macs:,} MACs (ZigZag counts the same); pJ/MAC, ZigZag with "
              "the ternhw loop order")
        print(f"  {'':24s} {'ZigZag units':>13s} {'ternhw units':>13s} {'ternhw':>9s}   "
              "ratios to ternhw")
        for lvl, (z, ref) in table.items():
            print(f"  {lvl:24s} {z['zigzag'] / macs:13.4f} {z['ternhw'] / macs:13.4f} "
                  f"{ref / macs:9.4f}   {_ratio(z['zigzag'], ref)} {_ratio(z['ternhw'], ref)}")
        print(f"  {'compute (array + acc)':24s} {zz_compute['zigzag'] / macs:13.4f} "
              f"{zz_compute['ternhw'] / macs:13.4f} {t['compute_pj'] / macs:9.4f}   "
              f"{_ratio(zz_compute['zigzag'], t['compute_pj'])} "
              f"{_ratio(zz_compute['ternhw'], t['compute_pj'])}")
        print(f"  {'not modelled by ZigZag':24s} {'-':>13s} {'-':>13s} "
              f"{t['not_in_zigzag_pj'] / macs:9.4f}")
        print(f"  {'total':24s} {cols['zigzag']['total_pj'] / macs:13.4f} "
              f"{cols['ternhw']['total_pj'] / macs:13.4f} {t['total_pj'] / macs:9.4f}   "
              f"{_ratio(cols['zigzag']['total_pj'], t['total_pj'])} "
              f"{_ratio(cols['ternhw']['total_pj'], t['total_pj'])}")
        acc_zz = zigzag_accesses(cols["ternhw"], dram_bits)
        print("  accesses ZigZag / ternhw: " + "; ".join(
            f"{what} {acc_zz[what]:,.0f} / {t['accesses'][what]:,.0f}"
            for what in t["accesses"]) + "; accumulator register reads "
            f"{acc_zz['accumulator register reads']:,.0f} / 0 (a wire)")
        best = zz["ZigZag search", "ternhw"]
        print(f"  ZigZag's own loop order (LOMA, least energy, ternhw units): memory "
              f"{best['mem_pj'] / macs:.4f} pJ/MAC vs {cols['ternhw']['mem_pj'] / macs:.4f} "
              f"with the ternhw order ({_ratio(best['mem_pj'], cols['ternhw']['mem_pj'])}); "
              f"{best['temporal_mapping']}")
        rows.append({
            "shape": name, "m": m, "k": k, "n": n, "macs": macs,
            "zigzag_compute_pj_per_mac": zz_compute["zigzag"] / macs,
            "ternhw_compute_pj_per_mac": t["compute_pj"] / macs,
            "compute_zigzag_over_ternhw": zz_compute["zigzag"] / t["compute_pj"],
            "zigzag_mac_pj_per_mac": cols["zigzag"]["mac_pj"] / macs,
            "ternhw_datapath_pj_per_mac": t["datapath_pj"] / macs,
            "levels_pj_per_mac": {lvl: {"zigzag_units": z["zigzag"] / macs,
                                        "ternhw_units": z["ternhw"] / macs,
                                        "ternhw": ref / macs}
                                  for lvl, (z, ref) in table.items()},
            "ternhw_not_in_zigzag_pj_per_mac": {c: pj / macs
                                                for c, pj in t["not_in_zigzag"].items()},
            "total_pj_per_mac": {"zigzag_units": cols["zigzag"]["total_pj"] / macs,
                                 "ternhw_units": cols["ternhw"]["total_pj"] / macs,
                                 "ternhw": t["total_pj"] / macs},
            "accesses": {"zigzag": acc_zz, "ternhw": t["accesses"]},
            "zigzag_search_mem_over_ternhw_order": best["mem_pj"] / cols["ternhw"]["mem_pj"],
            "zigzag_search_temporal_mapping": best["temporal_mapping"],
            "cycles": {"ternhw": t["cycles"], "zigzag": cols["ternhw"]["latency_cycles"]},
            "unit_costs_pj": units[name],
            "operands": {"weights": t["weights"], "activations": t["activations"]}})
    doc = {"benchmark": "per-MAC compute and memory energy: ternhw event model vs ZigZag",
           "config": cfg.name, "array": f"{cfg.rows}x{cfg.cols}", "peer": "zigzag-dse 3.9.1 "
           "(PyPI)", "technology": tech.describe(),
           "int8_mac_reference_pj": int8_mac, "zero_fraction": DEFAULT_ZERO_FRACTION,
           "rows": rows, "why_they_differ": __doc__.split("\n\n")[-1].replace("\n", " ")}
    if args.json:
        atomic_write_json(args.json, doc)
    return 0


def _ratio(a: float, b: float) -> str:
    return f"{a / b:6.2f}x" if b else "     -"


if __name__ == "__main__":
    sys.exit(main())
