"""The output stage: a snapshot of a finished token's accumulators, a shared pipelined
requantizer, and the output word register with its valid/ready stream.

Outputs leave one token's ``rows`` results at a time, at most one token per ``T = ceil(K /
cols)`` clocks, so ``rows`` requantizers (one per row) would idle most of the time. Here
``lanes`` requantizers serve all rows: a finished token is copied into a snapshot register,
and its results are fed ``lanes`` per clock through two pipeline registers (the selected
accumulators; the shift-and-add product) into rounding and clamping, which write the output
word. A new token can enter the snapshot in the clock its last group is fed; until then the
stage raises ``hold`` and the array pipeline waits (``ternhw.model.timing`` counts it).
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..model.contract import REQUANT_MULT_BITS
from ..model.timing import REQUANT_STAGES
from ._checks import check_int
from .faults import check_fault
from .requant import SHIFT_BITS, product_bits, requant_product, requant_round


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
        assert REQUANT_STAGES == 2, "the timing model and this stage must agree"
        m = Module()
        R, L, ab = self._rows, self._lanes, self._acc_bits
        G = -(-R // L)
        acc_t = signed(ab)

        snap = Signal(data.ArrayLayout(acc_t, R))
        snap_ovf = Signal(R)
        busy = Signal()
        group = Signal(range(G))
        last_group = group == G - 1

        r1_valid, r1_last = Signal(), Signal()
        r1_group = Signal(range(G))
        r1_ovf = Signal(R)
        r1_acc = Signal(data.ArrayLayout(acc_t, L))
        r2_valid, r2_last = Signal(), Signal()
        r2_group = Signal(range(G))
        r2_ovf = Signal(R)
        r2_acc = Signal(data.ArrayLayout(acc_t, L))
        r2_prod = Signal(data.ArrayLayout(signed(product_bits(ab)), L))

        word = Signal(data.ArrayLayout(acc_t, R))
        word_sat = Signal(R)
        word_ovf = Signal(R)
        full = Signal()

        o = self.o_res
        rq_hold = r2_valid & full & o.valid & ~o.ready
        feed = busy & ~rq_hold
        m.d.comb += [
            self.hold.eq(self.acc_done & busy & ~(feed & last_group)),
            self.empty.eq(~busy & ~r1_valid & ~r2_valid & ~full & ~o.valid),
        ]

        # snapshot: taken when a finished token is handed over, read one group per clock
        with m.If(feed):
            m.d.sync += group.eq(Mux(last_group, 0, group + 1))
            with m.If(last_group):
                m.d.sync += busy.eq(0)
        with m.If(self.acc_done & ~self.hold):
            m.d.sync += [snap.eq(self.accs), snap_ovf.eq(self.overflow), busy.eq(1),
                         group.eq(0)]

        # pipeline register 1: the group's accumulators
        with m.If(~rq_hold):
            m.d.sync += [r1_valid.eq(feed), r1_group.eq(group), r1_last.eq(last_group),
                         r1_ovf.eq(snap_ovf)]
            for lane in range(L):
                choices = [snap[gi * L + lane] if gi * L + lane < R else 0 for gi in range(G)]
                sel = choices[0]
                for gi in range(1, G):
                    sel = Mux(group == gi, choices[gi], sel)
                m.d.sync += r1_acc[lane].eq(sel)

        # pipeline register 2: the products
        with m.If(~rq_hold):
            m.d.sync += [r2_valid.eq(r1_valid), r2_group.eq(r1_group), r2_last.eq(r1_last),
                         r2_ovf.eq(r1_ovf), r2_acc.eq(r1_acc)]
            for lane in range(L):
                prod = requant_product(m, r1_acc[lane], self.multiplier, ab)
                m.d.sync += r2_prod[lane].eq(prod)

        # round and clamp into the output word
        write = r2_valid & ~rq_hold
        for lane in range(L):
            out, sat = requant_round(m, r2_prod[lane], self.shift, self.relu, fault=self._fault)
            value = Mux(self.requant_en, out, r2_acc[lane])
            for gi in range(G):
                r = gi * L + lane
                if r < R:
                    with m.If(write & (r2_group == gi)):
                        m.d.sync += [word[r].eq(value),
                                     word_sat[r].eq(self.requant_en & sat)]
        with m.If(write & r2_last):
            m.d.sync += word_ovf.eq(r2_ovf)

        # the output register
        transfer = full & (~o.valid | o.ready)
        m.d.sync += full.eq(Mux(transfer, 0, full) | (write & r2_last))
        with m.If(transfer):
            m.d.sync += [o.valid.eq(1), o.payload.values.eq(word),
                         o.payload.overflow.eq(word_ovf), o.payload.saturated.eq(word_sat)]
        with m.Elif(o.ready):
            m.d.sync += o.valid.eq(0)
        return m
