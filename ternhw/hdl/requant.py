"""Requantization of an accumulator to int8, exactly as ``docs/semantics.md`` states.

``p = acc * multiplier`` is built from shifted copies of ``acc`` selected by the multiplier's
bits and summed in a balanced tree (a shift-and-add multiplier): the design's only multipliers
are then the int8 baseline's lanes, which is what the area comparison measures.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..model.contract import OUT_MAX, OUT_MIN, REQUANT_MAX_SHIFT, REQUANT_MULT_BITS
from ._checks import check_int
from .adder_tree import balanced_sum
from .faults import check_fault

SHIFT_BITS = REQUANT_MAX_SHIFT.bit_length()


class Requantizer(wiring.Component):
    """Combinational ``out = clamp(round_half_away(acc * multiplier / 2**shift), lo, 127)``.

    Members
    -------
    acc : In(signed(acc_bits))
    multiplier : In(16)
    shift : In(6)
        0 to 47; larger values behave as 47 would not: the caller keeps it in range.
    relu : In(1)
        Clamp below at 0 instead of -128 (not counted as saturation).
    out : Out(signed(8))
    saturated : Out(1)
    """

    def __init__(self, *, acc_bits: int, fault: str | None = None):
        self._acc_bits = check_int("acc_bits", acc_bits, 8, 32)
        self._fault = check_fault(fault)
        super().__init__({
            "acc": In(signed(acc_bits)),
            "multiplier": In(unsigned(REQUANT_MULT_BITS)),
            "shift": In(unsigned(SHIFT_BITS)),
            "relu": In(1),
            "out": Out(signed(8)),
            "saturated": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        # wide enough for the exact product and for a shift past its top bit
        width = max(self._acc_bits + REQUANT_MULT_BITS, REQUANT_MAX_SHIFT) + 1
        prod = Signal(signed(width))
        partials = [Mux(self.multiplier[i], self.acc << i, 0) for i in range(REQUANT_MULT_BITS)]
        mask = Signal(unsigned(width))
        m.d.comb += [
            prod.eq(balanced_sum(partials)),
            mask.eq((Const(1, unsigned(width + 1)) << self.shift) - 1),
        ]
        remainder = prod.as_unsigned() & mask
        threshold = (mask >> 1) + (0 if self._fault == "requant_round" else (prod < 0))
        q = Signal(signed(width + 1))
        m.d.comb += q.eq((prod >> self.shift) + (remainder > threshold))
        lo = Mux(self.relu, 0, OUT_MIN)
        m.d.comb += [
            self.out.eq(Mux(q > OUT_MAX, OUT_MAX, Mux(q < lo, lo, q))),
            self.saturated.eq((q > OUT_MAX) | (~self.relu & (q < OUT_MIN))),
        ]
        return m
