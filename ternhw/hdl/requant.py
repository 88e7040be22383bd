"""Requantization of an accumulator to int8, exactly as ``docs/semantics.md`` states.

``p = acc * multiplier`` is built from shifted copies of ``acc`` selected by the multiplier's
bits and summed in a balanced tree (a shift-and-add multiplier), so the design's only
multipliers are the int8 baseline's lanes, which is what the area comparison measures. The
steps (partial sums, their sum, shift and round decision, clamp) are separate functions so that
the shared requantizer of the output stage (``ternhw.hdl.output_stage``) can put a register
between each; :class:`Requantizer` chains them combinationally.
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


#: partial sums of the shift-and-add product registered in the first of its two stages
PRODUCT_SPLIT = 4


def requant_partials(acc, multiplier, acc_bits: int) -> list:
    """The first half of ``acc * multiplier``: ``PRODUCT_SPLIT`` sums of shifted copies of
    ``acc`` selected by the multiplier's bits (a shift-and-add multiplier: no ``$mul``)."""
    width = product_bits(acc_bits)
    terms = [Mux(multiplier[i], acc << i, 0) for i in range(REQUANT_MULT_BITS)]
    per = -(-len(terms) // PRODUCT_SPLIT)
    return [balanced_sum(terms[i:i + per]).as_signed()[:width].as_signed()
            for i in range(0, len(terms), per)]


def round_constants(shift, width: int, *, fault: str | None = None) -> tuple:
    """``(mask, half, half_neg)`` for rounding by ``shift``: the remainder mask ``2**shift - 1``
    and the thresholds a remainder must exceed to round away from zero (positive, negative
    values). They depend on the command's shift only, so the output stage registers them."""
    mask = ((Const(1, unsigned(width + 1)) << shift) - 1)[:width]
    half = mask >> 1
    return mask, half, half + (0 if fault == "requant_round" else 1)


def requant_shift(prod, shift, mask, half, half_neg) -> tuple:
    """``(shifted, up)``: ``prod >> shift`` (floor) and whether rounding half away from zero
    adds one to it."""
    remainder = prod.as_unsigned() & mask
    up = Mux(prod < 0, remainder > half_neg, remainder > half)
    return prod >> shift, up


def requant_clamp(shifted, up, relu) -> tuple:
    """``(out, saturated)``: ``q = shifted + up`` clamped to int8 (or ``[0, 127]`` with ``relu``;
    a ReLU clamp is not a saturation).

    The range checks look at the bits of ``shifted`` (bits 7 and up all zero: 0..127; all ones:
    -128..-1) and treat the few values where ``up`` crosses a bound one by one, so no wide
    increment or comparison sits in front of the clamp; only the 8 result bits are added."""
    upper, low7 = shifted[7:], shifted[:7]
    ones = (1 << len(upper)) - 1
    neg = shifted[-1]
    upper_zero, upper_ones = upper == 0, upper == ones
    low_max = low7 == 0x7F
    over = (~neg & ~upper_zero) | (upper_zero & low_max & up)             # q > 127
    under_int8 = (neg & ~upper_ones) & ~((upper == ones - 1) & low_max & up)  # q < -128
    under_zero = neg & ~(upper_ones & low_max & up)                        # q < 0
    q8 = (shifted[:8] + up)[:8].as_signed()
    under = Mux(relu, under_zero, under_int8)
    out = Mux(over, OUT_MAX, Mux(under, Mux(relu, 0, OUT_MIN), q8))
    saturated = over | (~relu & under_int8)
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
        width = product_bits(self._acc_bits)
        prod = Signal(signed(width))
        m.d.comb += prod.eq(balanced_sum(requant_partials(self.acc, self.multiplier,
                                                          self._acc_bits)))
        consts = round_constants(self.shift, width, fault=self._fault)
        shifted, up = requant_shift(prod, self.shift, *consts)
        out, saturated = requant_clamp(shifted, up, self.relu)
        m.d.comb += [self.out.eq(out), self.saturated.eq(saturated)]
        return m
