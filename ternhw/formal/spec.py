"""The contract of ``docs/semantics.md`` written as Amaranth expressions, for formal specs.

These are deliberately *not* the RTL's formulas: the RTL multiplies by shift-and-add, rounds with
a remainder mask and two thresholds, and detects overflow from the top bits; the spec uses
Amaranth's ``*``, rounds the magnitude (``(|p| + 2**(s-1)) >> s``, then the sign) and compares
against the range bounds. A proof that the two agree for every input is therefore a real
equivalence check, and ``tests/test_formal.py`` holds these expressions to
``ternhw.model.reference`` (the golden model) by simulation, so the chain is
RTL == spec (formal) and spec == golden model (tested).
"""

from __future__ import annotations

from amaranth import Const, Mux, unsigned

from ..model.contract import OUT_MAX, OUT_MIN, REQUANT_MAX_SHIFT


def spec_round_shift(p, shift):
    """``p / 2**shift`` rounded half away from zero, for ``0 <= shift <= REQUANT_MAX_SHIFT``.

    Rounds the magnitude half up and puts the sign back; ``(1 << shift) >> 1`` is 0 for
    ``shift = 0``, so no case split is needed."""
    p = p.as_signed()
    mag = Mux(p < 0, -p, p).as_unsigned()
    half = (Const(1, unsigned(REQUANT_MAX_SHIFT + 1)) << shift) >> 1
    r = ((mag + half) >> shift).as_signed()
    return Mux(p < 0, -r, r)


def spec_requant(acc, multiplier, shift, relu):
    """``(out, saturated)`` of ``ternhw.model.reference.requantize``: ``out = clamp(round(acc *
    multiplier / 2**shift), lo, 127)`` with ``lo = 0`` under ReLU (not a saturation)."""
    q = spec_round_shift(acc.as_signed() * multiplier.as_unsigned(), shift)
    lo = Mux(relu, 0, OUT_MIN)
    out = Mux(q > OUT_MAX, OUT_MAX, Mux(q < lo, lo, q))
    saturated = (q > OUT_MAX) | (~relu & (q < OUT_MIN))
    return out, saturated


def spec_reduce(value, acc_bits: int, overflow: str):
    """``(reduced, overflowed)`` of ``ternhw.model.reference.reduce``: the overflow rule
    ``wrap`` (two's complement, ``((v + 2**(b-1)) mod 2**b) - 2**(b-1)``) or ``saturate``
    (clamp), with ``overflowed`` the range check of the exact value."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    value = value.as_signed()
    out_of_range = (value < lo) | (value > hi)
    if overflow == "wrap":
        # the low acc_bits of (v + 2**(b-1)) minus 2**(b-1): the modular formula of the contract
        shifted = (value + (1 << (acc_bits - 1)))[:acc_bits].as_unsigned()
        reduced = (shifted - (1 << (acc_bits - 1))).as_signed()
    else:
        reduced = Mux(value > hi, hi, Mux(value < lo, lo, value))
    return reduced, out_of_range

