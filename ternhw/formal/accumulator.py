"""Accumulator proofs: the wrap / saturate rule and the overflow flags of ``docs/semantics.md``.

:class:`AccumulatorRule` runs :class:`ternhw.hdl.accumulator.AccumulatorBank` beside a shadow
model written with :func:`ternhw.formal.spec.spec_reduce` (range comparisons and the modular
formula, not the RTL's top-bit test) and asserts, every clock, that the accumulators and the
per-row overflow flags equal the model's and that ``events`` flags this clock's overflow
events. Every input is free each clock (``en``, ``first``, chunk sums of ``tree_bits`` bits —
wider than the accumulator, so every overflow is reachable — ``nonzero``, bias). The property
is inductive (1-step: the shadow copies the state), so ``prove`` mode closes it for all time.
"""

from __future__ import annotations

from amaranth import Cat, Elaboratable, Module, Mux, ResetSignal, Signal, signed
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume

from ..hdl.accumulator import AccumulatorBank
from .spec import spec_reduce


class AccumulatorRule(Elaboratable):
    """``AccumulatorBank`` == the contract's accumulation rule, for all input sequences."""

    def __init__(self, *, rows: int = 2, tree_bits: int = 10, acc_bits: int = 8,
                 overflow: str = "wrap", fault: str | None = None):
        self.rows, self.tree_bits, self.acc_bits = rows, tree_bits, acc_bits
        self.overflow, self.fault = overflow, fault

    def elaborate(self, platform):
        m = Module()
        R, ab = self.rows, self.acc_bits
        m.submodules.dut = dut = AccumulatorBank(rows=R, tree_bits=self.tree_bits, acc_bits=ab,
                                                 overflow=self.overflow, fault=self.fault)
        m.d.comb += Assume(~ResetSignal("sync"))
        en, first, nonzero = AnySeq(1), AnySeq(1), AnySeq(R)
        m.d.comb += [dut.en.eq(en), dut.first.eq(first), dut.nonzero.eq(nonzero)]
        for r in range(R):
            m.d.comb += [dut.sums[r].eq(AnySeq(signed(self.tree_bits))),
                         dut.bias[r].eq(AnySeq(signed(ab)))]
        model = [Signal(signed(ab), name=f"model_acc{r}") for r in range(R)]
        model_ovf = Signal(R)
        events = []
        for r in range(R):
            base = Signal(signed(ab), name=f"base{r}")
            m.d.comb += base.eq(Mux(first, dut.bias[r], model[r]))
            reduced, out_of_range = spec_reduce(base + dut.sums[r], ab, self.overflow)
            event = nonzero[r] & out_of_range
            events.append(event)
            with m.If(en):
                m.d.sync += [model[r].eq(Mux(nonzero[r], reduced, base)),
                             model_ovf[r].eq(Mux(first, 0, model_ovf[r]) | event)]
            m.d.comb += Assert(dut.acc[r] == model[r])
        m.d.comb += Assert(dut.overflow == model_ovf)
        m.d.comb += Assert(dut.events == Mux(en, Cat(*events), 0))
        return m
