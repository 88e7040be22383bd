"""The activity-based cross-check: dynamic energy from the RTL's own signal toggles, beside the
event model, component by component (issue 11, item 5).

The event model (:mod:`ternhw.energy.account`) multiplies action counts by per-action energies
that are averages over random operands. Here the generated Verilog runs the same real
workload in the bulk harness with a toggle counter on every bit of every net
(:mod:`ternhw.cosim.toggles`), each net is sorted by what drives it, and each toggle is priced
from the *same* technology table:

* an adder / subtractor output bit: ``2 x add(w) / w``: the table's add energy is an average
  over random operands, under which each of the ``w`` sum bits toggles with probability 1/2
  (assumption), so one observed toggle costs twice the per-bit share;
* a flip-flop bit: ``2 x register_bit`` (the same 1/2 rule for the table's write energy);
* a multiplexer output bit: ``mux_bit`` (two gate toggles); any other gate output: ``gate``
  (the table's energy of one two-input gate toggle);
* renames, slices, sign extensions, inputs and merged duplicate expressions: nothing (their
  driver is counted once, where it is).

What toggles cannot see is taken from the event model with the same counts and said so: SRAM
arrays (CACTI energy per access, not per data toggle), DRAM, the clock tree (every flip-flop
every cycle, the RTL's cycles being the model's), leakage. Verilator evaluates without delays,
so glitches are not counted (real adder trees glitch); only the output of each operator is
observed, so a comparator's internal XORs are not.

``compare`` puts both per component, with the ratio, and the headline figure: the MAC array
plus accumulators (lanes, adder trees, array pipeline registers, accumulators), goal within
15 %.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..config import AcceleratorConfig
from ..cosim.toggles import KINDS, Net, classify_nets, read_toggles
from ..errors import TernhwError
from .account import Breakdown
from .components import OUT_REGISTERS, SUBMODULES, TOP_REGISTERS, _by_prefix
from .tech import Cost, Technology

#: The layers the cross-check runs by default: MiniLM's first feed-forward block.
DEFAULT_LAYERS = ("encoder.layer.0.intermediate.dense.weight",
                  "encoder.layer.0.output.dense.weight")
#: Tokens it runs by default.
DEFAULT_TOKENS = 16
#: Components the headline agreement is measured on.
ARRAY_AND_ACCUMULATORS = ("lanes", "adder trees", "array pipeline registers", "accumulators")
#: Goal of issue 11: activity within 15 % of the event model on those.
GOAL = 0.15
#: Components whose energy is not the switching of logic nets, with why.
NOT_TOGGLES = {
    "activation buffer": "SRAM array: CACTI energy per access, not per data toggle (event "
                         "model, same access count)",
    "weight buffer": "SRAM array: CACTI energy per access, not per data toggle (event model, "
                     "same access count)",
    "DRAM": "off-chip: pJ per bit moved (event model, same bits)",
    "clock tree": "every flip-flop every cycle (event model; the RTL's cycles are the model's)",
    "leakage": "static power x busy time (event model)",
    "stream I/O": "no logic of its own (event model: zero, with its reason)",
}


#: How toggles become energy, in the words the report prints.
METHOD = (
    "Each net is sorted by its driver in the Verilog and each of its bit toggles priced from "
    "the event model's own table: an adder or subtractor output bit 2 x add(w) / w (the "
    "table's add energy is an average over random operands, under which 1/2 of the sum bits "
    "toggle: assumption), a flip-flop bit 2 x the register write energy per bit (the same "
    "1/2 rule), a multiplexer output bit one mux bit, any other gate output one gate toggle; "
    "renames, slices and inputs cost nothing, and an expression computed twice from the same "
    "signals anywhere in the flattened design is counted once (synthesis merges them). "
    "Verilator evaluates without delays, so glitches are not counted, and only each "
    "operator's output is observed. SRAM arrays, DRAM, the clock tree and leakage are not "
    "toggles: those rows repeat the event model's figure (the RTL's access counts and cycles "
    "equal the model's, as the co-simulation checks).")
#: What each method counts for a toggle-priced component: where the two differ, this is why.
METHODS = {
    "weight decoder": "events: a stated number of gate toggles per word read (by weight "
                      "format); toggles: the decode outputs that change from one word to the "
                      "next",
    "weight code check": "events: a stated number of gate toggles per word written; "
                         "toggles: the field tests and OR stages that change (nearly none "
                         "while every code is valid)",
    "lanes": "events: an inversion for every -1 weight (its +1 in the group's count add) and a "
             "product mux for every non-zero weight, nothing for a zero weight; toggles: one "
             "inversion per column (the rows' identical inversions of a column's activation "
             "merge once synthesis flattens the design) and every product mux output that "
             "changes",
    "adder trees": "events: each level's adds x the fraction of lanes with a non-zero "
                   "product, 1/2 of the sum bits switching; toggles: every adder output bit "
                   "that changes, sign-extension bits flipping together when a sum changes sign",
    "array pipeline registers": "events: every bit written every step, 1/2 of them switching; "
                                "toggles: the bits that change, with their hold muxes",
    "accumulators": "events: every update a full-width add, a range test and clamp (an upper "
                    "bound) and a full-width write; toggles: only the bits that change",
    "bias banks": "events and toggles: bias words loaded and selected (none without a bias)",
    "output snapshot": "events: a full snapshot write per result word; toggles: changed bits",
    "requantizer": "events: every partial product switching (an upper bound); toggles: "
                   "measured, with the multiplier constant within a command",
    "output register": "events: both output registers fully written per word; toggles: "
                       "changed bits",
    "controller": "events: 1/4 of its flip-flops switching per cycle (assumption); toggles: "
                  "the counters' and state's actual changes, and their next-state logic",
    "unattributed": "toggles only: nets whose value reaches no register or submodule (e.g. "
                    "status outputs); the event model has no counterpart",
    "status counters": "events: two 48-bit increments per cycle and the zero-skip popcount "
                       "scaled by the gated fraction; toggles: the counters' carry chains and "
                       "the popcount tree switching whenever any lane's gate changes",
}


def toggle_costs(tech: Technology) -> dict[str, Callable[[int], Cost]]:
    """Energy of one toggle of one bit of a net of each kind, by the net's width."""
    reg = tech.register_bits(1).scaled(2, "2 x one flip-flop bit written (1/2 of the bits of "
                                          "a random write toggle: assumption)")
    mux, gate = tech.mux_bit(), tech.gate()
    free = Cost(0.0, "no logic of its own")
    return {
        "register": lambda w: reg,
        "arith": lambda w: tech.add(w).scaled(2 / w, f"2 x {w}-bit add / {w} (1/2 of the "
                                                     "sum bits of a random add toggle: "
                                                     "assumption)"),
        "mux": lambda w: mux,
        "logic": lambda w: gate,
        "wire": lambda w: free, "alias": lambda w: free, "memory": lambda w: free,
    }


def net_components(cfg: AcceleratorConfig, top: str) -> tuple:
    """The three attribution rules :func:`classify_nets` needs, for the design of ``cfg``
    (top module ``top``): nets of the lanes, the array, and each submodule by its instance;
    the top level's and the output stage's registers by the energy model's name rules."""
    flow_modules = {top, f"{top}.out"}

    def instance(module: str, inst: str) -> str:
        name = re.sub(r"\$\d+$", "", inst)
        return SUBMODULES.get(name, (name,))[0]

    def module(mod: str, net: str) -> str | None:
        if mod in flow_modules:
            return None
        if mod.startswith(f"{top}.array.lane_"):
            return "lanes"
        if mod == f"{top}.array":
            return "adder trees"
        return instance(top, mod.removeprefix(f"{top}.").split(".")[0])

    def register(mod: str, reg: str) -> str:
        return _by_prefix(reg, OUT_REGISTERS if mod == f"{top}.out" else TOP_REGISTERS)

    return register, instance, module


def price_toggles(nets: dict[tuple[str, str], Net], toggles: dict[tuple[str, str], int],
                  tech: Technology) -> dict[str, dict]:
    """``{component: {"pj", "toggles": {kind: n}}}`` over every counted net."""
    costs = toggle_costs(tech)
    out: dict[str, dict] = {}
    toggles = _memories_whole(nets, toggles)
    missing = [k for k in toggles if k not in nets]
    if len(missing) > 0.01 * max(len(toggles), 1):
        raise TernhwError(f"{len(missing)} of {len(toggles)} toggled nets are not in the "
                          f"Verilog (e.g. {missing[:3]}): the counts belong to another design")
    for key, n in toggles.items():
        net = nets.get(key)
        if net is None or not n:
            continue
        row = out.setdefault(net.component, {"pj": 0.0, "toggles": dict.fromkeys(KINDS, 0)})
        row["toggles"][net.kind] += n
        row["pj"] += n * costs[net.kind](net.width).pj
    return out


def _memories_whole(nets, toggles):
    """Verilator counts a memory's words (``act_buf[12]``) apart; add them to the memory."""
    out: dict[tuple[str, str], int] = {}
    for (mod, name), n in toggles.items():
        if (mod, name) not in nets:
            base = re.sub(r"\[\d+\]$", "", name)
            if nets.get((mod, base)) is not None and nets[(mod, base)].kind == "memory":
                name = base
        out[(mod, name)] = out.get((mod, name), 0) + n
    return out


def compare(event: Breakdown, activity: dict[str, dict]) -> dict:
    """Per component: the event model's pJ, the activity-based pJ (toggles, or the event
    model's own figure where toggles cannot see the energy, :data:`NOT_TOGGLES`), the ratio
    and the basis; plus the array-and-accumulators headline against :data:`GOAL`."""
    rows = []
    ev_comp = event.components
    for comp in [*ev_comp, *(c for c in activity if c not in ev_comp)]:
        e = ev_comp.get(comp, 0.0)
        a = activity.get(comp, {"pj": 0.0, "toggles": dict.fromkeys(KINDS, 0)})
        if comp in NOT_TOGGLES:
            act_pj, basis, note = e + a["pj"], "event model", NOT_TOGGLES[comp]
            if a["pj"]:
                note += f"; plus {a['pj']:.4g} pJ of toggles on its read-data latch"
        else:
            act_pj, basis, note = a["pj"], "toggles", METHODS.get(comp, "")
        rows.append({"component": comp, "event_pj": e, "activity_pj": act_pj,
                     "ratio": act_pj / e if e else None, "basis": basis,
                     "toggles": {k: v for k, v in a["toggles"].items() if v}, "note": note})
    by = {r["component"]: r for r in rows}
    e_arr = sum(by[c]["event_pj"] for c in ARRAY_AND_ACCUMULATORS if c in by)
    a_arr = sum(by[c]["activity_pj"] for c in ARRAY_AND_ACCUMULATORS if c in by)
    ratio = a_arr / e_arr if e_arr else None
    return {"components": rows,
            "array_and_accumulators": {
                "components": list(ARRAY_AND_ACCUMULATORS), "event_pj": e_arr,
                "activity_pj": a_arr, "ratio": ratio, "goal": f"within {GOAL:.0%}",
                "met": ratio is not None and abs(ratio - 1) <= GOAL},
            "event_total_pj": sum(r["event_pj"] for r in rows),
            "activity_total_pj": sum(r["activity_pj"] for r in rows)}


def default_layers(layers: list) -> list:
    """MiniLM's first feed-forward block when ``layers`` has it, else the first layer."""
    chosen = [lay for lay in layers if lay.label in DEFAULT_LAYERS]
    return chosen or layers[:1]


def price_layers(cfg: AcceleratorConfig, layers: list, tokens: int | None = None, *,
                 tech: Technology | None = None, clock_mhz: float | None = None
                 ) -> tuple[Breakdown, list[tuple]]:
    """The event model on ``tokens`` tokens of each of ``layers`` (their workload's real
    activations, or seeded ones where it has none), events from the golden model on them:
    ``(breakdown, [(layer, operands, schedule)])``."""
    from ..workload import layer_events, layer_schedule
    from .account import price_gemm

    total, runs = Breakdown.empty(), []
    for layer in layers:
        ops = layer.operands(cfg, tokens)
        plan = layer_schedule(cfg, layer, m=len(ops.x))
        total = total + price_gemm(cfg, layer_events(cfg, layer, plan, ops), plan, tech=tech,
                                   clock_mhz=clock_mhz)
        runs.append((layer, ops, plan))
    return total, runs


def activity_cross_check(cfg: AcceleratorConfig, layers: list, tokens: int | None = None, *,
                         tech: Technology | None = None, clock_mhz: float | None = None,
                         progress: Callable[[dict], None] | None = None) -> dict:
    """Run ``layers`` (workload :class:`~ternhw.workload.Layer` objects) for ``tokens``
    tokens through the toggle-counting RTL and through the event model on the same operands
    (:func:`price_layers`), and :func:`compare` them. The co-simulation is checked as any
    other (bit-exact, cycles, counters); a mismatch is an error, since toggles of a wrong run
    price nothing."""
    from ..cosim.bulk import run_bulk
    from ..cosim.workloads import layer_cases
    from ..hdl.generate import to_verilog

    tech = tech or Technology()
    event, runs = price_layers(cfg, layers, tokens, tech=tech, clock_mhz=clock_mhz)
    cases = [c for layer, ops, _ in runs for c in layer_cases(cfg, layer, operands=ops)[0]]
    top, verilog = to_verilog(cfg)
    with tempfile.TemporaryDirectory(prefix="ternhw-toggles-") as d:
        path = Path(d) / "toggles.dat"
        rep = run_bulk(cfg, cases, toggles_out=path, progress=progress)
        if not rep.passed:
            raise TernhwError("the toggle-counting co-simulation did not match the model; "
                              "run `ternhw sim` on these layers to see where")
        toggles = read_toggles(path)
    nets = classify_nets(verilog, *net_components(cfg, top))
    doc = compare(event, price_toggles(nets, toggles, tech))
    cycles = sum(r["cycles_rtl"] for r in rep.cases)
    # each bit of a flip-flop changes at most once a cycle: a sanity bound on the counts
    per_bit = max((n / (nets[k].width * rep.extra["simulated_cycles"])
                   for k, n in toggles.items() if k in nets and nets[k].kind == "register"),
                  default=0.0)
    return {"config": cfg.name, "layers": [lay.label for lay in layers],
            "tokens": max(len(ops.x) for _, ops, _ in runs),
            "activations": runs[0][1].note, "commands": len(cases), "cycles": cycles,
            "build_s": rep.build_s, "run_s": rep.run_s, "technology": tech.describe(),
            "nets": len(nets), "toggled_nets": len(toggles),
            "max_register_toggles_per_bit_cycle": per_bit,
            "method": METHOD, **doc}
