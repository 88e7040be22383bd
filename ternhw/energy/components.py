"""The energy-consuming components of ``TernaryAccelerator(cfg)``, one class per component in
the style of hwcomponents / Accelergy plug-ins: each names the hardware it covers, its actions
with their energy (:class:`~ternhw.energy.tech.Cost`: pJ, source, flags) and how many times a
GEMM performs each action.

The list is derived from the config exactly as ``ternhw/hdl/accelerator.py`` builds the design:
widths of every adder-tree level (:func:`tree_levels`, the widths Amaranth gives a
``balanced_sum``), the ``requant_lanes`` shift-and-add requantizers, the buffers' real word
widths and depths, and the flip-flops of each part counted on the elaborated design
(:func:`flip_flops`), which the clock tree and leakage are charged for.
``tests/test_energy_components.py`` elaborates the design and fails when one of its parts (a
submodule, or a register of the top level or output stage) has no component here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from ..config import AcceleratorConfig
from ..hdl.decoder import WeightCodeCheck as HdlCodeCheck
from ..hdl.mac_array import GROUP as MAC_GROUP
from ..hdl.requant import product_bits
from ..model.contract import REQUANT_MAX_SHIFT, REQUANT_MULT_BITS
from .tech import Cost, Sram, Technology, zero

#: Elaborated submodules of ``TernaryAccelerator`` -> the components that price them.
SUBMODULES = {
    "ctrl": ("controller",),
    "act_buf": ("activation buffer",),
    "wgt_buf": ("weight buffer",),
    "decoder": ("weight decoder",),
    "code_check": ("weight code check",),
    "array": ("lanes", "adder trees"),
    "accs": ("accumulators",),
    "out": ("output snapshot", "requantizer", "output register"),
}
#: Registers by name (prefix) in the top level and the output stage -> component.
TOP_REGISTERS = {"bias": "bias banks", "status__": "status counters",
                 "sd_weights": "array pipeline registers", "sd_acts": "array pipeline registers",
                 "sd_col_live": "status counters", "sd_row_live": "status counters",
                 "sp_sums": "array pipeline registers", "sp_nonzero": "array pipeline registers",
                 "s2_sums": "array pipeline registers", "s2_nonzero": "array pipeline registers",
                 "sp_skips": "status counters", "s3_skips": "status counters", "sp_": "controller",
                 "events_r": "status counters", "event_bits": "status counters",
                 "hold_inc": "status counters",
                 "s2_bias": "bias banks", "sd_": "controller",
                 "s1_": "controller", "s2_": "controller", "acc_done": "controller",
                 "K": "controller", "N": "controller", "requant_en": "controller",
                 "relu": "controller", "multiplier": "controller", "shift": "controller",
                 "$signal": "controller"}
OUT_REGISTERS = {"snap": "output snapshot", "busy": "output snapshot", "group": "output snapshot",
                 "r1_": "requantizer", "r2_": "requantizer", "rq_": "requantizer",
                 "mask": "requantizer", "half": "requantizer", "$signal": "requantizer",
                 "word": "output register", "full": "output register",
                 "o_res__": "output register"}
STATUS_COUNTERS = 6          # cycles, busy, stall, hold, zero_skips, overflow_events
STATUS_BITS = 48


# ---- widths of the generated hardware ------------------------------------------------------
def tree_levels(n: int, width: int) -> list[list[int]]:
    """Output widths of the adders of a ``balanced_sum`` of ``n`` ``width``-bit terms, level by
    level (``ternhw.hdl.adder_tree.balanced_reduce``: pairs, an odd term passes through; an
    Amaranth add is one bit wider than its wider operand)."""
    return _tree([width] * n)


def _tree(level: list[int]) -> list[list[int]]:
    out = []
    while len(level) > 1:
        adders = [max(level[i], level[i + 1]) + 1 for i in range(0, len(level) - 1, 2)]
        out.append(adders)
        level = adders + ([level[-1]] if len(level) % 2 else [])
    return out


def requant_product_widths(acc_bits: int) -> list[list[int]]:
    """Adder widths of one requantizer's shift-and-add product: ``REQUANT_MULT_BITS`` partials
    ``acc << i`` (``acc_bits + i`` bits) summed in a balanced tree (``hdl/requant.py``)."""
    return _tree([acc_bits + i for i in range(REQUANT_MULT_BITS)])


@lru_cache(maxsize=64)
def flip_flops(cfg: AcceleratorConfig) -> dict[str, int]:
    """Flip-flop bits of the elaborated ``TernaryAccelerator(cfg)`` by component (signals
    assigned in a clocked domain). Registers no rule attributes land in ``"unattributed"``
    (the component test requires it to be empty)."""
    from amaranth.hdl import Fragment

    from ..hdl.accelerator import TernaryAccelerator

    top = Fragment.get(TernaryAccelerator(cfg), None)
    out: dict[str, int] = {}

    def put(comp: str, bits: int) -> None:
        if bits:
            out[comp] = out.get(comp, 0) + bits

    for sig in _registers(top):
        put(_by_prefix(sig.name, TOP_REGISTERS), len(sig))
    for frag, name, *_ in top.subfragments:
        comps = SUBMODULES.get(name, ("unattributed",))
        for sig in _registers_deep(frag):
            put(_by_prefix(sig.name, OUT_REGISTERS) if name == "out" else comps[0], len(sig))
    return out


def elaborated_submodules(cfg: AcceleratorConfig) -> list[str]:
    """Names of the top-level submodules of the elaborated design."""
    from amaranth.hdl import Fragment

    from ..hdl.accelerator import TernaryAccelerator

    return [name for _, name, *_ in Fragment.get(TernaryAccelerator(cfg), None).subfragments]


def _by_prefix(name: str, rules: dict[str, str]) -> str:
    """The component of a register named ``name``: the longest rule it starts with."""
    for prefix in sorted(rules, key=len, reverse=True):
        if name.startswith(prefix):
            return rules[prefix]
    return "unattributed"


def _registers(frag) -> list:
    sigs = {}
    for domain, stmts in frag.statements.items():
        if domain == "comb":
            continue
        for st in stmts:
            for s in st._lhs_signals():
                sigs[id(s)] = s
    return list(sigs.values())


def _registers_deep(frag) -> list:
    regs = _registers(frag)
    for sub, *_ in getattr(frag, "subfragments", []):
        regs += _registers_deep(sub)
    return regs


# ---- activity --------------------------------------------------------------------------------
@dataclass
class Activity:
    """Action counts of one workload: the golden model's events plus the schedule's words,
    cycles and off-chip traffic (all already multiplied by the layer's instance count)."""

    array_steps: float = 0
    lane_add: float = 0
    lane_sub: float = 0
    lane_skip: float = 0
    lane_mul: float = 0
    lane_idle: float = 0
    acc_updates: float = 0
    acc_skips: float = 0
    overflow_events: float = 0
    requant_ops: float = 0
    outputs_written: float = 0
    act_writes: float = 0
    act_reads: float = 0
    wgt_writes: float = 0
    wgt_reads: float = 0
    out_words: float = 0          # result words (one per token and N-tile)
    bias_words: float = 0
    bias_firsts: float = 0        # first chunks that take their base from a loaded bias
    cycles: float = 0
    offchip_weight_bits: float = 0
    offchip_act_bits: float = 0
    offchip_bias_bits: float = 0
    offchip_out_bits: float = 0


# ---- components ------------------------------------------------------------------------------
class Component:
    """One energy-consuming part. ``actions()`` gives each action's energy (pJ each, with its
    source); ``counts(act)`` how many times the workload performs it."""

    name = ""
    hardware = ""                 # what it is in the RTL, for the report

    def __init__(self, cfg: AcceleratorConfig, tech: Technology):
        self.cfg, self.tech = cfg, tech

    def actions(self) -> dict[str, Cost]:
        raise NotImplementedError

    def counts(self, act: Activity) -> dict[str, float]:
        raise NotImplementedError

    def logic_bits(self) -> int:
        """Adder / gate bits of its combinational logic, for leakage (flip-flops separate)."""
        return 0


class WeightDecoder(Component):
    name = "weight decoder"
    hardware = "decoder (hdl/decoder.py): packed weight word -> rows x cols lane weights"

    def actions(self):
        cfg, t = self.cfg, self.tech
        n = cfg.lanes
        if cfg.weight_format == "int8":
            return {"decode word": zero("int8 weights are bit slices of the word (decoder.py): "
                                        "no decode logic")}
        if cfg.weight_format == "2bit":
            return {"decode word": t.gate().scaled(2 * n, f"{n} weights x 2 gates (code == 2, "
                                                           "code == 0)")}
        nbytes = -(-n // 5)
        return {"decode word": t.gate().scaled(
            20 * nbytes, f"{nbytes} base-3 byte tables x 20 gate toggles (assumption: a "
                         "243-entry 8-in/10-out table switches about 2 gates per output bit)")}

    def counts(self, act):
        return {"decode word": act.wgt_reads}

    def logic_bits(self):
        fmt, n = self.cfg.weight_format, self.cfg.lanes
        return 0 if fmt == "int8" else n // 2 if fmt == "2bit" else 10 * -(-n // 5)


def group_bits(cfg) -> int:
    """Width of a lane group's sum (``MacArray.group_bits``): ``MAC_GROUP`` exact products."""
    return cfg.product_bits + math.ceil(math.log2(min(MAC_GROUP, cfg.cols)))


class WeightCodeCheck(Component):
    name = "weight code check"
    hardware = ("WeightCodeCheck (hdl/decoder.py): each weight word written into the buffer "
                "tested for an invalid code, an OR over its fields in two registered stages")

    def actions(self):
        cfg, t = self.cfg, self.tech
        if not cfg.is_ternary:
            return {"check word": zero("int8 weights have no invalid code: no check built")}
        fields = HdlCodeCheck.fields(cfg.weight_format, cfg.lanes)
        per_field = 2 if cfg.weight_format == "2bit" else 4
        return {"check word": t.gate().scaled(
            per_field * fields, f"{fields} fields x {per_field} gates (the field test and its "
                                "share of the OR tree; assumption: every gate switches once)")}

    def counts(self, act):
        return {"check word": act.wgt_writes}

    def logic_bits(self):
        cfg = self.cfg
        if not cfg.is_ternary:
            return 0
        return (1 if cfg.weight_format == "2bit" else 4) * HdlCodeCheck.fields(
            cfg.weight_format, cfg.lanes)


class Lanes(Component):
    name = "lanes"
    hardware = ("array lanes (hdl/lane.py): TernaryLane +a / ~a (+1 per group) / gated, or "
                "Int8Lane multiplier")

    def actions(self):
        cfg, t = self.cfg, self.tech
        w = cfg.act_bits
        idle = zero("edge-tile lane: the host pads zero weights, so it is gated like a zero "
                    "weight (no switching; leakage counted under leakage)")
        if not cfg.is_ternary:
            return {"multiply": t.multiply(cfg.act_bits, 8), "idle (edge tile)": idle}
        return {
            "pass (+1 weight)": t.mux_bit().scaled(w, f"{w}-bit product mux"),
            "negate (-1 weight)": t.gate().scaled(w, f"{w}-bit inversion (~a)")
            + t.mux_bit().scaled(w, f"{w}-bit product mux")
            + t.add(group_bits(cfg)).scaled(1 / min(MAC_GROUP, cfg.cols), (
                f"its share of the group's {group_bits(cfg)}-bit add of the +1s of its negated "
                f"lanes (mac_array.py; one per {min(MAC_GROUP, cfg.cols)} lanes)")),
            "gated (0 weight)": zero("zero-skip: the product is forced to 0 and the activation "
                                     "does not reach the tree (assumption: no switching; "
                                     "leakage counted under leakage)"),
            "idle (edge tile)": idle,
        }

    def counts(self, act):
        if not self.cfg.is_ternary:
            return {"multiply": act.lane_mul, "idle (edge tile)": act.lane_idle}
        return {"pass (+1 weight)": act.lane_add, "negate (-1 weight)": act.lane_sub,
                "gated (0 weight)": act.lane_skip, "idle (edge tile)": act.lane_idle}

    def logic_bits(self):
        cfg = self.cfg
        return cfg.lanes * (cfg.act_bits if cfg.is_ternary else cfg.act_bits * 8)


class AdderTrees(Component):
    name = "adder trees"
    hardware = "one balanced adder tree per row (hdl/mac_array.py), plus its non-zero OR tree"

    def levels(self) -> list[list[int]]:
        return tree_levels(self.cfg.cols, self.cfg.product_bits)

    def actions(self):
        t = self.tech
        out = {}
        for i, adders in enumerate(self.levels(), 1):
            widths = sorted(set(adders))
            c = t.add(widths[0]).scaled(adders.count(widths[0]))
            for w in widths[1:]:
                c = c + t.add(w).scaled(adders.count(w))
            out[f"level {i}: {len(adders)} x {'/'.join(map(str, widths))}-bit add"] = c.scaled(
                1 / self.cfg.cols, "per live lane: a level's adds / cols (assumption: activity "
                "proportional to the fraction of lanes with a non-zero product)")
        out["non-zero detect (OR tree)"] = t.gate().scaled(
            max(self.cfg.cols - 1, 0), f"{self.cfg.cols - 1} OR gates per row and step")
        return out

    def counts(self, act):
        live = act.lane_add + act.lane_sub if self.cfg.is_ternary else act.lane_mul
        out = {k: live for k in self.actions() if k.startswith("level")}
        out["non-zero detect (OR tree)"] = act.array_steps * self.cfg.rows
        return out

    def logic_bits(self):
        return self.cfg.rows * sum(sum(a) for a in self.levels())


class ArrayPipelineRegisters(Component):
    name = "array pipeline registers"
    hardware = ("decode registers sd_weights, sd_acts, group-sum registers sp_sums, sp_nonzero "
                "and stage-2 registers s2_sums, s2_nonzero (hdl/accelerator.py)")

    def actions(self):
        cfg = self.cfg
        weight_bits = cfg.lanes * (2 if cfg.is_ternary else 8)
        groups = -(-cfg.cols // MAC_GROUP)
        return {"latch decoded weights and activations":
                self.tech.register_bits(weight_bits + cfg.cols * cfg.act_bits),
                "latch group sums": self.tech.register_bits(
                    cfg.rows * (groups * group_bits(cfg) + 1)),
                "latch chunk sums": self.tech.register_bits(cfg.rows * (cfg.tree_bits + 1))}

    def counts(self, act):
        return {"latch decoded weights and activations": act.array_steps,
                "latch group sums": act.array_steps, "latch chunk sums": act.array_steps}


class Accumulators(Component):
    name = "accumulators"
    hardware = "AccumulatorBank (hdl/accumulator.py): rows x acc_bits, wrap or saturate"

    def actions(self):
        cfg, t = self.cfg, self.tech
        ab = cfg.acc_bits
        if cfg.overflow == "saturate":
            sat = (t.compare(ab + 1).scaled(2, "range test: the top bits all zeros / all ones "
                                               "(priced as two comparators, an upper bound)")
                   + t.mux_bit().scaled(2 * ab, "two clamp muxes"))
        else:
            sat = zero("wrap keeps the low acc_bits bits (accumulator.py): wiring, no logic")
        return {
            f"update ({ab}-bit add)": t.add(ab),
            "saturate" if cfg.overflow == "saturate" else "wrap": sat,
            "register write": t.register_bits(ab),
            "gated update (all-zero chunk)": zero(
                "nonzero = 0: the register reloads its unchanged base (accumulator.py); no data "
                "toggles (assumption), its clock is under clock tree"),
        }

    def counts(self, act):
        k = list(self.actions())
        return {k[0]: act.acc_updates, k[1]: act.acc_updates, k[2]: act.acc_updates,
                k[3]: act.acc_skips}

    def logic_bits(self):
        ab = self.cfg.acc_bits
        return self.cfg.rows * (ab + 1 + (2 * (ab + 1) if self.cfg.overflow == "saturate" else 0))


class BiasBanks(Component):
    name = "bias banks"
    hardware = "two bias banks of rows x acc_bits registers (hdl/accelerator.py)"

    def actions(self):
        cfg, t = self.cfg, self.tech
        bits = cfg.rows * cfg.acc_bits
        return {
            "load bias word": t.register_bits(bits),
            "bias add (first chunk)": t.mux_bit().scaled(
                bits, "bank select; the addition itself is the accumulator's own add on a "
                      "token's first chunk (base = bias, accumulator.py), priced there")
            + t.register_bits(bits).scaled(1, "the selected bank latched a stage ahead of the "
                                              "add (s2_bias; assumption: its bits switch on a "
                                              "first chunk, an upper bound)"),
        }

    def counts(self, act):
        return {"load bias word": act.bias_words, "bias add (first chunk)": act.bias_firsts}


class OutputSnapshot(Component):
    name = "output snapshot"
    hardware = "OutputStage snapshot register and group select (hdl/output_stage.py)"

    def actions(self):
        cfg, t = self.cfg, self.tech
        g, lanes = cfg.requant_groups, cfg.requant_lanes
        sel = (t.mux_bit().scaled(lanes * cfg.acc_bits * (g - 1),
                                  f"{lanes} lanes x {cfg.acc_bits} bit x {g - 1} mux levels")
               if g > 1 else zero("requant_lanes = rows: one group, no select mux"))
        return {"take token": t.register_bits(cfg.rows * (cfg.acc_bits + 1)),
                "select group": sel}

    def counts(self, act):
        return {"take token": act.out_words,
                "select group": act.out_words * self.cfg.requant_groups}


class Requantizer(Component):
    name = "requantizer"
    hardware = ("requant_lanes shared pipelined requantizers: shift-and-add product, round, "
                "clamp (hdl/output_stage.py, hdl/requant.py)")

    def actions(self):
        cfg, t = self.cfg, self.tech
        ab, pb = cfg.acc_bits, product_bits(cfg.acc_bits)
        prod = t.mux_bit().scaled(sum(ab + i for i in range(REQUANT_MULT_BITS)),
                                  "partial-product muxes")
        for level in requant_product_widths(ab):
            for w in level:
                prod = prod + t.add(w)
        stages = REQUANT_MAX_SHIFT.bit_length()
        rnd = (t.mux_bit().scaled(stages * pb, f"{stages}-stage {pb}-bit shifter")
               + t.add(pb) + t.compare(pb).scaled(1, "remainder > threshold")
               + t.compare(pb + 1).scaled(2, "int8 clamp"))
        ffs = flip_flops(cfg).get(self.name, 0) / cfg.requant_lanes
        regs = t.register_bits(1).scaled(ffs, f"{ffs:g} pipeline flip-flops per lane of the "
                                              "elaborated design")
        return {
            f"product ({REQUANT_MULT_BITS} partials, {ab}-bit acc)": prod.scaled(
                1, "upper bound: every partial product switches"),
            f"round and clamp ({pb}-bit)": rnd,
            "pipeline registers": regs,
            "pass-through (requantization off)": zero(
                "requant_en = 0 selects the raw accumulator; the product logic sees an unchanged "
                "latched multiplier (assumption: no switching)"),
        }

    def counts(self, act):
        k = list(self.actions())
        return {k[0]: act.requant_ops, k[1]: act.requant_ops, k[2]: act.outputs_written,
                k[3]: max(act.outputs_written - act.requant_ops, 0)}

    def logic_bits(self):
        ab, pb = self.cfg.acc_bits, product_bits(self.cfg.acc_bits)
        per_lane = sum(sum(lv) for lv in requant_product_widths(ab)) + 4 * pb
        return self.cfg.requant_lanes * per_lane


class OutputRegister(Component):
    name = "output register"
    hardware = "output word and o_res payload registers (hdl/output_stage.py)"

    def actions(self):
        cfg = self.cfg
        bits = cfg.rows * (cfg.acc_bits + 2)
        return {"write result word": self.tech.register_bits(2 * bits).scaled(
            1, "word register, then the o_res payload register")}

    def counts(self, act):
        return {"write result word": act.out_words}


class Buffer(Component):
    """An on-chip SRAM buffer priced per word at its real width and depth (CACTI)."""

    def sram(self) -> Sram:
        raise NotImplementedError

    def actions(self):
        s = self.sram()
        return {"write word": s.write, "read word": s.read,
                "idle read (read enable held)": s.read.scaled(
                    1, "accelerator.py enables the read port on every cycle the pipeline "
                       "advances, also when no step issues (upper bound: hold cycles included)")}


class ActivationBuffer(Buffer):
    name = "activation buffer"
    hardware = "act_buf: Memory act_buffer_depth x (cols x act_bits)"

    def sram(self):
        return self.tech.sram(self.cfg.act_word_bits, self.cfg.act_buffer_depth)

    def counts(self, act):
        return {"write word": act.act_writes, "read word": act.act_reads,
                "idle read (read enable held)": max(act.cycles - act.array_steps, 0)}


class WeightBuffer(Buffer):
    name = "weight buffer"
    hardware = "wgt_buf: the weight ring, weight_buffer_depth x weight_word_bits"

    def sram(self):
        return self.tech.sram(self.cfg.weight_word_bits, self.cfg.weight_buffer_depth)

    def counts(self, act):
        return {"write word": act.wgt_writes, "read word": act.wgt_reads,
                "idle read (read enable held)": max(act.cycles - act.array_steps, 0)}


class Controller(Component):
    name = "controller"
    hardware = ("Controller (hdl/controller.py: loaders, ring pointers, issue counters) plus "
                "the command latch and stage-1 pipeline flags of the top level")
    ACTIVITY = 0.25

    def actions(self):
        ffs = flip_flops(self.cfg).get(self.name, 0)
        return {"sequencer cycle": self.tech.register_bits(ffs).scaled(
            self.ACTIVITY, f"{ffs} flip-flops x {self.ACTIVITY} of them switching per busy "
                           "cycle (assumption: counters toggle about 2 bits per increment)")}

    def counts(self, act):
        return {"sequencer cycle": act.cycles}

    def logic_bits(self):
        return flip_flops(self.cfg).get(self.name, 0)      # about one gate bit per register


class StatusCounters(Component):
    name = "status counters"
    hardware = ("six 48-bit performance counters and the zero-skip popcount tree "
                "(hdl/accelerator.py)")

    def popcount_levels(self) -> list[list[int]]:
        return _tree([1] * self.cfg.lanes)

    def actions(self):
        t = self.tech
        pop = t.add(1).scaled(0)
        for level in self.popcount_levels():
            for w in level:
                pop = pop + t.add(w)
        return {
            "count cycle": t.counter(STATUS_BITS).scaled(
                2, "cycles, and busy_cycles or stall_cycles, increment every busy cycle"),
            "zero-skip popcount": pop.scaled(
                1, f"{self.cfg.lanes}-input popcount tree at its real widths, per step, times "
                   "the fraction of gated lanes (assumption: its inputs toggle with them)"),
            "count overflow event": t.counter(STATUS_BITS),
        }

    def counts(self, act):
        lanes = act.lane_add + act.lane_sub + act.lane_skip + act.lane_mul + act.lane_idle
        frac = act.lane_skip / lanes if lanes else 0.0
        return {"count cycle": act.cycles, "zero-skip popcount": act.array_steps * frac,
                "count overflow event": act.overflow_events}

    def logic_bits(self):
        return sum(sum(lv) for lv in self.popcount_levels())


class StreamIO(Component):
    name = "stream I/O"
    hardware = "i_act, i_wgt, i_bias, o_res valid/ready streams"

    def actions(self):
        why = ("the payload passes straight into a buffer write port or bias bank, or leaves "
               "from the output register (accelerator.py): no stream registers; the wire and "
               "pad energy of moving it on and off chip is in DRAM pJ/bit")
        return {f"{s} word": zero(why) for s in ("i_act", "i_wgt", "i_bias", "o_res")}

    def counts(self, act):
        return {"i_act word": act.act_writes, "i_wgt word": act.wgt_writes,
                "i_bias word": act.bias_words, "o_res word": act.out_words}


class OffChip(Component):
    name = "DRAM"
    hardware = "off-chip memory behind the streams (not in the RTL)"

    def actions(self):
        b = self.tech.dram_bit()
        return {"read weight bits": b, "read activation bits": b, "read bias bits": b,
                "write output bits": b}

    def counts(self, act):
        return {"read weight bits": act.offchip_weight_bits,
                "read activation bits": act.offchip_act_bits,
                "read bias bits": act.offchip_bias_bits,
                "write output bits": act.offchip_out_bits}


class ClockTree(Component):
    name = "clock tree"
    hardware = "the sync clock of every flip-flop (no clock gating in the RTL)"

    def actions(self):
        ffs = sum(v for k, v in flip_flops(self.cfg).items())
        return {"clock all flip-flops": self.tech.clock_ff().scaled(
            ffs, f"{ffs} flip-flops of the elaborated design")}

    def counts(self, act):
        return {"clock all flip-flops": act.cycles}


class Leakage(Component):
    name = "leakage"
    hardware = "static power of logic and SRAM over the busy cycles"

    def __init__(self, cfg, tech, clock_mhz: float, logic_bits: int):
        super().__init__(cfg, tech)
        self.clock_mhz, self.bits = clock_mhz, logic_bits

    def actions(self):
        t, period_ns = self.tech, 1e3 / self.clock_mhz
        w_bit, c = t.leak_w_per_bit()
        logic = c.scaled(self.bits * period_ns, f"{self.bits} logic bits x "
                                                       f"{period_ns:g} ns per cycle")
        out = {"logic per cycle": logic}
        for comp in (ActivationBuffer(self.cfg, t), WeightBuffer(self.cfg, t)):
            s = comp.sram()
            out[f"{comp.name} per cycle"] = s.leak.scaled(period_ns, f"{period_ns:g} ns per "
                                                                     "cycle (mW x ns = pJ)")
        return out

    def counts(self, act):
        return {k: act.cycles for k in self.actions()}


def components_for(cfg: AcceleratorConfig, tech: Technology,
                   clock_mhz: float | None = None) -> list[Component]:
    """Every energy-consuming component of ``TernaryAccelerator(cfg)`` (see :data:`SUBMODULES`)
    plus the off-chip memory, clock tree and leakage."""
    parts: list[Component] = [cls(cfg, tech) for cls in (
        WeightDecoder, WeightCodeCheck, Lanes, AdderTrees, ArrayPipelineRegisters, Accumulators,
        BiasBanks, OutputSnapshot, Requantizer, OutputRegister, ActivationBuffer, WeightBuffer,
        Controller, StatusCounters, StreamIO, OffChip, ClockTree)]
    bits = sum(p.logic_bits() for p in parts) + sum(flip_flops(cfg).values())
    parts.append(Leakage(cfg, tech, clock_mhz or cfg.clock_mhz, bits))
    return parts

