"""``ternhw report``: energy, area, memory and throughput of an accelerator on real weights,
side by side with the int8 baseline generated, synthesized and modeled by the same flow."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from ..config import AcceleratorConfig
from ..energy import EnergyBreakdown, energy_of, load_table
from ..errors import TernhwError
from ..fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from ..formats.model_io import LoadedModel
from ..model.contract import Events
from ..model.schedule import resident_depth_needed
from ..quant.pipeline import QuantizedModel, quantize_model
from . import document as d
from . import plots
from .workloads import Layer, bitnet_layers, layer_events, layer_schedule, weights_for

LOG2_3 = math.log2(3)
SYNTH_TARGETS = ("generic", "ice40", "ecp5", "ecp5-nodsp")


def real_workload(cfg: AcceleratorConfig, model: LoadedModel, q: QuantizedModel,
                  seq_len: int) -> tuple[str, list[Layer], int]:
    """``(name, layers, tokens per inference)`` of one inference on the real weights."""
    names = list(q.ternary)
    if {"fc1.weight", "fc2.weight", "fc3.weight"} <= set(names):
        layers = [Layer(n.removesuffix(".weight"), 1, q.ternary[n].shape[1],
                        q.ternary[n].shape[0], weights_for(cfg, q.ternary[n].trits),
                        requant=n != "fc3.weight", bias=True)
                  for n in ("fc1.weight", "fc2.weight", "fc3.weight")]
        return "digits (1 image)", layers, 1
    encoder = [n for n in names if n.startswith("encoder.layer.")]
    if encoder:
        layers = [Layer(n.removesuffix(".weight"), seq_len, q.ternary[n].shape[1],
                        q.ternary[n].shape[0], weights_for(cfg, q.ternary[n].trits))
                  for n in encoder]
        return f"MiniLM (seq {seq_len})", layers, seq_len
    layers = [Layer(n.removesuffix(".weight"), seq_len, q.ternary[n].shape[1],
                    q.ternary[n].shape[0], weights_for(cfg, q.ternary[n].trits))
              for n in names]
    return f"{Path(model.source).name} ({seq_len} tokens)", layers, seq_len


def analyse(cfg: AcceleratorConfig, layers: list[Layer], table, fmax_mhz: float) -> dict:
    """Cycles, events, energy, roofline points of one workload on one design."""
    hz = fmax_mhz * 1e6
    total_cycles = 0
    total_events = Events()
    energy = EnergyBreakdown()
    per_layer = []
    weight_bytes = unique_weight_bytes = 0
    for layer in layers:
        plan = layer_schedule(cfg, layer)
        cyc = layer.count * plan.total_cycles
        weight_bytes += layer.count * plan.weight_bytes
        unique_weight_bytes += layer.count * plan.unique_weight_bytes
        ev = layer_events(cfg, layer, plan)
        e = energy_of(cfg, ev, layer.macs, table)
        dram_bytes = (ev.weight_bits_loaded + ev.act_bits_loaded + ev.output_bits_written) / 8
        per_layer.append({
            "name": layer.name, "m": layer.m, "k": layer.k, "n": layer.n, "count": layer.count,
            "real_weights": layer.real, "cycles": cyc, "macs": layer.macs,
            "utilization": layer.macs / (cyc * cfg.lanes), "energy_pj": e.total,
            "dram_bytes": dram_bytes, "intensity": 2 * layer.macs / dram_bytes,
            "achieved_ops": 2 * layer.macs / (cyc / hz),
            "commands": len(plan.commands),
            "weights_resident": any(c.resident for c in plan.commands),
            "resident_depth_needed": resident_depth_needed(cfg, layer.k, layer.n),
            "weight_reload_factor": plan.weight_reload_factor,
            "act_reload_factor": plan.act_reload_factor,
        })
        total_cycles += cyc
        total_events = total_events + ev
        energy = energy + e
    dram = sum(la["dram_bytes"] for la in per_layer)
    time_s = total_cycles / hz
    bw = cfg.dram_bandwidth_gbs * 1e9
    return {"cycles": total_cycles, "time_s": time_s, "roofline_time_s": max(time_s, dram / bw),
            "macs": energy.macs, "utilization": energy.macs / (total_cycles * cfg.lanes),
            "dram_bytes": dram, "energy": energy.to_dict(), "events": total_events.to_dict(),
            "weight_reload_factor": weight_bytes / unique_weight_bytes,
            "layers": per_layer}


def synth_results(cfg: AcceleratorConfig, mode: str, log) -> dict[str, dict]:
    """Synthesis per target: cached results always; runs only the targets ``mode`` allows
    (``auto``: the generic flow, which takes about a minute; ``run``: all)."""
    from ..hdl.generate import to_verilog
    from ..synth import cached_result, synthesize

    if mode == "skip":
        return {}
    verilog = to_verilog(cfg)
    out = {}
    for target in SYNTH_TARGETS:
        try:
            # ecp5-nodsp matters only for designs with multipliers
            wanted = mode == "run" and (target != "ecp5-nodsp" or not cfg.is_ternary)
            if target == "generic" or wanted:
                r = synthesize(cfg, target, verilog=verilog, log=log)
            else:   # a placed result, else a synthesis-only one
                r = cached_result(verilog[1], target) or cached_result(verilog[1], target,
                                                                       place_route=False)
        except TernhwError as e:
            r = {"error": str(e)}
        if r is not None:
            out[target] = {k: v for k, v in r.items() if k != "cell_types"}
    return out


def build_report(cfg: AcceleratorConfig, base: AcceleratorConfig, model: LoadedModel,
                 outdir: str | Path, *, table_spec=None, seq_len: int = 128,
                 synth_mode: str = "auto", log: Callable[[str], None] = print) -> dict:
    """Write ``report.html``, ``report.md``, ``summary.json`` and the PNGs into ``outdir``."""
    if not cfg.is_ternary or base.is_ternary:
        raise TernhwError("report compares a ternary config (--config) with an int8 baseline "
                          f"(--baseline); got {cfg.name!r} and {base.name!r}")
    outdir = Path(outdir)
    table = load_table(table_spec)
    log("quantizing the weights (absmean, per tensor)...")
    q = quantize_model(model)
    qdoc = q.summary()
    log("synthesizing (cached by RTL hash)...")
    synth = {"ternary": synth_results(cfg, synth_mode, log),
             "int8": synth_results(base, synth_mode, log)}
    fmax = {}
    for design, c in (("ternary", cfg), ("int8", base)):
        placed = synth[design].get("ecp5", {}).get("fmax_mhz")
        fmax[design] = (placed, "ECP5 85F nextpnr (out of context)") if placed else (
            c.clock_mhz, "target clock_mhz (no placed result)")
    # one clock for both designs keeps the throughput comparison about cycles
    clock = min(f for f, _ in fmax.values())
    clock_source = ", ".join(f"{k}: {v[0]:.1f} MHz from {v[1]}" for k, v in fmax.items())

    log("modeling cycles, events and energy...")
    zf = qdoc["zero_fraction"]
    wname, _, tokens = real_workload(cfg, model, q, seq_len)
    workloads = {
        wname: (lambda c: real_workload(c, model, q, seq_len)[1], tokens, True),
        "BitNet 2B decode (1 token)": (lambda c: bitnet_layers(c, 1, zf), 1, False),
        "BitNet 2B prefill (128 tokens)": (lambda c: bitnet_layers(c, 128, zf), 128, False),
    }
    results: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for name, (make, ntok, real) in workloads.items():
        entry = {"tokens": ntok, "real_weights": real}
        try:
            for design, c in (("ternary", cfg), ("int8", base)):
                a = analyse(c, make(c), table, clock)
                a["tokens_per_s"] = ntok / a["time_s"]
                a["tokens_per_s_roofline"] = ntok / a["roofline_time_s"]
                entry[design] = a
        except TernhwError as e:
            if real:
                raise
            skipped[name] = f"does not fit {c.name!r}: {e}"
            log(f"skipping {name}: {skipped[name]}")
            continue
        results[name] = entry

    summary = assemble(cfg, base, model, qdoc, table, synth, results, clock, clock_source,
                       wname, zf)
    summary["throughput"]["skipped_workloads"] = skipped
    log("drawing and writing the report...")
    pngs = figures(summary, results, qdoc, cfg, clock)
    blocks = document_blocks(summary, results)
    for fname, data in pngs.items():
        atomic_write_bytes(outdir / fname, data)
    atomic_write_json(outdir / "summary.json", summary)
    atomic_write_text(outdir / "report.md", d.to_markdown(blocks))
    atomic_write_text(outdir / "report.html",
                      d.to_html(blocks, pngs, f"ternhw report: {cfg.name} on {model.source}"))
    return summary


def _on_chip(energy: dict) -> float:
    return sum(v for k, v in energy["components_pj"].items() if k != "DRAM")


def _ratio(a, b):
    return a / b if a is not None and b else None


def assemble(cfg, base, model, qdoc, table, synth, results, clock, clock_source, wname, zf):
    n = qdoc["total_weights"]
    main = results[wname]
    t_area, i_area = synth["ternary"], synth["int8"]

    def area_of(design, target, key):
        return synth[design].get(target, {}).get(key)

    breakdown = {k: v.get("generic", {}).get("area_breakdown", {}) for k, v in synth.items()}
    array = "MAC array (lanes, adder trees)"
    comparison = {
        "energy_per_mac_ratio": _ratio(main["ternary"]["energy"]["per_mac_pj"],
                                       main["int8"]["energy"]["per_mac_pj"]),
        "energy_per_inference_ratio": _ratio(main["ternary"]["energy"]["total_pj"],
                                             main["int8"]["energy"]["total_pj"]),
        "on_chip_energy_per_mac_ratio": _ratio(
            _on_chip(main["ternary"]["energy"]), _on_chip(main["int8"]["energy"])),
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
        "weight_memory_ratio_2bit": qdoc["bytes"]["2bit"] / n,
        "weight_memory_ratio_base3": qdoc["bytes"]["base3"] / n,
        "mul_cells": {"ternary": area_of("ternary", "generic", "mul_cells"),
                      "int8": area_of("int8", "generic", "mul_cells")},
        "ecp5_dsps": {"ternary": area_of("ternary", "ecp5", "dsps"),
                      "int8": area_of("int8", "ecp5", "dsps")},
    }
    memory = {
        "weights": n,
        "bytes": {**qdoc["bytes"], "fp16": 2 * n, "int8": n, "int4": n // 2},
        "bits_per_weight": {**qdoc["bits_per_weight"], "fp16": 16.0, "int8": 8.0, "int4": 4.0},
        "log2_3_limit": LOG2_3,
        "on_chip_bytes": {
            "weight_buffer": cfg.weight_buffer_depth * cfg.weight_word_bits // 8,
            "activation_buffer": cfg.act_buffer_depth * cfg.act_word_bits // 8,
            "int8_weight_buffer": base.weight_buffer_depth * base.weight_word_bits // 8,
        },
        "dram_bytes_per_inference": {name: {dsg: r[dsg]["dram_bytes"] for dsg in
                                            ("ternary", "int8")} for name, r in results.items()},
    }
    throughput = {
        "clock_mhz": clock, "clock_source": clock_source,
        "dram_bandwidth_gbs": cfg.dram_bandwidth_gbs,
        "peak_ops": 2 * cfg.lanes * clock * 1e6,
        "workloads": {name: {
            "real_weights": r["real_weights"], "tokens": r["tokens"],
            **{dsg: {k: r[dsg][k] for k in ("cycles", "time_s", "roofline_time_s",
                                              "tokens_per_s", "tokens_per_s_roofline",
                                              "utilization", "macs", "weight_reload_factor")}
               for dsg in ("ternary", "int8")},
            "layers": [{k: la[k] for k in ("name", "m", "k", "n", "count", "cycles",
                                           "utilization", "intensity", "commands",
                                           "weights_resident", "resident_depth_needed",
                                           "weight_reload_factor", "act_reload_factor")}
                       for la in r["ternary"]["layers"]],
        } for name, r in results.items()},
        "projection_note": f"BitNet b1.58 2B shapes are projected: synthetic trits with the "
                           f"measured zero fraction {zf:.3f} of {model.source}; "
                           f"{wname} uses the real ternarized weights",
    }
    energy = {
        "table": table.name, "citation": table.citation, "sources": table.sources(),
        "per_action_pj": {
            "ternary": action_table(cfg, table), "int8": action_table(base, table)},
        "workloads": {name: {dsg: r[dsg]["energy"] for dsg in ("ternary", "int8")}
                      for name, r in results.items()},
    }
    return {
        "config": cfg.to_dict(), "baseline": base.to_dict(), "weights": model.source,
        "energy": energy,
        "area": {"ternary": t_area, "int8": i_area, "breakdown_generic_gates": breakdown},
        "memory": memory, "throughput": throughput, "comparison": comparison,
        "layers": [{k: la[k] for k in ("name", "shape", "zero_fraction", "boundary_mass",
                                       "rel_error")} for la in qdoc["layers"]],
    }


def action_table(cfg: AcceleratorConfig, table) -> dict[str, str]:
    """Per-action energies as used for ``cfg``: role -> "pJ (width or size)"."""
    from ..model.contract import REQUANT_MULT_BITS

    wb = cfg.weight_buffer_depth * cfg.weight_word_bits // 8
    ab = cfg.act_buffer_depth * cfg.act_word_bits // 8
    out = {
        "adder-tree add (per live lane)": f"{table.add(cfg.tree_bits):.4g} ({cfg.tree_bits} b)",
        "negate (-1 lane)": f"{table.add(cfg.act_bits + 1):.4g} ({cfg.act_bits + 1} b)"
        if cfg.is_ternary else "—",
        "gated lane (zero-skip)": f"{table.gated_lane():.4g}" if cfg.is_ternary else "—",
        "lane multiply": "—" if cfg.is_ternary else
        f"{table.multiply(cfg.act_bits, 8):.4g} ({cfg.act_bits}x8 b)",
        "accumulator add": f"{table.add(cfg.acc_bits):.4g} ({cfg.acc_bits} b)",
        "weight buffer, per bit": f"{table.sram_bit(wb):.4g} ({wb:,} B)",
        "activation buffer, per bit": f"{table.sram_bit(ab):.4g} ({ab:,} B)",
        "requantize multiply": f"{table.multiply(cfg.acc_bits, REQUANT_MULT_BITS):.4g} "
                               f"({cfg.acc_bits}x{REQUANT_MULT_BITS} b)",
        "DRAM, per bit": f"{table.dram_bit():.4g}",
    }
    return out


def figures(summary, results, qdoc, cfg, clock) -> dict[str, bytes]:
    energy = {name: {dsg: r[dsg]["energy"] for dsg in ("ternary", "int8")}
              for name, r in results.items()}
    comp = summary["comparison"]
    ratio_bars = {
        "energy / MAC": comp["energy_per_mac_ratio"],
        "energy / inference": comp["energy_per_inference_ratio"],
        "on-chip energy / MAC": comp["on_chip_energy_per_mac_ratio"],
        "MAC-array gates": comp["array_area_ratio_generic_gates"],
        "all gates": comp["area_ratio_generic_cells"],
        "ECP5 LUTs": comp["area_ratio_ecp5_luts"],
        "ECP5 LUTs (int8 -nodsp)": comp["area_ratio_ecp5_luts_nodsp"],
        "iCE40 LUTs": comp["area_ratio_ice40_luts"],
        "Fmax (ECP5)": comp["fmax_ratio_ecp5"],
        "weight bytes (2-bit)": comp["weight_memory_ratio_2bit"],
        "weight bytes (base-3)": comp["weight_memory_ratio_base3"],
    }
    points = [{"workload": name, "intensity": la["intensity"], "achieved": la["achieved_ops"]}
              for name, r in results.items() for la in r["ternary"]["layers"]]
    bd = summary["area"]["breakdown_generic_gates"]
    return {
        "energy_breakdown.png": plots.energy_breakdown(energy),
        "area_breakdown.png": plots.area_breakdown(
            {k: v for k, v in bd.items() if v} or {"(not synthesized)": {}}),
        "ternary_vs_int8.png": plots.ratios(ratio_bars),
        "roofline.png": plots.roofline(2 * cfg.lanes * clock * 1e6,
                                       cfg.dram_bandwidth_gbs * 1e9, points),
        "layer_sparsity.png": plots.layer_sparsity(qdoc["layers"]),
    }


def document_blocks(s, results) -> list[tuple]:
    cfg, base, comp = s["config"], s["baseline"], s["comparison"]
    thr = s["throughput"]
    blocks = [
        d.h(1, f"ternhw report: {cfg['name']} vs {base['name']} on {s['weights']}"),
        d.p(f"Ternary design: {cfg['rows']}x{cfg['cols']} lanes, {cfg['act_bits']}-bit "
            f"activations, {cfg['acc_bits']}-bit {cfg['overflow']} accumulators, "
            f"{cfg['weight_format']} weights. Baseline: the same array with int8 multipliers "
            f"({base['acc_bits']}-bit accumulators), generated, synthesized and modeled by the "
            "same flow. Cycles come from the exact cycle model (checked cycle for cycle by "
            "co-simulation), events from the golden model on the real weights."),
        d.h(2, "Headline: ternary / int8"),
        d.table(["quantity", "ratio"], [[k, v] for k, v in comp.items()
                                         if not isinstance(v, dict)]),
        d.p(f"$mul cells after elaboration: ternary {comp['mul_cells']['ternary']}, "
            f"int8 {comp['mul_cells']['int8']}. ECP5 DSP blocks: ternary "
            f"{comp['ecp5_dsps']['ternary']}, int8 {comp['ecp5_dsps']['int8']} (the ECP5 LUT "
            "ratio compares LUTs only; the int8 multipliers sit in DSPs, so the iCE40 LUT ratio, "
            "with no DSPs, is the LUT-for-LUT comparison)."),
        d.image("ternary_vs_int8.png", "ternary / int8 ratios (below 1: ternary wins)"),
        d.h(2, "Energy"),
        d.p(f"Energy = sum of event counts x per-action energy from {s['energy']['citation']} "
            f"({s['energy']['table']}), with explicit width and SRAM-size scaling."),
        d.table(["action", "ternary pJ", "int8 pJ"], _action_rows(s["energy"]["per_action_pj"])),
        d.table(["action", "source"], [[k, v] for k, v in s["energy"]["sources"].items()]),
    ]
    rows = []
    for name, r in results.items():
        for dsg in ("ternary", "int8"):
            e = r[dsg]["energy"]
            rows.append([name, dsg, e["total_pj"] / 1e6, e["per_mac_pj"],
                         *[e["components_pj"][c] / 1e6 for c in e["components_pj"]]])
    comps = list(next(iter(results.values()))["ternary"]["energy"]["components_pj"])
    blocks += [d.table(["workload", "design", "µJ / inference", "pJ / MAC",
                        *[f"{c} µJ" for c in comps]], rows),
               d.image("energy_breakdown.png", "energy per inference by component")]
    blocks += [d.h(2, "Area")]
    arows = []
    for dsg in ("ternary", "int8"):
        for target, r in s["area"][dsg].items():
            if "error" in r:
                arows.append([dsg, target, None, None, None, None, None, None, r["error"]])
                continue
            arows.append([dsg, f"{target} ({r.get('device')})", r.get("cells"), r.get("luts"),
                          r.get("ffs"), r.get("brams"), r.get("dsps"), r.get("fmax_mhz"),
                          "; ".join(r.get("notes", [])) or ("cached" if r.get("cached")
                                                            else "")])
    if not arows:
        blocks.append(d.p("Synthesis was skipped (--synth skip)."))
    blocks += [d.table(["design", "target", "cells", "LUTs", "FFs", "BRAM", "DSP", "Fmax MHz",
                        "notes"], arows),
               d.p("ECP5 numbers are placed and routed out of context (the accelerator has more "
                   "ports than any package has pins). Targets without a row have no cached "
                   "result yet: run `ternhw synth --config NAME --target ecp5` (minutes) and "
                   "re-run the report."),
               d.image("area_breakdown.png", "generic gates by component")]
    m = s["memory"]
    blocks += [
        d.h(2, "Memory"),
        d.table(["format", "bytes", "bits / weight"],
                [[f, m["bytes"][f], m["bits_per_weight"][f]] for f in m["bytes"]]),
        d.p(f"{m['weights']:,} weights; the information limit is log2(3) = "
            f"{m['log2_3_limit']:.3f} bits per trit. On-chip: weight buffer "
            f"{m['on_chip_bytes']['weight_buffer']:,} B, activation buffer "
            f"{m['on_chip_bytes']['activation_buffer']:,} B (int8 baseline weight buffer "
            f"{m['on_chip_bytes']['int8_weight_buffer']:,} B)."),
        d.table(["workload", "ternary DRAM bytes / inference", "int8 DRAM bytes / inference"],
                [[k, v["ternary"], v["int8"]] for k, v in m["dram_bytes_per_inference"].items()]),
        d.h(2, "Throughput"),
        d.p(f"Clock {thr['clock_mhz']:.1f} MHz ({thr['clock_source']}); DRAM "
            f"{thr['dram_bandwidth_gbs']} GB/s. {thr['projection_note']}."),
        d.table(["workload", "real weights", "design", "cycles", "ms", "tokens/s",
                 "tokens/s (roofline)", "utilization"],
                [[name, w["real_weights"], dsg, w[dsg]["cycles"], 1e3 * w[dsg]["time_s"],
                  w[dsg]["tokens_per_s"], w[dsg]["tokens_per_s_roofline"],
                  w[dsg]["utilization"]]
                 for name, w in thr["workloads"].items() for dsg in ("ternary", "int8")]),
        *[d.p(f"Not modeled: {k}: {v}") for k, v in thr.get("skipped_workloads", {}).items()],
        d.image("roofline.png", "roofline of the ternary design, one point per layer"),
        d.h(2, "Per-layer sparsity"),
        d.image("layer_sparsity.png", "zero fraction and boundary mass per layer"),
        d.table(["layer", "shape", "zeros", "boundary mass", "rel. error"],
                [[la["name"], "x".join(map(str, la["shape"])), la["zero_fraction"],
                  la["boundary_mass"], la["rel_error"]] for la in s["layers"]]),
    ]
    return blocks


def _action_rows(per_action: dict) -> list[list]:
    t, i = per_action["ternary"], per_action["int8"]
    keys = list(dict.fromkeys([*t, *i]))
    return [[k, t.get(k), i.get(k)] for k in keys]
