"""Requantization of an accumulator to int8, exactly as ``docs/semantics.md`` states.

``p = acc * multiplier`` is built from shifted copies of ``acc`` selected by the multiplier's
bits and summed in a balanced tree (a shift-and-add multiplier), so the design's only
multipliers are the int8 baseline's lanes, which is what the area comparison measures. The two
halves, :func:`requant_product` and :func:`requant_round`, are separate so that the shared
requantizer of the output stage (``ternhw.hdl.output_stage``) can put a register between them.
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


def product_bits(acc_bits: int) -> int:
    """Signed width of ``acc * multiplier``, wide enough for a shift past its top bit."""
    return max(acc_bits + REQUANT_MULT_BITS, REQUANT_MAX_SHIFT) + 1


def requant_product(m: Module, acc, multiplier, acc_bits: int) -> Signal:
    """``acc * multiplier`` as a balanced shift-and-add tree (no ``$mul``)."""
    prod = Signal(signed(product_bits(acc_bits)))
    partials = [Mux(multiplier[i], acc << i, 0) for i in range(REQUANT_MULT_BITS)]
    m.d.comb += prod.eq(balanced_sum(partials))
    return prod


def requant_round(m: Module, prod, shift, relu, *, fault: str | None = None):
    """``(out, saturated)``: round ``prod / 2**shift`` half away from zero, clamp to int8 (or
    ``[0, 127]`` with ``relu``; a ReLU clamp is not a saturation)."""
    width = len(prod)
    mask = Signal(unsigned(width))
    m.d.comb += mask.eq((Const(1, unsigned(width + 1)) << shift) - 1)
    remainder = prod.as_unsigned() & mask
    threshold = (mask >> 1) + (0 if fault == "requant_round" else (prod < 0))
    q = Signal(signed(width + 1))
    m.d.comb += q.eq((prod >> shift) + (remainder > threshold))
    lo = Mux(relu, 0, OUT_MIN)
    out = Mux(q > OUT_MAX, OUT_MAX, Mux(q < lo, lo, q))
    saturated = (q > OUT_MAX) | (~relu & (q < OUT_MIN))
    return out, saturated


class Requantizer(wiring.Component):
    """Combinational ``out = clamp(round_half_away(acc * multiplier / 2**shift), lo, 127)``.

    Members
    -------
    acc : In(signed(acc_bits))
    multiplier : In(16)
    shift : In(6)
        0 to 47; the accelerator refuses a command with a larger shift.
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
        prod = requant_product(m, self.acc, self.multiplier, self._acc_bits)
        out, saturated = requant_round(m, prod, self.shift, self.relu, fault=self._fault)
        m.d.comb += [self.out.eq(out), self.saturated.eq(saturated)]
        return m
