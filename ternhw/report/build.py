"""``ternhw report``: energy, area, memory and throughput of a ternary accelerator on real
weights, side by side with an int8 design generated, synthesized and modeled by the same flow.

The designs compared (:func:`report_designs`):

* ``ternary``: the config under study;
* ``int8``: the baseline, named with ``--baseline`` or derived from the ternary config
  (:func:`derive_baseline`: the same array, buffers and clock with int8 multipliers);
* ``int8_placed``: the shipped ``int8-dsp`` config, the int8 design that places on an ECP5 85F
  (its multipliers in 128 of the part's 156 DSPs), unless the baseline already is that design.

Each design runs at its own clock (:func:`design_clock`): its placed ECP5 Fmax from a cached
nextpnr run, or else the config's ``clock_mhz``, and the report says which and why. Energy is
``ternhw.energy.price_gemm`` per layer (every action of every component, with its source);
traffic is the schedule's (``ternhw.model.schedule``), beside the ideal of each byte moved once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import AcceleratorConfig, load_config, shipped_config_names
from ..energy import Technology, price_gemm, technology_of
from ..energy.tech import dram_table
from ..errors import ConfigError, TernhwError
from ..fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from ..formats.model_io import LoadedModel
from ..model.schedule import GemmSchedule, resident_depth_needed
from ..quant.pipeline import QuantizedModel, quantize_model
from ..workload import unpriced_work
from . import document as d
from .workloads import Layer, Workload, bitnet_layers, layer_schedule, measured_events

LOG2_3 = math.log2(3)
SYNTH_TARGETS = ("generic", "ice40", "ecp5", "ecp5-nodsp")
#: The shipped int8 design that places on the ECP5 85F.
PLACED_INT8 = "int8-dsp"
#: Config fields that change the generated RTL (and so the synthesis cache key).
HARDWARE_FIELDS = ("rows", "cols", "act_bits", "acc_bits", "overflow", "weight_format",
                   "weight_bits", "weight_buffer_depth", "act_buffer_depth", "requant_lanes")
#: Config fields of the technology the energy and roofline figures assume; every design of a
#: report shares the ternary config's.
TECH_FIELDS = ("dram_technology", "dram_bandwidth_gbs", "logic_node_nm", "vdd")
#: ``ternhw report`` options -> config fields.
OVERRIDE_OPTIONS = {"clock_mhz": "--clock-mhz", "dram_technology": "--dram",
                    "dram_bandwidth_gbs": "--dram-bandwidth-gbs", "logic_node_nm": "--node-nm"}
DESIGN_LABELS = {"ternary": "ternary", "int8": "int8 baseline",
                 "int8_placed": "int8 DSP-sized"}


# ---- designs -----------------------------------------------------------------------------
def apply_overrides(cfg: AcceleratorConfig, overrides: dict, where: str) -> AcceleratorConfig:
    """``cfg`` with the report's command-line overrides (``None`` values are left alone). A
    new ``dram_technology`` without a bandwidth takes that channel's peak bandwidth."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    tech = changes.get("dram_technology")
    if tech is not None and "dram_bandwidth_gbs" not in changes and tech in dram_table():
        changes["dram_bandwidth_gbs"] = float(dram_table()[tech]["bandwidth_gbs"])
    for k, v in changes.items():
        try:
            cfg = cfg.replace(**{k: v})
        except ConfigError as e:
            raise ConfigError(f"{OVERRIDE_OPTIONS.get(k, k)} {v!r} for {where} {cfg.name!r}: "
                              f"{e}") from None
    return cfg


def hardware_of(cfg: AcceleratorConfig) -> tuple:
    return tuple(getattr(cfg, f) for f in HARDWARE_FIELDS)


def derive_baseline(cfg: AcceleratorConfig) -> tuple[AcceleratorConfig, str]:
    """The int8 twin of a ternary config and a sentence saying how it was derived: the same
    rows x cols, buffer depths (in words, so the same matrices stay resident), requantizers,
    clock and technology, with int8 weights and ``acc_bits + 8`` (at most 32) accumulator bits
    (an int8 product is 7 bits wider than a ternary one). When a shipped config has exactly
    that hardware it is used by name, so its cached synthesis results apply."""
    if not cfg.is_ternary:
        raise TernhwError(f"report compares a ternary config (--config) with an int8 baseline; "
                          f"{cfg.name!r} is already int8")
    acc = min(32, cfg.acc_bits + 8)
    twin = cfg.replace(name=f"{cfg.name}-int8", weight_bits=8, weight_format="int8",
                       acc_bits=acc)
    shipped = next((n for n in shipped_config_names()
                    if hardware_of(load_config(n)) == hardware_of(twin)), None)
    if shipped:
        twin = twin.replace(name=shipped)
    why = (f"derived from {cfg.name}: the same {cfg.rows}x{cfg.cols} array, buffer depths "
           f"({cfg.weight_buffer_depth} weight words, {cfg.act_buffer_depth} activation "
           f"words), requantizers and clock goal, with int8 weights and multipliers and "
           f"{acc}-bit accumulators (ternary {cfg.acc_bits} + 8, at most 32)")
    if shipped:
        why += f"; this is the hardware of the shipped config {shipped!r}"
    return twin, why


def report_designs(cfg: AcceleratorConfig, base: AcceleratorConfig,
                   placed_int8: AcceleratorConfig | None) -> dict[str, AcceleratorConfig]:
    """The designs of a report by key, every one with the ternary config's technology."""
    tech = {f: getattr(cfg, f) for f in TECH_FIELDS}
    out = {"ternary": cfg, "int8": base.replace(**tech)}
    if placed_int8 is not None and hardware_of(placed_int8) != hardware_of(base):
        out["int8_placed"] = placed_int8.replace(**tech)
    return out


# ---- workloads ---------------------------------------------------------------------------
def real_workload(cfg: AcceleratorConfig, model: LoadedModel, q: QuantizedModel,
                  seq_len: int, *, batch: int = 1) -> tuple[str, list[Layer], int]:
    """``(name, layers, tokens per inference)`` of one inference on the real weights: the
    model's workload from ``ternhw.workload`` (one definition with the sweep and the
    co-simulation). The layers give each config its own view of their weights, so one list
    serves every design of a report."""
    from ..workload import real_workload as build

    return build(cfg, model, q, seq_len, batch=batch)


def layer_traffic(plan: GemmSchedule, count: int = 1) -> dict[str, float]:
    """Off-chip bytes of ``count`` instances of a GEMM as the schedule moves them, beside the
    ideal of each stream byte moved once (whole stream words, padding included)."""
    ncmd = max(len(plan.commands), 1)
    t = {"weight_bytes": plan.weight_bytes, "ideal_weight_bytes": plan.unique_weight_bytes,
         "act_bytes": plan.act_bytes, "ideal_act_bytes": plan.unique_act_bytes,
         "bias_bytes": plan.bias_bytes, "ideal_bias_bytes": plan.bias_bytes // ncmd,
         "out_bytes": plan.out_bytes, "ideal_out_bytes": plan.out_bytes}
    t = {k: v * count for k, v in t.items()}
    t["offchip_bytes"] = t["weight_bytes"] + t["act_bytes"] + t["bias_bytes"] + t["out_bytes"]
    t["ideal_offchip_bytes"] = (t["ideal_weight_bytes"] + t["ideal_act_bytes"]
                                + t["ideal_bias_bytes"] + t["ideal_out_bytes"])
    return t


def _bytes(bits: int) -> int | float:
    return bits // 8 if bits % 8 == 0 else bits / 8


def _reload(t: dict) -> dict[str, float | None]:
    def r(a, b):
        return a / b if b else None
    return {"weight_reload_factor": r(t["weight_bytes"], t["ideal_weight_bytes"]),
            "act_reload_factor": r(t["act_bytes"], t["ideal_act_bytes"]),
            "offchip_over_ideal": r(t["offchip_bytes"], t["ideal_offchip_bytes"])}


def analyse(cfg: AcceleratorConfig, layers: list[Layer],
            tech: Technology | None = None,
            fmax_mhz: float | None = None) -> dict:
    """Cycles, events, energy, off-chip traffic and roofline points of one workload on one
    design at ``fmax_mhz`` (default ``cfg.clock_mhz``).

    ``tech`` is the :class:`~ternhw.energy.Technology` energies are priced in (default: the
    config's)."""
    if tech is None:
        tech = technology_of(cfg)
    clock = fmax_mhz or cfg.clock_mhz
    hz = clock * 1e6
    total_cycles = 0
    energy = None
    traffic: dict[str, float] = {}
    onchip = {"weight_buffer_read_bytes": 0, "act_buffer_read_bytes": 0}
    per_layer = []
    for layer in layers:
        plan = layer_schedule(cfg, layer)
        cyc = layer.count * plan.total_cycles
        ev, events_basis = measured_events(cfg, layer, plan)
        e = price_gemm(cfg, ev, plan, macs=layer.macs, count=layer.count, tech=tech,
                       clock_mhz=clock)
        t = layer_traffic(plan, layer.count)
        dram_bytes = t["offchip_bytes"]
        wr, ar = _bytes(ev.weight_bits_read), _bytes(ev.act_bits_read)
        onchip["weight_buffer_read_bytes"] += wr
        onchip["act_buffer_read_bytes"] += ar
        per_layer.append({
            "name": layer.name, "m": layer.m, "k": layer.k, "n": layer.n, "count": layer.count,
            "real_weights": layer.real, "cycles": cyc, "macs": layer.macs,
            "utilization": layer.macs / (cyc * cfg.lanes), "energy_pj": e.total,
            "dram_bytes": dram_bytes, "intensity": 2 * layer.macs / dram_bytes,
            "achieved_ops": 2 * layer.macs / (cyc / hz),
            "commands": len(plan.commands), "events": events_basis,
            "schedule_policy": plan.policy, "blocks": plan.blocks,
            "weights_resident": plan.policy == "resident",
            "resident_depth_needed": resident_depth_needed(cfg, layer.k, layer.n),
            **t, **_reload(t),
            "weight_buffer_read_bytes": wr, "act_buffer_read_bytes": ar,
        })
        total_cycles += cyc
        energy = e if energy is None else energy + e
        for k, v in t.items():
            traffic[k] = traffic.get(k, 0) + v
    if energy is None:
        raise TernhwError("the workload has no layers")
    dram = sum(la["dram_bytes"] for la in per_layer)
    time_s = total_cycles / hz
    bw = cfg.dram_bandwidth_gbs * 1e9
    return {"clock_mhz": clock, "cycles": total_cycles, "time_s": time_s,
            "roofline_time_s": max(time_s, dram / bw),
            "macs": energy.macs, "utilization": energy.macs / (total_cycles * cfg.lanes),
            "dram_bytes": dram, "traffic": {**traffic, **_reload(traffic), **onchip},
            "energy": {**energy.to_dict(),
                       "events": sorted({la["events"] for la in per_layer})},
            "weight_reload_factor": traffic["weight_bytes"] / traffic["ideal_weight_bytes"],
            "act_reload_factor": traffic["act_bytes"] / traffic["ideal_act_bytes"],
            "layers": per_layer}


# ---- synthesis and clocks ----------------------------------------------------------------
def _missing(cfg: AcceleratorConfig, target: str, clock: float) -> str:
    goal = f" at a {clock:g} MHz goal" if target != "generic" else ""
    return (f"no cached result for this RTL{goal} with the installed tool versions: run "
            f"`ternhw synth --config {cfg.name} --target {target}` (minutes to hours in "
            "WebAssembly), or the report with --synth run")


def synth_results(cfg: AcceleratorConfig, mode: str, log,
                  targets: tuple[str, ...] = SYNTH_TARGETS) -> dict[str, dict]:
    """Synthesis per target. ``mode``: ``skip`` (nothing looked up), ``auto`` (cached results,
    and the generic flow run when not cached: about a minute), ``run`` (every flow run when
    not cached). A target without a result gets ``{"missing": why}``; a flow that failed
    ``{"error": why}``. ``ecp5-nodsp`` is left out for designs without multipliers (it is
    the ``ecp5`` flow for them)."""
    from ..synth import cached_result, design_verilog, synthesize

    out: dict[str, dict] = {}
    verilog: dict[bool, tuple[str, str]] = {}
    for target in targets:
        if target == "ecp5-nodsp" and cfg.is_ternary:
            continue
        if mode == "skip":
            out[target] = {"missing": "synthesis skipped (--synth skip)"}
            continue
        try:
            wrapped = target == "ice40"
            if wrapped not in verilog:
                verilog[wrapped] = design_verilog(cfg, target)
            v = verilog[wrapped]
            if target == "generic" or mode == "run":
                r = synthesize(cfg, target, verilog=v, log=log)
            else:   # a placed result, else a synthesis-only one
                r = (cached_result(v[1], target, cfg.clock_mhz)
                     or cached_result(v[1], target, cfg.clock_mhz, place_route=False))
        except TernhwError as e:
            r = {"error": str(e)}
        if r is None:
            r = {"missing": _missing(cfg, target, cfg.clock_mhz)}
        out[target] = {k: v for k, v in r.items() if k != "cell_types"}
    return out


def no_fmax_reason(r: dict | None) -> str:
    """Why a design has no placed ECP5 Fmax, from its ``ecp5`` synthesis entry."""
    if not r:
        return "no ECP5 result"
    if "missing" in r or "error" in r:
        return r.get("missing") or r["error"]
    notes = "; ".join(r.get("notes") or [])
    if r.get("fits") is False:
        return notes or "does not fit the part"
    if not r.get("placed"):
        return ("synthesis-only result, not placed and routed"
                + (f" ({notes})" if notes else "") + (" (cached)" if r.get("cached") else ""))
    return notes or "nextpnr reported no Fmax"


def design_clock(cfg: AcceleratorConfig, synth: dict) -> dict:
    """The clock a design runs at in the report: its placed ECP5 Fmax (cached nextpnr run),
    else the config's ``clock_mhz``, with the reason either way."""
    r = synth.get("ecp5")
    if r and r.get("placed") and r.get("fmax_mhz"):
        goal = r.get("clock_goal_mhz", cfg.clock_mhz)
        return {"mhz": r["fmax_mhz"], "placed": True,
                "source": f"placed Fmax on the ECP5 85F (nextpnr out of context, goal "
                          f"{goal:g} MHz{', cached result' if r.get('cached') else ''})"}
    why = no_fmax_reason(r)
    return {"mhz": cfg.clock_mhz, "placed": False, "no_fmax": why,
            "source": f"the config's clock_mhz (no placed Fmax: {why})"}


# ---- the report --------------------------------------------------------------------------
def build_report(cfg: AcceleratorConfig, base: AcceleratorConfig, model: LoadedModel,
                 outdir: str | Path, *, seq_len: int = 128, synth_mode: str = "auto",
                 baseline_reason: str | None = None,
                 placed_int8: AcceleratorConfig | str | None = PLACED_INT8,
                 log: Callable[[str], None] = print, batch: int = 1,
                 workloads: Sequence[Workload] = (), activity: bool = False) -> dict:
    """Write ``report.html``, ``report.md``, ``summary.json`` and the PNGs into ``outdir``;
    returns the summary. ``placed_int8`` is the int8 design that places (a config or a
    shipped name; None: none); ``baseline_reason`` says how ``base`` was chosen. ``batch``
    sequences (digits: images) make one inference of the model's workload; ``workloads`` are
    the user's own (``--workload``), reported beside it: a layer of theirs that the config
    cannot take is an error naming it, not a skipped workload. ``activity`` adds the
    activity-based cross-check (:mod:`ternhw.energy.activity_check`: the RTL's toggles on
    the workload's first layers, beside the event model; a Verilator build of minutes the
    first time)."""
    from . import sections, summary

    if not cfg.is_ternary or base.is_ternary:
        raise TernhwError("report compares a ternary config (--config) with an int8 baseline "
                          f"(--baseline); got {cfg.name!r} and {base.name!r}")
    if synth_mode not in ("auto", "run", "skip"):
        raise TernhwError(f"synth mode must be auto, run or skip, not {synth_mode!r}")
    outdir = Path(outdir)
    placed = load_config(placed_int8) if isinstance(placed_int8, str) else placed_int8
    designs = report_designs(cfg, base, placed)
    tech = technology_of(cfg)
    log("quantizing the weights (absmean, per tensor, where the model is not ternary)...")
    q = quantize_model(model)
    qdoc = q.summary()
    log("synthesizing (cached by RTL hash)...")
    synth = {}
    for key, c in designs.items():
        # the DSP-sized int8 design is here for its placed ECP5 result only
        targets = SYNTH_TARGETS if key != "int8_placed" else ("ecp5",)
        synth[key] = synth_results(c, synth_mode, log, targets)
    clocks = {key: design_clock(c, synth[key]) for key, c in designs.items()}

    log("modeling cycles, events and energy...")
    zf = qdoc["zero_fraction"]
    # one list of layers per workload, shared by every design (each takes its own view of
    # the weights), the sensitivity study and, through ternhw.workload, the co-simulation
    wname, main_layers, tokens = real_workload(cfg, model, q, seq_len, batch=batch)
    decode, prefill = bitnet_layers(cfg, 1, zf), bitnet_layers(cfg, 128, zf)
    # name: (layers for a design, tokens, real weights, required: an error if it does not fit)
    runs = {
        wname: (lambda c: main_layers, tokens, True, True),
        "BitNet 2B decode (1 token, projected)": (lambda c: decode, 1, False, False),
        "BitNet 2B prefill (128 tokens, projected)": (lambda c: prefill, 128, False, False),
    }
    for w in workloads:
        if w.name in runs:
            raise TernhwError(f"--workload {w.source}: a second workload named {w.name!r}")
        runs[w.name] = ((lambda c, w=w: w.layers), w.tokens, w.real, True)
    results: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for name, (make, ntok, real, required) in runs.items():
        entry = {"tokens": ntok, "real_weights": real}
        try:
            for key, c in designs.items():
                try:
                    a = analyse(c, make(c), tech, clocks[key]["mhz"])
                except TernhwError as e:
                    if key != "int8_placed":
                        raise
                    entry.setdefault("not_modeled", {})[key] = f"does not fit {c.name!r}: {e}"
                    continue
                a["tokens_per_s"] = ntok / a["time_s"]
                a["tokens_per_s_roofline"] = ntok / a["roofline_time_s"]
                a["energy"]["per_token_uj"] = a["energy"]["total_pj"] / ntok / 1e6
                entry[key] = a
        except TernhwError as e:
            if required:
                raise
            skipped[name] = f"does not fit {c.name!r}: {e}"
            log(f"skipping {name}: {skipped[name]}")
            continue
        results[name] = entry

    log("energy sensitivity to the off-chip technology and the weight buffer...")
    sens = summary.sensitivity(designs, results[wname], wname,
                               lambda c: main_layers, tokens, clocks,
                               tech)
    s = summary.assemble(designs, model, qdoc, tech, synth, clocks, results, wname, zf,
                         baseline_reason, sens)
    s["throughput"]["skipped_workloads"] = skipped
    s["energy"]["out_of_scope"] = unpriced_work(model, seq_len, batch)
    if activity:
        from ..energy.activity_check import (
            DEFAULT_TOKENS,
            activity_cross_check,
            default_layers,
        )

        chosen = default_layers(main_layers)
        log(f"activity cross-check: {', '.join(lay.label for lay in chosen)} x "
            f"{DEFAULT_TOKENS} tokens through the toggle-counting RTL (the first build of a "
            "design takes minutes)...")
        s["energy"]["activity_check"] = activity_cross_check(
            cfg, chosen, DEFAULT_TOKENS, tech=tech, clock_mhz=clocks["ternary"]["mhz"])
    log("drawing and writing the report...")
    pngs = sections.figures(s, results, qdoc)
    s["figures"] = sorted(pngs)
    blocks = sections.document_blocks(s, results)
    for fname, data in pngs.items():
        atomic_write_bytes(outdir / fname, data)
    atomic_write_json(outdir / "summary.json", s)
    atomic_write_text(outdir / "report.md", d.to_markdown(blocks))
    atomic_write_text(outdir / "report.html",
                      d.to_html(blocks, pngs, f"ternhw report: {cfg.name} on {model.source}"))
    return s


def opening_lines(s: dict) -> list[str]:
    """The report's answer in a few plain lines (what the CLI prints)."""
    from .summary import opening_lines as lines

    return lines(s)
