"""One lane of the MAC array: the only place a weight meets an activation."""

from __future__ import annotations

from amaranth import Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int
from .faults import check_fault


class TernaryLane(wiring.Component):
    """Add, subtract or skip: ``product + negate = +act``, ``-act`` or ``0`` for a trit of +1,
    -1, 0.

    There is no multiplier and no negation: a -1 trit inverts the activation's bits
    (``~act = -act - 1``, the one's complement) and raises ``negate``, the missing ``+1``, which
    the row's adder tree adds once per group of lanes (``MacArray``), so no lane carries an
    incrementer. A zero trit forces the product to zero and raises ``gated`` (the zero-skip),
    which the controller counts.

    Parameters
    ----------
    act_bits : int
        Width of the signed activation.

    Members
    -------
    act : In(signed(act_bits))
    trit : In(signed(2))
        -1, 0 or +1 (the pattern ``-2`` never occurs; it is treated as 0).
    product : Out(signed(act_bits))
        ``act``, ``~act`` or 0.
    negate : Out(1)
        The trit is -1: the exact product is ``product + 1``.
    gated : Out(1)
    """

    def __init__(self, *, act_bits: int, fault: str | None = None):
        self._act_bits = check_int("act_bits", act_bits, 2, 16)
        self._fault = check_fault(fault)
        super().__init__({
            "act": In(signed(act_bits)),
            "trit": In(signed(2)),
            "product": Out(signed(act_bits)),
            "negate": Out(1),
            "gated": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        plus = self.trit == 1
        minus = self.trit == -1
        if self._fault == "minus_as_plus":
            plus, minus = plus | minus, minus & 0
        zero = self.act if self._fault == "no_zero_gate" else 0
        m.d.comb += [
            self.product.eq(Mux(plus, self.act, Mux(minus, ~self.act, zero))),
            self.negate.eq(minus),
            self.gated.eq(~(plus | minus)),
        ]
        return m


class Int8Lane(wiring.Component):
    """The int8 baseline's lane: a real ``act_bits`` x 8 signed multiplier.

    Members
    -------
    act : In(signed(act_bits))
    weight : In(signed(8))
    product : Out(signed(act_bits + 8))
    gated : Out(1)
        Always 0: the baseline multiplies every weight, zero or not.
    """

    def __init__(self, *, act_bits: int):
        self._act_bits = check_int("act_bits", act_bits, 2, 16)
        super().__init__({
            "act": In(signed(act_bits)),
            "weight": In(signed(8)),
            "product": Out(signed(act_bits + 8)),
            "gated": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.product.eq(self.act * self.weight)
        return m
