"""Requantization proofs: the RTL's requantizer equals the contract for every input.

Two harnesses:

* :class:`RequantEquivalence` — the combinational :class:`ternhw.hdl.requant.Requantizer`
  against :func:`ternhw.formal.spec.spec_requant` for *every* accumulator of ``acc_bits``
  bits, every 16-bit multiplier, every shift 0-47 and both ReLU settings (one BMC step of a
  combinational circuit is a complete proof).
* :class:`OutputStageScoreboard` — the shared, pipelined requantizer inside
  :class:`ternhw.hdl.output_stage.OutputStage` (snapshot, ``lanes``-wide feed, four pipeline
  registers, output word, output register), with arbitrary hand-offs and arbitrary output
  back-pressure: the solver picks one token (``AnySeq``) and the harness counts the tokens
  ahead of it, so the word that leaves for it must hold the spec's values of the accumulators
  it was handed, its overflow flags, and the saturation flags. This checks that the pipeline
  keeps tokens in order, never drops, duplicates or mixes groups under stalls, and computes
  the formula; it is bounded (BMC) because an unbounded proof needs invariants that tie every
  pipeline register to the snapshot.
"""

from __future__ import annotations

from amaranth import Elaboratable, Module, Mux, Signal, signed, unsigned
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume

from ..hdl.adder_tree import balanced_sum
from ..hdl.output_stage import OutputStage
from ..hdl.requant import (
    PRODUCT_SPLIT,
    SHIFT_BITS,
    Requantizer,
    product_bits,
    requant_clamp,
    requant_partials,
    requant_shift,
    round_constants,
)
from ..model.contract import OUT_MAX, OUT_MIN, REQUANT_MAX_SHIFT, REQUANT_MULT_BITS
from .spec import spec_requant, spec_round_shift


class RequantEquivalence(Elaboratable):
    """``Requantizer(acc_bits)`` == ``spec_requant`` for all inputs (shift <= 47).

    ``max_multiplier_bits`` narrows the multiplier (its high bits forced to zero) for a quicker
    proof; None leaves all 16 bits free.
    """

    def __init__(self, *, acc_bits: int = 8, max_multiplier_bits: int | None = None,
                 fault: str | None = None):
        self.acc_bits = acc_bits
        self.max_multiplier_bits = max_multiplier_bits
        self.fault = fault

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = Requantizer(acc_bits=self.acc_bits, fault=self.fault)
        acc = AnySeq(signed(self.acc_bits))
        mult = AnySeq(unsigned(REQUANT_MULT_BITS))
        shift = AnySeq(unsigned(SHIFT_BITS))
        relu = AnySeq(1)
        m.d.comb += [dut.acc.eq(acc), dut.multiplier.eq(mult), dut.shift.eq(shift),
                     dut.relu.eq(relu)]
        # the accelerator refuses a larger shift at the command (status.error), so the
        # requantizer never sees one
        m.d.comb += Assume(shift <= REQUANT_MAX_SHIFT)
        if self.max_multiplier_bits is not None:
            m.d.comb += Assume((mult >> self.max_multiplier_bits) == 0)
        out, sat = spec_requant(acc, mult, shift, relu)
        m.d.comb += [Assert(dut.out == out), Assert(dut.saturated == sat)]
        return m


class RequantProductLemma(Elaboratable):
    """The shift-and-add product, split as the RTL splits it, for *all* 16-bit multipliers.

    A full ``acc * multiplier`` equivalence is hard for a SAT solver (different multiplier
    structures), so it is cut where the RTL cuts it: partial ``j`` of
    :func:`ternhw.hdl.requant.requant_partials` must equal ``acc * m_j << o_j``, with ``m_j`` the
    multiplier's bits ``[o_j, o_j + w)``, and their balanced sum the sum of those small
    products. ``sum_j acc * m_j << o_j = acc * multiplier`` is distributivity, so with
    :class:`RequantRoundLemma` this proves ``Requantizer`` equal to the spec for every input.
    """

    def __init__(self, *, acc_bits: int = 8):
        self.acc_bits = acc_bits

    def elaborate(self, platform):
        m = Module()
        ab = self.acc_bits
        acc = AnySeq(signed(ab))
        mult = AnySeq(unsigned(REQUANT_MULT_BITS))
        parts = requant_partials(acc, mult, ab)
        per = -(-REQUANT_MULT_BITS // PRODUCT_SPLIT)
        width = product_bits(ab)
        expect = []
        for j, part in enumerate(parts):
            lo = j * per
            piece = mult[lo:min(lo + per, REQUANT_MULT_BITS)]
            term = Signal(signed(width), name=f"spec_p{j}")
            m.d.comb += [term.eq((acc * piece) << lo), Assert(part == term)]
            expect.append(term)
        total, spec_total = Signal(signed(width)), Signal(signed(width))
        m.d.comb += [total.eq(balanced_sum(parts)), spec_total.eq(sum(expect)),
                     Assert(total == spec_total)]
        return m


class RequantRoundLemma(Elaboratable):
    """Rounding and clamping of the RTL (:func:`round_constants`, :func:`requant_shift`,
    :func:`requant_clamp`) equal :func:`spec_requant`'s for *every* product of the RTL's width,
    every shift 0-47 and both ReLU settings."""

    def __init__(self, *, acc_bits: int = 8, fault: str | None = None):
        self.acc_bits = acc_bits
        self.fault = fault

    def elaborate(self, platform):
        m = Module()
        width = product_bits(self.acc_bits)
        prod = Signal(signed(width))
        shift = AnySeq(unsigned(SHIFT_BITS))
        relu = AnySeq(1)
        m.d.comb += [prod.eq(AnySeq(signed(width))), Assume(shift <= REQUANT_MAX_SHIFT)]
        consts = round_constants(shift, width, fault=self.fault)
        shifted, up = requant_shift(prod, shift, *consts)
        out, sat = requant_clamp(shifted, up, relu)
        q = spec_round_shift(prod, shift)
        lo = Mux(relu, 0, OUT_MIN)
        spec_out = Mux(q > OUT_MAX, OUT_MAX, Mux(q < lo, lo, q))
        spec_sat = (q > OUT_MAX) | (~relu & (q < OUT_MIN))
        m.d.comb += [Assert(out == spec_out), Assert(sat == spec_sat)]
        return m


class OutputStageScoreboard(Elaboratable):
    """One tracked token through :class:`OutputStage`: its output word equals the spec.

    Inputs are free every cycle (hand-offs whenever the stage does not ``hold``, any
    accumulators and overflow flags, any ``o_res.ready``); the command's requantization fields
    are constant (``AnyConst``), as the accelerator latches them on ``start``, and no token
    arrives in the first two cycles, as the accelerator's first token needs at least four.
    """

    def __init__(self, *, rows: int = 2, acc_bits: int = 8, lanes: int = 1,
                 max_multiplier_bits: int | None = 3, fault: str | None = None):
        self.rows, self.acc_bits, self.lanes = rows, acc_bits, lanes
        self.max_multiplier_bits = max_multiplier_bits
        self.fault = fault

    def elaborate(self, platform):
        m = Module()
        R, ab = self.rows, self.acc_bits
        m.submodules.dut = dut = OutputStage(rows=R, acc_bits=ab, lanes=self.lanes,
                                             fault=self.fault)
        mult = AnyConst(unsigned(REQUANT_MULT_BITS))
        shift = AnyConst(unsigned(SHIFT_BITS))
        relu, requant_en = AnyConst(1), AnyConst(1)
        m.d.comb += [dut.multiplier.eq(mult), dut.shift.eq(shift), dut.relu.eq(relu),
                     dut.requant_en.eq(requant_en), Assume(shift <= REQUANT_MAX_SHIFT)]
        if self.max_multiplier_bits is not None:
            # the arithmetic is proven for every multiplier by the lemmas; a narrow one keeps
            # this proof about the pipeline's registers and stalls
            m.d.comb += Assume((mult >> self.max_multiplier_bits) == 0)
        acc_done = AnySeq(1)
        accs = [AnySeq(signed(ab)) for _ in range(R)]
        ovf = AnySeq(R)
        m.d.comb += [dut.acc_done.eq(acc_done), dut.overflow.eq(ovf),
                     dut.o_res.ready.eq(AnySeq(1))]
        m.d.comb += [dut.accs[r].eq(accs[r]) for r in range(R)]

        cycle = Signal(range(4))
        with m.If(cycle != 3):
            m.d.sync += cycle.eq(cycle + 1)
        m.d.comb += Assume((cycle >= 2) | ~acc_done)
        handoff = acc_done & ~dut.hold
        xfer = dut.o_res.valid & dut.o_res.ready
        inflight = Signal(range(16))
        m.d.sync += inflight.eq(inflight + handoff - xfer)
        m.d.comb += Assert(inflight <= 8)

        watch = AnySeq(1)
        armed, checked = Signal(), Signal()
        ahead = Signal(range(16))
        want = [Signal(signed(ab), name=f"want{r}") for r in range(R)]
        want_ovf = Signal(R)
        # the reference: the combinational Requantizer, proven equal to the spec for every
        # input by the lemmas above (comparing the pipeline with the same arithmetic keeps
        # this a question about registers and stalls, which the solver answers quickly)
        refs = []
        for r in range(R):
            ref = Requantizer(acc_bits=ab)
            m.submodules[f"ref{r}"] = ref
            m.d.comb += [ref.acc.eq(want[r]), ref.multiplier.eq(mult), ref.shift.eq(shift),
                         ref.relu.eq(relu)]
            refs.append(ref)
        with m.If(handoff & watch & ~armed & ~checked):
            m.d.sync += [armed.eq(1), ahead.eq(inflight - xfer), want_ovf.eq(ovf)]
            m.d.sync += [w.eq(a) for w, a in zip(want, accs, strict=True)]
        with m.If(armed & xfer):
            with m.If(ahead == 0):
                m.d.sync += [armed.eq(0), checked.eq(1)]
                word = dut.o_res.payload
                m.d.comb += Assert(word.overflow == want_ovf)
                for r in range(R):
                    ref = refs[r]
                    with m.If(requant_en):
                        m.d.comb += [Assert(word.values[r] == ref.out),
                                     Assert(word.saturated[r] == ref.saturated)]
                    with m.Else():
                        m.d.comb += [Assert(word.values[r] == want[r]),
                                     Assert(word.saturated[r] == 0)]
            with m.Else():
                m.d.sync += ahead.eq(ahead - 1)
        return m
