"""The ``rows`` accumulators with the overflow rule of ``docs/semantics.md``."""

from __future__ import annotations

from amaranth import Cat, Module, Mux, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int
from .faults import check_fault


class AccumulatorBank(wiring.Component):
    """``rows`` signed ``acc_bits`` accumulators, one update per chunk.

    On a cycle with ``en``: for each row ``r`` the base is ``bias[r]`` when ``first`` (the first
    chunk of a token) and the accumulator otherwise; if ``nonzero[r]`` the accumulator becomes
    ``R(base + sums[r])`` with ``R`` wrap or saturate, else it becomes ``base`` (an all-zero
    chunk: the update is gated). ``overflow[r]`` collects the row's overflow events since
    ``first``; ``events`` flags this cycle's, one bit per row. The top level registers those bits
    before it counts them: a popcount across all rows at the end of the accumulators' carry
    chains was the design's critical path on the ECP5 (its routing spans the array).

    Members
    -------
    en, first : In(1)
    sums : In(ArrayLayout(signed(tree_bits), rows))
    nonzero : In(rows)
    bias : In(ArrayLayout(signed(acc_bits), rows))
    acc : Out(ArrayLayout(signed(acc_bits), rows))
    overflow : Out(rows)
    events : Out(rows)
    """

    def __init__(self, *, rows: int, tree_bits: int, acc_bits: int, overflow: str,
                 fault: str | None = None):
        self._rows = check_int("rows", rows, 1, 256)
        self._tree_bits = check_int("tree_bits", tree_bits, 2, 64)
        self._acc_bits = check_int("acc_bits", acc_bits, 8, 32)
        if overflow not in ("wrap", "saturate"):
            raise TypeError(f"overflow must be 'wrap' or 'saturate', not {overflow!r}")
        self._saturate = overflow == "saturate"
        self._fault = check_fault(fault)
        super().__init__({
            "en": In(1),
            "first": In(1),
            "sums": In(data.ArrayLayout(signed(tree_bits), rows)),
            "nonzero": In(rows),
            "bias": In(data.ArrayLayout(signed(acc_bits), rows)),
            "acc": Out(data.ArrayLayout(signed(acc_bits), rows)),
            "overflow": Out(rows),
            "events": Out(rows),
        })

    def elaborate(self, platform):
        m = Module()
        b = self._acc_bits - (self._fault == "acc_short")
        lo, hi = -(1 << (b - 1)), (1 << (b - 1)) - 1
        event_bits = []
        for r in range(self._rows):
            base = Mux(self.first, self.bias[r], self.acc[r])
            total = base + self.sums[r]
            # in range iff the bits from b - 1 up are all equal (a sign extension): a few LUTs
            # instead of two comparisons at the end of the adder's carry chain
            top = total[b - 1:]
            out_of_range = (top != 0) & (top != (1 << len(top)) - 1)
            if self._saturate:
                reduced = Mux(out_of_range, Mux(total[-1], lo, hi), total[:b].as_signed())
            else:
                reduced = total[:b].as_signed()
            event = self.nonzero[r] & out_of_range
            event_bits.append(event)
            with m.If(self.en):
                m.d.sync += [
                    self.acc[r].eq(Mux(self.nonzero[r], reduced, base)),
                    self.overflow[r].eq(Mux(self.first, 0, self.overflow[r]) | event),
                ]
        m.d.comb += self.events.eq(Mux(self.en, Cat(*event_bits), 0))
        return m

