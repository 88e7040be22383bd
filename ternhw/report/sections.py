"""The report's document (blocks rendered to Markdown and HTML by :mod:`.document`) and its
figures, both from the summary of :mod:`.summary`: nothing here computes a figure of its own
beyond unit conversions."""

from __future__ import annotations

from . import document as d
from . import plots
from .build import DESIGN_LABELS
from .summary import COMPARISON_LABELS, COMPONENT_GROUPS, GROUPS, SYNTH_LABELS, opening_lines

SYNTH_TARGET_LABELS = {"generic": "Yosys generic gates", "ice40": "iCE40 HX8K",
                       "ecp5": "ECP5 85F", "ecp5-nodsp": "ECP5 85F, multipliers in LUTs"}


#: Comparison keys plotted in ternary_vs_int8.png, with short labels.
RATIO_BARS = {"energy_per_token_ratio": "energy / token",
              "on_chip_energy_per_mac_ratio": "on-chip energy / MAC",
              "tokens_per_s_ratio": "tokens / s",
              "array_area_ratio_generic_gates": "MAC-array gates",
              "area_ratio_generic_cells": "all gates", "area_ratio_ecp5_luts": "ECP5 LUTs",
              "area_ratio_ecp5_luts_nodsp": "ECP5 LUTs (int8 -nodsp)",
              "area_ratio_ice40_luts": "iCE40 LUTs", "fmax_ratio_ecp5": "placed Fmax (ECP5)",
              "weight_memory_ratio_2bit": "weight bytes (2-bit)",
              "weight_memory_ratio_base3": "weight bytes (base-3)"}


def _label(k: str) -> str:
    return DESIGN_LABELS.get(k, k)


def _designs(s: dict) -> list[str]:
    return list(s["designs"])


# ---- figures -----------------------------------------------------------------------------
def figures(s: dict, results: dict, qdoc: dict) -> dict[str, bytes]:
    keys = _designs(s)
    ew = s["energy"]["workloads"]
    comp = s["comparison"]
    ratio_bars = {label: comp[k] for k, label in RATIO_BARS.items()}
    points = [{"workload": name, "intensity": la["intensity"], "achieved": la["achieved_ops"]}
              for name, r in results.items() for la in r["ternary"]["layers"]]
    bd = s["area"]["breakdown_generic_gates"]
    stacked = {name: {k: {**e, "tokens": results[name]["tokens"]} for k, e in w.items()}
               for name, w in ew.items()}
    out = {
        "energy_breakdown.png": plots.energy_breakdown(stacked, DESIGN_LABELS),
        "area_breakdown.png": plots.area_breakdown(
            {_label(k): v for k, v in bd.items() if v} or {"(not synthesized)": {}}),
        "ternary_vs_int8.png": plots.ratios(ratio_bars),
        "roofline.png": plots.roofline(s["throughput"]["peak_ops"]["ternary"],
                                       s["throughput"]["dram_bandwidth_gbs"] * 1e9, points),
        "layer_sparsity.png": plots.layer_sparsity(qdoc["layers"]),
    }
    for k in keys:
        per = {name: {g: pj / w[k]["macs"] for g, pj in w[k]["groups_pj"].items()}
               for name, w in ew.items() if k in w}
        if per:
            c = s["designs"][k]
            out[f"energy_{k}.png"] = plots.energy_per_design(
                f"{_label(k)}: {c['name']} ({c['rows']}x{c['cols']})", per)
    sens = s["energy"]["sensitivity"]
    out["sensitivity.png"] = plots.sensitivity(sens["dram_uj_per_token"], sens["weight_buffer"],
                                               DESIGN_LABELS, sens["workload"])
    return out


# ---- document ----------------------------------------------------------------------------
def document_blocks(s: dict, results: dict) -> list[tuple]:
    return [*_opening(s), *_designs_section(s), *_placed(s), *_energy(s), *_activity(s),
            *_memory(s), *_throughput(s), *_area(s), *_weights(s)]


def _opening(s: dict) -> list[tuple]:
    cfg, base = s["config"], s["baseline"]
    rows = [[a["label"], a["config"], a["array"], a["macs_per_cycle"], a["clock_mhz"],
             "placed Fmax" if a["clock_placed"] else "config clock_mhz (not placed)",
             a["tokens_per_s"], a["uj_per_token"], a["pj_per_mac"], a["ecp5_luts"],
             a["ecp5_dsps"], a["ecp5_fmax_mhz"], a["on_chip_kb"]] for a in s["answer"].values()]
    comp = s["comparison"]
    ratio_rows = [[COMPARISON_LABELS[k], comp[k]] for k in COMPARISON_LABELS]
    pr = s["placed_ecp5"].get("ratios")
    if pr:
        ratio_rows += [["MACs per second at each design's placed Fmax, vs the int8 design that "
                        "places", pr["macs_per_s"]],
                       ["MACs per second per LUT4, vs the int8 design that places",
                        pr["macs_per_s_per_lut"]]]
    tech = s["energy"]["technology"]
    return [
        d.h(1, f"ternhw report: {cfg['name']} vs {base['name']} on {s['weights']}"),
        d.p("The answer, in absolute terms: " + " ".join(opening_lines(s)[:1])),
        d.table(["design", "config", "array", "MACs / cycle", "clock (MHz)", "clock basis",
                 "tokens / s", "µJ / token", "pJ / MAC", "ECP5 LUT4s", "ECP5 DSPs",
                 "placed Fmax (MHz)", "on-chip buffers (KB)"], rows),
        d.p(f"Energy at {tech['logic_node_nm']:g} nm logic ({tech['vdd']:g} V) with "
            f"{tech['dram']['technology']} off-chip memory "
            f"({tech['dram']['pj_per_bit']:g} pJ/bit). "
            "Tokens per second are at each design's own clock (see Designs compared); a dash "
            "is a figure this run does not have (the reason is given where it is missing)."),
        d.h(2, f"Ratios: ternary / int8 baseline ({comp['workload']})"),
        d.table(["quantity", "ternary / int8"], ratio_rows),
        d.p(f"$mul cells after elaboration: ternary {d.cell(comp['mul_cells']['ternary'])}, "
            f"int8 {d.cell(comp['mul_cells']['int8'])}; ECP5 DSP blocks: ternary "
            f"{d.cell(comp['ecp5_dsps']['ternary'])}, int8 {d.cell(comp['ecp5_dsps']['int8'])} "
            "(— : not synthesized in this run). The ECP5 LUT ratio compares LUTs only, with "
            "the int8 multipliers in DSPs; the iCE40 and -nodsp ratios are LUT for LUT."),
        d.image("ternary_vs_int8.png", "ternary / int8 ratios (below 1: ternary smaller)"),
    ]


def _designs_section(s: dict) -> list[tuple]:
    cfg, base = s["config"], s["baseline"]
    clocks = s["throughput"]["clocks"]
    out = [
        d.h(2, "Designs compared"),
        d.p(f"Ternary design {cfg['name']}: {cfg['rows']}x{cfg['cols']} lanes, "
            f"{cfg['act_bits']}-bit activations, {cfg['acc_bits']}-bit {cfg['overflow']} "
            f"accumulators, {cfg['weight_format']} weights, {cfg['requant_lanes']} shared "
            f"requantizer lane(s), buffers of {cfg['weight_buffer_depth']} weight and "
            f"{cfg['act_buffer_depth']} activation words."),
        d.p(f"int8 baseline {base['name']} ({base['rows']}x{base['cols']} lanes, "
            f"{base['acc_bits']}-bit accumulators): {s['baseline_reason']}. It is generated, "
            "synthesized and modeled by the same flow."),
    ]
    if "int8_placed" in s["designs"]:
        p = s["designs"]["int8_placed"]
        out.append(d.p(
            f"int8 design that places, {p['name']} ({p['rows']}x{p['cols']} lanes): the "
            "shipped int8 design whose multipliers fit the ECP5 85F's 156 DSPs, for the "
            "placed comparison (MACs per second at each design's own Fmax)."))
    out.append(d.table(["design", "config", "clock (MHz)", "why this clock"],
                       [[_label(k), s["designs"][k]["name"], c["mhz"], c["source"]]
                        for k, c in clocks.items()]))
    out.append(d.p("Cycles come from the exact cycle model (checked cycle for cycle by "
                   "co-simulation); events from the golden model's counts on the weights; "
                   "traffic from the schedule (ternhw.model.schedule)."))
    return out


def _placed(s: dict) -> list[tuple]:
    pe = s["placed_ecp5"]
    rows = [[r["label"], r["config"], r["array"], r["macs_per_cycle"], r["luts"], r["dsps"],
             r["fmax_mhz"], r["macs_per_s"], r["macs_per_s_per_lut"], r["macs_per_s_per_dsp"],
             r["status"]] for r in pe["rows"].values()]
    return [
        d.h(2, "Placed on ECP5 85F"),
        d.p(f"{pe['device']}. MACs per second are at each design's own placed Fmax; LUT and "
            "DSP counts are from synthesis (also for a design that does not fit). A design "
            "without a placed result has no Fmax and no MACs per second here: the last "
            "column says why."),
        d.table(["design", "config", "array", "MACs / cycle", "LUT4s", "DSPs",
                 "placed Fmax (MHz)", "MACs / s", "MACs / s per LUT4", "MACs / s per DSP",
                 "status"], rows),
    ]


def _action_rows(per_action: dict) -> list[list]:
    keys = list(per_action)
    table: dict[tuple, dict] = {}
    for k in keys:
        for a in per_action[k]:
            table.setdefault((a["component"], a["action"]), {})[k] = a
    rows = []
    for (comp, action), by in table.items():
        first = next(iter(by.values()))
        notes = {k: ": ".join(x for x in (", ".join(a["flags"]), a["note"]) if x)
                 for k, a in by.items()}
        how = (next(iter(notes.values())) if len(set(notes.values())) == 1 else
               "; ".join(f"{_label(k)}: {v}" for k, v in notes.items() if v))
        rows.append([comp, action, *[by[k]["pj"] if k in by else None for k in keys],
                     first["source"], how or "as cited"])
    return rows


def _activity(s: dict) -> list[tuple]:
    a = s["energy"].get("activity_check")
    head = d.h(3, "Activity-based cross-check")
    if a is None:
        return [head, d.p("Not run for this report: `ternhw report --activity` (or `ternhw "
                          "energy --activity`) runs MiniLM's first feed-forward block through "
                          "the RTL with every net's toggles counted and prices them from the "
                          "same tables, beside the event model per component.")]
    h = a["array_and_accumulators"]
    rows = [[r["component"], r["event_pj"] / 1e6, r["activity_pj"] / 1e6, r["ratio"],
             r["basis"], r["note"]] for r in a["components"]]
    verdict = "met" if h["met"] else "not met"
    return [
        head,
        d.p(f"{', '.join(a['layers'])} x {a['tokens']} tokens ({a['activations']}) on "
            f"{a['config']}: {a['commands']} commands, {a['cycles']:,} cycles, co-simulated "
            f"bit-exactly with a toggle counter on each bit of {a['nets']:,} nets. "
            + a["method"]),
        d.p(f"MAC array and accumulators ({', '.join(h['components'])}): event model "
            f"{h['event_pj'] / 1e6:.4f} µJ, toggles {h['activity_pj'] / 1e6:.4f} µJ, ratio "
            f"{h['ratio']:.3f} (goal {h['goal']}: {verdict})."),
        d.table(["component", "event model µJ", "toggles µJ", "ratio", "basis",
                 "what each method counts"], rows),
    ]


def _energy(s: dict) -> list[tuple]:
    e = s["energy"]
    tech = e["technology"]
    keys = _designs(s)
    main = s["main_workload"]
    w = e["workloads"][main]
    tokens = s["throughput"]["workloads"][main]["tokens"]
    hdr = ["group", "component"]
    for k in keys:
        if k in w:
            hdr += [f"{_label(k)} pJ / MAC", f"{_label(k)} µJ / token"]
    rows = []
    for g in GROUPS:
        comps = [c for c, grp in COMPONENT_GROUPS.items() if grp == g]
        if g == "other":
            comps = [c for c in w["ternary"]["components_pj"] if c not in COMPONENT_GROUPS]
        if not comps:
            continue
        for c in comps:
            row = [g, c]
            for k in keys:
                if k in w:
                    pj = w[k]["components_pj"].get(c, 0.0)
                    row += [pj / w[k]["macs"], pj / tokens / 1e6]
            rows.append(row)
        row = [g, "(group total)"]
        for k in keys:
            if k in w:
                pj = w[k]["groups_pj"].get(g, 0.0)
                row += [pj / w[k]["macs"], pj / tokens / 1e6]
        rows.append(row)
    total = ["all", "(total)"]
    for k in keys:
        if k in w:
            total += [w[k]["per_mac_pj"], w[k]["per_token_uj"]]
    rows.append(total)
    grow = []
    for name, ws in e["workloads"].items():
        for k, ed in ws.items():
            grow.append([name, _label(k), ed["per_token_uj"], ed["per_mac_pj"],
                         *[ed["groups_pj"].get(g, 0.0) / ed["macs"] for g in GROUPS[:-1]]])
    sens = e["sensitivity"]
    srows = [[t, *[v.get(k) for k in keys]] for t, v in sens["dram_uj_per_token"].items()]
    brows = [[_label(k), r["depth"], r["kb"], r.get("uj_per_token"),
              r.get("weight_reload_factor"), r.get("act_reload_factor"), r.get("note", "")]
             for k, rs in sens["weight_buffer"].items() for r in rs]
    node = (f"scaled from the 45 nm tables by {tech['node_scaling']}"
            if tech["node_scaling"] else "the node of the cited tables")
    out = [
        d.h(2, "Energy"),
        d.p(f"Energy = Σ over every action of every component of the generated hardware of "
            f"(count × energy per action) (ternhw.energy). Logic at {tech['logic_node_nm']:g} "
            f"nm, {tech['vdd']:g} V ({node}): {'; '.join(tech['logic_tables'])}. On-chip "
            f"SRAM per word at its real width and depth: {tech['sram']}. Off-chip memory "
            f"{tech['dram']['technology']} ({tech['dram']['channel']}): "
            f"{tech['dram']['pj_per_bit']:g} pJ/bit, {tech['dram']['source']}."),
        d.p(f"Event counts of {main} (lanes switched or gated, adds, overflow events, "
            f"requantized outputs): {'; '.join(w['ternary'].get('events', [])) or 'n/a'}. "
            + e.get("out_of_scope", "")),
        d.p(f"Per component on {main} ({tokens} tokens per inference); memory is split into "
            "off-chip and on-chip, compute into lanes (with the weight decoder), adder trees, "
            "accumulators (with the bias banks), requantizer (with the output path), control, "
            "clock tree and leakage."),
        d.table(hdr, rows),
        d.table(["workload", "design", "µJ / token", "pJ / MAC",
                 *[f"{g} pJ / MAC" for g in GROUPS[:-1]]], grow),
        d.image("energy_breakdown.png", "energy per token by group, each design and workload"),
        *[d.image(f"energy_{k}.png", f"{_label(k)}: pJ per MAC by group") for k in keys
          if f"energy_{k}.png" in s.get("figures", [])],
        d.h(3, "Energy per action"),
        d.p("Every action's energy, the source it comes from and how it was obtained "
            "(interpolated / extrapolated / node-scaled values and stated assumptions say so; "
            "an action priced at 0 says why)."),
        d.table(["component", "action", *[f"{_label(k)} pJ" for k in keys], "source",
                 "how obtained"], _action_rows(e["per_action"])),
        d.h(3, "Sensitivity"),
        d.p(f"Energy per token of {sens['workload']}: {sens['note']}."),
        d.table(["off-chip technology", *[f"{_label(k)} µJ / token" for k in keys]], srows),
        d.table(["design", "weight buffer (words)", "weight buffer (KB)", "µJ / token",
                 "weight reload factor", "activation reload factor", "note"], brows),
        d.image("sensitivity.png", "energy per token vs off-chip technology and weight buffer"),
    ]
    return out


def _policy(la: dict) -> str:
    """A layer's schedule in words: its policy, and its blocks when n-blocked."""
    policy = la["schedule_policy"]
    return f"{policy}, {la['blocks']} blocks" if la["blocks"] > 1 else policy


def _memory(s: dict) -> list[tuple]:
    m = s["memory"]
    keys = _designs(s)
    traffic_rows = []
    for name, by in m["traffic"].items():
        for k, t in by.items():
            traffic_rows.append([name, _label(k), t["weight_bytes"], t["ideal_weight_bytes"],
                                 t["weight_reload_factor"], t["act_bytes"], t["ideal_act_bytes"],
                                 t["bias_bytes"], t["ideal_bias_bytes"], t["out_bytes"],
                                 t["offchip_bytes"], t["ideal_offchip_bytes"],
                                 t["offchip_over_ideal"], t["weight_buffer_read_bytes"],
                                 t["act_buffer_read_bytes"]])
    main = s["main_workload"]
    lay = s["throughput"]["workloads"][main]["layers"]
    i8 = {la["name"]: la for la in lay["int8"]}
    layer_rows = [[la["name"], f"{la['m']}x{la['k']}x{la['n']}", la["commands"],
                   _policy(la), la["resident_depth_needed"], la["weight_bytes"],
                   la["ideal_weight_bytes"], la["weight_reload_factor"], la["act_bytes"],
                   la["ideal_act_bytes"], la["act_reload_factor"], la["out_bytes"],
                   la["offchip_bytes"], la["ideal_offchip_bytes"],
                   i8[la["name"]]["offchip_bytes"], i8[la["name"]]["ideal_offchip_bytes"]]
                  for la in lay["ternary"]]
    on = m["on_chip_bytes"]
    return [
        d.h(2, "Memory and off-chip traffic"),
        d.table(["weight format", "bytes", "bits / weight"],
                [[f, m["bytes"][f], m["bits_per_weight"][f]] for f in m["bytes"]]),
        d.p(f"{m['weights']:,} weights in {m['matrices']} matrices of {s['weights']} (every "
            f"linear matrix of the file); the workload {main} uses {m['workload_matrices']} of "
            f"them, {m['workload_weights']:,} weights (see the per-layer table). The "
            f"information limit is log2(3) = {m['log2_3_limit']:.3f} bits per trit."),
        d.table(["design", "weight buffer (B)", "activation buffer (B)", "on-chip total (KB)"],
                [[_label(k), on[k]["weight_buffer"], on[k]["activation_buffer"],
                  on[k]["total"] / 1024] for k in keys]),
        d.p(f"Per inference, {m['traffic_note']}. Reload factor = bytes moved / ideal."),
        d.table(["workload", "design", "weights (B)", "weights ideal (B)", "weight reload",
                 "activations in (B)", "activations ideal (B)", "bias (B)", "bias ideal (B)",
                 "outputs out (B)", "off-chip total (B)", "off-chip ideal (B)",
                 "total / ideal", "on-chip weight-buffer reads (B)",
                 "on-chip activation-buffer reads (B)"], traffic_rows),
        d.h(3, f"Per layer: {main}"),
        d.p("Schedule (ternhw.model.schedule): resident = the whole matrix loaded once and "
            "kept for all the layer's commands; n-blocked = the matrix does not fit the weight "
            "buffer, so its output columns run in blocks that do, each loaded once and kept "
            "for all the tokens' commands: weights are read once, the activations once per "
            "block (the activation reload); streamed = every command streams the whole matrix "
            "again (a single command, or cheaper than re-reading the activations). 'resident "
            "at' is the weight-buffer depth (words) that would keep the whole matrix resident."),
        d.table(["layer", "M x K x N", "commands", "schedule", "resident at (words)",
                 "ternary weights (B)", "ideal (B)", "weight reload", "activations (B)",
                 "ideal (B)", "activation reload", "outputs (B)", "ternary off-chip (B)",
                 "ideal (B)", "int8 off-chip (B)", "int8 ideal (B)"], layer_rows),
    ]


def _throughput(s: dict) -> list[tuple]:
    thr = s["throughput"]
    keys = _designs(s)
    rows = []
    for name, w in thr["workloads"].items():
        for k in keys:
            if k not in w:
                rows.append([name, w["real_weights"], _label(k), None, None, None, None, None,
                             None, w["not_modeled"].get(k, "not modeled")])
                continue
            r = w[k]
            rows.append([name, w["real_weights"], _label(k), r["clock_mhz"], r["cycles"],
                         1e3 * r["time_s"], r["tokens_per_s"], r["tokens_per_s_roofline"],
                         r["utilization"], ""])
    return [
        d.h(2, "Throughput"),
        d.p(f"Each design at its own clock (Designs compared). Off-chip bandwidth "
            f"{thr['dram_bandwidth_gbs']:g} GB/s for the roofline. {thr['projection_note']}."),
        d.table(["workload", "real weights", "design", "clock (MHz)", "cycles", "ms",
                 "tokens / s", "tokens / s (bandwidth roofline)", "array utilization",
                 "note"], rows),
        *[d.p(f"Not modeled: {k}: {v}") for k, v in thr.get("skipped_workloads", {}).items()],
        d.image("roofline.png", "roofline of the ternary design, one point per layer"),
    ]


def _synth_note(r: dict) -> str:
    if "missing" in r:
        return f"no result: {r['missing']}"
    if "error" in r:
        return f"failed: {r['error']}"
    parts = ["cached" if r.get("cached") else "run now"]
    if r.get("placed"):
        parts.append(f"placed, goal {r.get('clock_goal_mhz', '?')} MHz")
    parts += r.get("notes") or []
    return "; ".join(parts)


def _area(s: dict) -> list[tuple]:
    rows = []
    for k in _designs(s):
        for target, r in s["area"][k].items():
            rows.append([_label(k), s["designs"][k]["name"],
                         SYNTH_TARGET_LABELS.get(target, target),
                         *[r.get(x) for x in SYNTH_LABELS], _synth_note(r)])
    return [
        d.h(2, "Area (synthesis)"),
        d.table(["design", "config", "target", *SYNTH_LABELS.values(), "status and notes"],
                rows),
        d.p("ECP5 results are placed and routed out of context (the accelerator has more "
            "ports than any package has pins); iCE40 synthesizes the core inside a five-pin "
            "serial wrapper. LUT counts use Yosys's own techmapping (no ABC9), so they are "
            "upper bounds and Fmax lower bounds."),
        d.image("area_breakdown.png", "generic gates by component"),
    ]


def _methods_text(methods: dict[str, int]) -> str:
    """``{"distilled-absmean": 36, "absmean": 1}`` -> "Distilled-absmean ternary weights (36
    matrices) and absmean per-tensor ternarization (1 matrix)"."""
    def one(name, n):
        what = ("absmean per-tensor ternarization" if name == "absmean"
                else f"{name} ternary weights")
        return f"{what} ({n} {'matrix' if n == 1 else 'matrices'})"
    text = " and ".join(one(k, v) for k, v in sorted(methods.items(), key=lambda kv: -kv[1]))
    return text[:1].upper() + text[1:]


def _weights(s: dict) -> list[tuple]:
    m = s["memory"]
    lo, hi = m["zero_fraction_range"] or (0, 0)
    return [
        d.h(2, "Weights: zeros per layer"),
        d.p(f"{_methods_text(m['methods'])} leave {100 * m['zero_fraction']:.1f}% of the "
            f"{m['weights']:,} weights at zero ({100 * lo:.1f}-{100 * hi:.1f}% per matrix, "
            f"{m['matrices']} matrices). Boundary mass and error are measured against the float "
            "weights where ternhw ternarizes them, against the tensor's own scales (0 error) "
            "where the model comes ternary."),
        d.image("layer_sparsity.png", "zero fraction and boundary mass per layer"),
        d.table(["layer", "shape", "zeros", "boundary mass", "rel. error"],
                [[la["name"], "x".join(map(str, la["shape"])), la["zero_fraction"],
                  la["boundary_mass"], la["rel_error"]] for la in s["layers"]]),
    ]
