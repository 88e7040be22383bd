"""The output stage: a snapshot of a finished token's accumulators, a shared pipelined
requantizer, and the output word register with its valid/ready stream.

Outputs leave one token's ``rows`` results at a time, at most one token per ``T = ceil(K /
cols)`` clocks, so ``rows`` requantizers (one per row) would idle most of the time. Here
``lanes`` requantizers serve all rows: a finished token is copied into a snapshot register, and
its results are fed ``lanes`` per clock through four pipeline registers (the selected
accumulators; partial sums of the shift-and-add product; the product; the shifted value and
rounding decision) into the clamp, which writes the output word. A new token can enter the
snapshot in the clock its last group is fed; until then the stage raises ``hold`` and the array
pipeline waits (``ternhw.model.timing`` counts it).
"""

from __future__ import annotations

from amaranth import C, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..model.contract import REQUANT_MULT_BITS
from ..model.timing import REQUANT_STAGES
from ._checks import check_int
from .adder_tree import balanced_sum
from .faults import check_fault
from .requant import (
    PRODUCT_SPLIT,
    SHIFT_BITS,
    product_bits,
    requant_clamp,
    requant_partials,
    requant_shift,
    round_constants,
)


def result_layout(rows: int, acc_bits: int) -> data.StructLayout:
    """One output word: ``rows`` values (int8 sign-extended, or the raw accumulators) and the
    per-output overflow and saturation flags."""
    return data.StructLayout({
        "values": data.ArrayLayout(signed(acc_bits), rows),
        "overflow": unsigned(rows),
        "saturated": unsigned(rows),
    })


class OutputStage(wiring.Component):
    """Snapshot, ``lanes`` shared requantizers (``REQUANT_STAGES`` registers deep), output word.

    Members
    -------
    acc_done : In(1)
        The accumulators hold a finished token this cycle.
    accs : In(ArrayLayout(signed(acc_bits), rows))
    overflow : In(rows)
    requant_en, relu : In(1)
    multiplier : In(16)
    shift : In(6)
    hold : Out(1)
        ``acc_done`` but the snapshot is still being read: the array pipeline must wait.
    empty : Out(1)
        Nothing in flight, and the output register is empty.
    o_res : Out(stream.Signature(result_layout))
    """

    def __init__(self, *, rows: int, acc_bits: int, lanes: int = 1,
                 fault: str | None = None):
        self._rows = check_int("rows", rows, 1, 256)
        self._acc_bits = check_int("acc_bits", acc_bits, 8, 32)
        self._lanes = check_int("lanes", lanes, 1, rows)
        self._fault = check_fault(fault)
        super().__init__({
            "acc_done": In(1),
            "accs": In(data.ArrayLayout(signed(acc_bits), rows)),
            "overflow": In(rows),
            "requant_en": In(1), "relu": In(1),
            "multiplier": In(unsigned(REQUANT_MULT_BITS)), "shift": In(unsigned(SHIFT_BITS)),
            "hold": Out(1), "empty": Out(1),
            "o_res": Out(stream.Signature(result_layout(rows, acc_bits))),
        })

    def elaborate(self, platform):
        assert REQUANT_STAGES == 4, "the timing model and this stage must agree"
        m = Module()
        R, L, ab = self._rows, self._lanes, self._acc_bits
        G = -(-R // L)
        acc_t = signed(ab)
        width = product_bits(ab)

        snap = Signal(data.ArrayLayout(acc_t, R))
        snap_ovf = Signal(R)
        busy = Signal()
        group = Signal(range(G))
        last_group = group == G - 1

        # the requantizer's pipeline registers: each carries the group's bookkeeping and raw
        # accumulators (the output when requantization is off) beside its own payload
        def stage(name: str, payload: dict) -> data.View:
            return Signal(data.StructLayout({
                "valid": 1, "last": 1, "group": range(G), "ovf": R,
                "acc": data.ArrayLayout(acc_t, L),
                **{k: data.ArrayLayout(v, L) for k, v in payload.items()}}), name=name)

        r1 = stage("rq_select", {})
        r2 = stage("rq_partials", {f"p{i}": signed(width) for i in range(PRODUCT_SPLIT)})
        r3 = stage("rq_product", {"prod": signed(width)})
        r4 = stage("rq_shifted", {"shifted": signed(width), "up": 1})

        # the rounding constants follow the command's shift (latched at start, stable after)
        mask, half, half_neg = (Signal(width, name=n) for n in ("mask", "half", "half_neg"))
        m.d.sync += [a.eq(b) for a, b in zip((mask, half, half_neg),
                                             round_constants(self.shift, width,
                                                             fault=self._fault), strict=True)]

        word = Signal(data.ArrayLayout(acc_t, R))
        word_sat = Signal(R)
        word_ovf = Signal(R)
        full = Signal()

        o = self.o_res
        rq_hold = r4.valid & full & o.valid & ~o.ready
        feed = busy & ~rq_hold
        m.d.comb += [
            self.hold.eq(self.acc_done & busy & ~(feed & last_group)),
            self.empty.eq(~busy & ~r1.valid & ~r2.valid & ~r3.valid & ~r4.valid & ~full
                          & ~o.valid),
        ]

        # snapshot: taken when a finished token is handed over, read one group per clock
        with m.If(feed):
            m.d.sync += group.eq(Mux(last_group, 0, group + 1))
            with m.If(last_group):
                m.d.sync += busy.eq(0)
        with m.If(self.acc_done & ~self.hold):
            m.d.sync += [snap.eq(self.accs), snap_ovf.eq(self.overflow), busy.eq(1),
                         group.eq(0)]

        with m.If(~rq_hold):
            m.d.sync += [r1.valid.eq(feed), r1.group.eq(group), r1.last.eq(last_group),
                         r1.ovf.eq(snap_ovf)]
            for nxt, prev in ((r2, r1), (r3, r2), (r4, r3)):
                m.d.sync += [nxt.valid.eq(prev.valid), nxt.group.eq(prev.group),
                             nxt.last.eq(prev.last), nxt.ovf.eq(prev.ovf), nxt.acc.eq(prev.acc)]
            for lane in range(L):
                # register 1: the group's accumulator
                choices = [snap[gi * L + lane] if gi * L + lane < R else 0 for gi in range(G)]
                sel = choices[0]
                for gi in range(1, G):
                    sel = Mux(group == gi, choices[gi], sel)
                m.d.sync += r1.acc[lane].eq(sel)
                # register 2: partial sums of the shift-and-add product; register 3: the product
                partials = requant_partials(r1.acc[lane], self.multiplier, ab)
                m.d.sync += [r2[f"p{i}"][lane].eq(p) for i, p in enumerate(partials)]
                m.d.sync += r3.prod[lane].eq(
                    balanced_sum([r2[f"p{i}"][lane] for i in range(len(partials))]))
                # register 4: shifted value and the rounding decision
                shifted, up = requant_shift(r3.prod[lane], self.shift, mask, half, half_neg)
                m.d.sync += [r4.shifted[lane].eq(shifted), r4.up[lane].eq(up)]

        # round and clamp into the output word
        write = r4.valid & ~rq_hold
        for lane in range(L):
            out, sat = requant_clamp(r4.shifted[lane], r4.up[lane], self.relu)
            value = Mux(self.requant_en, out, r4.acc[lane])
            for gi in range(G):
                r = gi * L + lane
                if r < R:
                    with m.If(write & (r4.group == gi)):
                        m.d.sync += [word[r].eq(value),
                                     word_sat[r].eq(self.requant_en & sat)]
        with m.If(write & r4.last):
            m.d.sync += word_ovf.eq(r4.ovf)

        # the output register
        ready = C(1) if self._fault == "res_ready_ignored" else o.ready
        lets_go = C(1) if self._fault == "res_valid_dropped" else o.ready
        transfer = full & (~o.valid | ready)
        m.d.sync += full.eq(Mux(transfer, 0, full) | (write & r4.last))
        with m.If(transfer):
            m.d.sync += [o.valid.eq(1), o.payload.values.eq(word),
                         o.payload.overflow.eq(word_ovf), o.payload.saturated.eq(word_sat)]
        with m.Elif(lets_go):
            m.d.sync += o.valid.eq(0)
        if self._fault == "res_payload_unstable":
            with m.Elif(o.valid):
                m.d.sync += o.payload.values.eq(word)
        return m
