"""The report's JSON document (``summary.json``), assembled from the analyses of
:mod:`ternhw.report.build`, and the plain-language labels every rendering uses."""

from __future__ import annotations

from collections import Counter

from ..energy import action_table, dram_technologies
from ..energy.tech import Technology
from ..errors import TernhwError
from .build import DESIGN_LABELS, analyse, no_fmax_reason, technology_of

#: Energy components of ``ternhw.energy`` -> the report's groups: memory off-chip / on-chip,
#: compute by part of the datapath.
COMPONENT_GROUPS = {
    "DRAM": "off-chip memory",
    "activation buffer": "on-chip memory", "weight buffer": "on-chip memory",
    "weight decoder": "lanes", "weight code check": "lanes", "lanes": "lanes",
    "adder trees": "adder trees", "array pipeline registers": "adder trees",
    "accumulators": "accumulators", "bias banks": "accumulators",
    "output snapshot": "requantizer", "requantizer": "requantizer",
    "output register": "requantizer",
    "controller": "control", "status counters": "control", "stream I/O": "control",
    "clock tree": "clock", "leakage": "leakage",
}
GROUPS = ("off-chip memory", "on-chip memory", "lanes", "adder trees", "accumulators",
          "requantizer", "control", "clock", "leakage", "other")
OFF_CHIP = "DRAM"

#: ``comparison`` keys -> what they mean, in words.
COMPARISON_LABELS = {
    "energy_per_token_ratio": "energy per token",
    "energy_per_mac_ratio": "energy per MAC",
    "on_chip_energy_per_mac_ratio": "on-chip energy per MAC (off-chip memory left out)",
    "tokens_per_s_ratio": "tokens per second, each design at its own clock",
    "cycles_ratio": "clock cycles per inference",
    "offchip_bytes_ratio": "off-chip bytes per inference",
    "on_chip_kb_ratio": "on-chip buffer bytes",
    "array_area_ratio_generic_gates": "MAC-array gates (Yosys generic synthesis)",
    "area_ratio_generic_cells": "all logic gates (Yosys generic, buffers excluded)",
    "area_ratio_ecp5_luts": "ECP5 LUT4s (int8 multipliers in DSPs)",
    "area_ratio_ecp5_luts_nodsp": "ECP5 LUT4s, int8 multipliers in LUTs (-nodsp)",
    "area_ratio_ice40_luts": "iCE40 LUT4s (no DSPs: LUT for LUT)",
    "fmax_ratio_ecp5": "placed ECP5 Fmax",
    "weight_memory_ratio_2bit": "weight bytes, 2-bit packing vs int8",
    "weight_memory_ratio_base3": "weight bytes, base-3 packing vs int8",
}
#: Synthesis result keys -> column labels.
SYNTH_LABELS = {"cells": "cells", "luts": "LUT4s", "ffs": "flip-flops", "brams": "block RAMs",
                "dsps": "DSPs", "fmax_mhz": "placed Fmax (MHz)"}


def _ratio(a, b):
    return a / b if a is not None and b else None


def on_chip_pj(energy: dict) -> float:
    return sum(v for k, v in energy["components_pj"].items() if k != OFF_CHIP)


def groups_of(components_pj: dict[str, float]) -> dict[str, float]:
    out = dict.fromkeys(GROUPS, 0.0)
    for comp, pj in components_pj.items():
        out[COMPONENT_GROUPS.get(comp, "other")] += pj
    if not out["other"]:
        del out["other"]
    return out


def on_chip_bytes(cfg) -> dict[str, int]:
    w = cfg.weight_buffer_depth * cfg.weight_word_bits // 8
    a = cfg.act_buffer_depth * cfg.act_word_bits // 8
    return {"weight_buffer": w, "activation_buffer": a, "total": w + a}


def _dram_bits(energy: dict) -> float:
    return sum(li["count"] for li in energy["lines"] if li["component"] == OFF_CHIP)


def sensitivity(designs: dict, main: dict, wname: str, make_layers, tokens: int, clocks: dict,
                tech: Technology) -> dict:
    """Energy per token of the main workload vs the off-chip technology (the DRAM lines
    repriced: cycles, and so every other line, do not depend on it) and vs the weight buffer
    depth (each design re-modeled: residency, SRAM energy per word and leakage change)."""
    dram = {}
    for name in dram_technologies():
        pj_bit = Technology(node_nm=tech.node_nm, dram=name, vdd=tech.vdd).dram_bit().pj
        dram[name] = {}
        for key in designs:
            if key not in main:
                continue
            e = main[key]["energy"]
            other = e["total_pj"] - e["components_pj"].get(OFF_CHIP, 0.0)
            dram[name][key] = (other + _dram_bits(e) * pj_bit) / tokens / 1e6
    buffer: dict[str, dict] = {}
    for key in ("ternary", "int8"):
        c = designs[key]
        depth = c.weight_buffer_depth
        rows = []
        for f in (0.25, 0.5, 1, 2):
            dd = max(1, int(depth * f))
            v = c.replace(weight_buffer_depth=dd)
            try:
                a = analyse(v, make_layers(v), technology_of(v), clocks[key]["mhz"])
            except TernhwError as e:
                rows.append({"depth": dd, "kb": on_chip_bytes(v)["weight_buffer"] / 1024,
                             "uj_per_token": None, "note": str(e)})
                continue
            rows.append({"depth": dd, "kb": on_chip_bytes(v)["weight_buffer"] / 1024,
                         "uj_per_token": a["energy"]["total_pj"] / tokens / 1e6,
                         "weight_reload_factor": a["weight_reload_factor"],
                         "act_reload_factor": a["act_reload_factor"]})
        buffer[key] = rows
    return {"workload": wname, "dram_uj_per_token": dram, "weight_buffer": buffer,
            "note": "same clock and cycles for every off-chip technology (the cycle model has "
                    "no off-chip stalls); the weight-buffer rows re-model the design with that "
                    "depth (residency or column blocks, SRAM energy per word, leakage)"}


def _energy_doc(e: dict, tokens: int) -> dict:
    return {"total_pj": e["total_pj"], "per_mac_pj": e["per_mac_pj"],
            "per_token_uj": e["total_pj"] / tokens / 1e6, "macs": e["macs"],
            "components_pj": e["components_pj"], "groups_pj": groups_of(e["components_pj"]),
            "lines": e["lines"], "events": e.get("events", [])}


def assemble(designs, model, qdoc, tech, synth, clocks, results, wname, zf, baseline_reason,
             sens) -> dict:
    cfg, base = designs["ternary"], designs["int8"]
    n = qdoc["total_weights"]
    main = results[wname]
    keys = [k for k in designs]

    def area_of(design, target, key):
        return synth.get(design, {}).get(target, {}).get(key)

    breakdown = {k: synth[k].get("generic", {}).get("area_breakdown", {})
                 for k in ("ternary", "int8")}
    array = "MAC array (lanes, adder trees)"
    t, i = main["ternary"], main["int8"]
    comparison = {
        "workload": wname,
        "energy_per_token_ratio": _ratio(t["energy"]["total_pj"], i["energy"]["total_pj"]),
        "energy_per_mac_ratio": _ratio(t["energy"]["per_mac_pj"], i["energy"]["per_mac_pj"]),
        "on_chip_energy_per_mac_ratio": _ratio(on_chip_pj(t["energy"]), on_chip_pj(i["energy"])),
        "tokens_per_s_ratio": _ratio(t["tokens_per_s"], i["tokens_per_s"]),
        "cycles_ratio": _ratio(t["cycles"], i["cycles"]),
        "offchip_bytes_ratio": _ratio(t["dram_bytes"], i["dram_bytes"]),
        "on_chip_kb_ratio": _ratio(on_chip_bytes(cfg)["total"], on_chip_bytes(base)["total"]),
        "array_area_ratio_generic_gates": _ratio(breakdown["ternary"].get(array),
                                                 breakdown["int8"].get(array)),
        "area_ratio_generic_cells": _ratio(area_of("ternary", "generic", "cells"),
                                           area_of("int8", "generic", "cells")),
        "area_ratio_ecp5_luts": _ratio(area_of("ternary", "ecp5", "luts"),
                                       area_of("int8", "ecp5", "luts")),
        # a ternary design has no multipliers, so its ECP5 LUTs are the same with or without DSPs
        "area_ratio_ecp5_luts_nodsp": _ratio(area_of("ternary", "ecp5", "luts"),
                                             area_of("int8", "ecp5-nodsp", "luts")),
        "area_ratio_ice40_luts": _ratio(area_of("ternary", "ice40", "luts"),
                                        area_of("int8", "ice40", "luts")),
        "fmax_ratio_ecp5": _ratio(area_of("ternary", "ecp5", "fmax_mhz"),
                                  area_of("int8", "ecp5", "fmax_mhz")),
        "weight_memory_ratio_2bit": qdoc["bytes"]["2bit"] / n if qdoc["bytes"]["2bit"] else None,
        "weight_memory_ratio_base3": (qdoc["bytes"]["base3"] / n
                                      if qdoc["bytes"]["base3"] else None),
        "mul_cells": {k: area_of(k, "generic", "mul_cells") for k in ("ternary", "int8")},
        "ecp5_dsps": {k: area_of(k, "ecp5", "dsps") for k in ("ternary", "int8")},
        "labels": COMPARISON_LABELS,
    }
    answer = {}
    for k, c in designs.items():
        a = main.get(k)
        e5 = synth[k].get("ecp5", {})
        answer[k] = {
            "label": DESIGN_LABELS.get(k, k), "config": c.name, "array": f"{c.rows}x{c.cols}",
            "weights": c.weight_format, "macs_per_cycle": c.lanes,
            "clock_mhz": clocks[k]["mhz"], "clock_source": clocks[k]["source"],
            "clock_placed": clocks[k]["placed"],
            "tokens_per_s": a["tokens_per_s"] if a else None,
            "uj_per_token": a["energy"]["per_token_uj"] if a else None,
            "pj_per_mac": a["energy"]["per_mac_pj"] if a else None,
            "ecp5_luts": e5.get("luts"), "ecp5_dsps": e5.get("dsps"),
            "ecp5_fmax_mhz": e5.get("fmax_mhz") if e5.get("placed") else None,
            "ecp5_status": placed_status(e5),
            "on_chip_kb": on_chip_bytes(c)["total"] / 1024,
        }
    placed = placed_table(designs, synth)
    pm = placed["rows"]
    if "int8_placed" in pm:
        placed["ratios"] = {
            "macs_per_s": _ratio(pm["ternary"]["macs_per_s"], pm["int8_placed"]["macs_per_s"]),
            "macs_per_s_per_lut": _ratio(pm["ternary"]["macs_per_s_per_lut"],
                                         pm["int8_placed"]["macs_per_s_per_lut"])}
    stored = {"bytes": {**qdoc["bytes"], "fp16": 2 * n, "int8": n, "int4": n // 2},
              "bits_per_weight": {**qdoc["bits_per_weight"], "fp16": 16.0, "int8": 8.0,
                                  "int4": 4.0}}
    zs = [la["zero_fraction"] for la in qdoc["layers"]]
    memory = {
        "methods": dict(Counter(la["method"] for la in qdoc["layers"])),
        "weights": n, "matrices": len(qdoc["layers"]), **stored,
        "workload_matrices": len(t["layers"]),
        "workload_weights": sum(la["k"] * la["n"] * la["count"] for la in t["layers"]),
        "log2_3_limit": 1.584962500721156,
        "zero_fraction": zf, "zero_fraction_range": [min(zs), max(zs)] if zs else None,
        "on_chip_bytes": {k: on_chip_bytes(c) for k, c in designs.items()},
        "traffic": {name: {k: {**r[k]["traffic"], "weight_reload_factor":
                                r[k]["weight_reload_factor"]}
                           for k in keys if k in r} for name, r in results.items()},
        "dram_bytes_per_inference": {name: {k: r[k]["dram_bytes"] for k in keys if k in r}
                                     for name, r in results.items()},
        "traffic_note": "off-chip bytes as the schedule moves them (ternhw.model.schedule), "
                        "whole stream words with padding; 'ideal' moves each of those bytes "
                        "once (a weight reload factor of 1); a matrix that does not fit the "
                        "weight buffer runs n-blocked where that reads fewer bytes: weights "
                        "once, activations once per column block (see the per-layer table)",
    }
    throughput = {
        "clocks": clocks,
        "dram_bandwidth_gbs": cfg.dram_bandwidth_gbs,
        "peak_ops": {k: 2 * c.lanes * clocks[k]["mhz"] * 1e6 for k, c in designs.items()},
        "workloads": {name: {
            "real_weights": r["real_weights"], "tokens": r["tokens"],
            "not_modeled": r.get("not_modeled", {}),
            **{k: {x: r[k][x] for x in ("clock_mhz", "cycles", "time_s", "roofline_time_s",
                                        "tokens_per_s", "tokens_per_s_roofline",
                                        "utilization", "macs", "weight_reload_factor",
                                        "act_reload_factor")}
               for k in keys if k in r},
            "layers": {k: [{x: la[x] for x in LAYER_KEYS} for la in r[k]["layers"]]
                       for k in ("ternary", "int8")},
        } for name, r in results.items()},
        "projection_note": f"BitNet b1.58 2B shapes are projected: synthetic trits with the "
                           f"measured zero fraction {zf:.3f} of {model.source}; "
                           f"{wname} uses the real ternarized weights",
    }
    energy = {
        "technology": tech.describe(),
        "per_action": {k: action_table(c, tech, clocks[k]["mhz"]) for k, c in designs.items()},
        "component_groups": COMPONENT_GROUPS,
        "workloads": {name: {k: _energy_doc(r[k]["energy"], r["tokens"]) for k in keys
                             if k in r} for name, r in results.items()},
        "sensitivity": sens,
    }
    return {
        "config": cfg.to_dict(), "baseline": base.to_dict(),
        "baseline_reason": baseline_reason or f"named: {base.name}",
        "designs": {k: c.to_dict() for k, c in designs.items()},
        "weights": model.source, "main_workload": wname,
        "answer": answer, "placed_ecp5": placed,
        "energy": energy,
        "area": {**{k: synth[k] for k in designs}, "breakdown_generic_gates": breakdown},
        "memory": memory, "throughput": throughput, "comparison": comparison,
        "layers": [{k: la[k] for k in ("name", "shape", "zero_fraction", "boundary_mass",
                                       "rel_error")} for la in qdoc["layers"]],
    }


LAYER_KEYS = ("name", "m", "k", "n", "count", "cycles", "utilization", "intensity", "commands",
              "schedule_policy", "blocks", "weights_resident", "resident_depth_needed",
              "weight_bytes",
              "ideal_weight_bytes", "act_bytes", "ideal_act_bytes", "bias_bytes",
              "ideal_bias_bytes", "out_bytes", "offchip_bytes", "ideal_offchip_bytes",
              "weight_reload_factor", "act_reload_factor", "weight_buffer_read_bytes",
              "act_buffer_read_bytes")


def placed_status(r: dict) -> str:
    """A synthesis entry's state in words: placed (cached or run) or why not."""
    if r.get("placed") and r.get("fmax_mhz"):
        return "placed" + (" (cached)" if r.get("cached") else " (run now)")
    return f"no placed result: {no_fmax_reason(r)}"


def placed_table(designs: dict, synth: dict) -> dict:
    """Issue 10 item 5: MACs per cycle, placed Fmax, MACs/s at each design's own Fmax, per
    LUT and per DSP, on the ECP5 85F. Numbers only where nextpnr placed the design."""
    rows = {}
    for k, c in designs.items():
        r = synth[k].get("ecp5", {})
        fmax = r.get("fmax_mhz") if r.get("placed") else None
        macs_s = c.lanes * fmax * 1e6 if fmax else None
        luts, dsps = r.get("luts"), r.get("dsps")
        rows[k] = {"label": DESIGN_LABELS.get(k, k), "config": c.name,
                   "array": f"{c.rows}x{c.cols}",
                   "macs_per_cycle": c.lanes, "luts": luts, "dsps": dsps,
                   "ffs": r.get("ffs"), "brams": r.get("brams"), "fmax_mhz": fmax,
                   "clock_goal_mhz": r.get("clock_goal_mhz"),
                   "macs_per_s": macs_s,
                   "macs_per_s_per_lut": macs_s / luts if macs_s and luts else None,
                   "macs_per_s_per_dsp": macs_s / dsps if macs_s and dsps else None,
                   "fits": r.get("fits"), "cached": r.get("cached"),
                   "notes": r.get("notes", []), "status": placed_status(r)}
    return {"device": "ECP5 LFE5U-85F (83,640 LUT4s, 156 DSPs, 208 EBR), nextpnr out of "
                      "context", "rows": rows}


def _f(v, spec=".3g", unit=""):
    return "—" if v is None else f"{v:{spec}}{unit}"


def opening_lines(s: dict) -> list[str]:
    """The answer in absolute terms, then the ratios (the report's first lines)."""
    out = [f"{s['main_workload']} on {s['weights']}, "
           f"{s['energy']['technology']['logic_node_nm']:g} nm logic, "
           f"{s['energy']['technology']['dram']['technology']} off-chip memory:"]
    for a in s["answer"].values():
        fmax = (f"placed Fmax {a['ecp5_fmax_mhz']:.1f} MHz" if a["ecp5_fmax_mhz"]
                else a["ecp5_status"].split(":", 1)[0])
        out.append(
            f"  {a['label']} ({a['config']}, {a['array']}): {_f(a['tokens_per_s'], ',.0f')} "
            f"tokens/s at {a['clock_mhz']:.1f} MHz"
            f"{' (placed Fmax)' if a['clock_placed'] else ' (config clock, not placed)'}, "
            f"{_f(a['uj_per_token'], ',.2f')} µJ/token, ECP5 {_f(a['ecp5_luts'], ',')} LUTs / "
            f"{_f(a['ecp5_dsps'], ',')} DSPs ({fmax}), on-chip {a['on_chip_kb']:,.0f} KB")
    c = s["comparison"]
    out.append(f"  ternary / int8 baseline: energy per token {_f(c['energy_per_token_ratio'])}, "
               f"on-chip energy per MAC {_f(c['on_chip_energy_per_mac_ratio'])}, tokens/s "
               f"{_f(c['tokens_per_s_ratio'])}, MAC-array gates "
               f"{_f(c['array_area_ratio_generic_gates'])}, ECP5 LUTs "
               f"{_f(c['area_ratio_ecp5_luts'])}")
    return out
