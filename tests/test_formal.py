"""SymbiYosys proofs of the RTL (``ternhw.formal``), run with pip-installed tools only.

The fast proofs (requantizer arithmetic, accumulator rule, stream protocol at a short depth)
run by default, about 40 s together; the deeper bounded checks are ``slow``. Every proof is
also run once against an injected fault (``ternhw.hdl.faults``) or checked to fail where the
design is known to break the property, so a passing proof is known to be able to fail.
``docs/verification.md`` lists each property with its config, engine, depth and run time.
"""

from __future__ import annotations

import random

import pytest

pytest.importorskip("z3", reason="the formal proofs need z3-solver (the dev extra)")

from amaranth import Module, Signal, signed, unsigned  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from ternhw.formal import (  # noqa: E402
    AccumulatorRule,
    BoundedLiveness,
    CounterConsistency,
    OutputStageScoreboard,
    RequantEquivalence,
    RequantProductLemma,
    RequantRoundLemma,
    StreamProtocol,
    run_sby,
)
from ternhw.formal.liveness import expected_cycles  # noqa: E402
from ternhw.formal.spec import spec_reduce, spec_requant  # noqa: E402
from ternhw.model.contract import Requant  # noqa: E402
from ternhw.model.reference import reduce as ref_reduce  # noqa: E402
from ternhw.model.reference import requantize  # noqa: E402


def check(result):
    assert result.passed, f"{result.summary()}\n{result.log_tail}"


# ---- the spec is the golden model ---------------------------------------------------------

def test_spec_requant_matches_golden_model():
    """The Amaranth spec of the proofs agrees with ``ternhw.model.reference.requantize`` (by
    simulation), so 'RTL == spec' proven formally means 'RTL == golden model'."""
    acc, mult, shift, relu = Signal(signed(12)), Signal(unsigned(16)), Signal(6), Signal()
    out, sat = spec_requant(acc, mult, shift, relu)
    m = Module()
    o, s = Signal(signed(8)), Signal()
    m.d.comb += [o.eq(out), s.eq(sat)]
    rng = random.Random(13)
    cases = [(a, mu, sh, r) for a in (-2048, -1, 0, 1, 2047) for mu in (1, 3, 65535)
             for sh in (0, 1, 2, 16, 47) for r in (0, 1)]
    cases += [(rng.randrange(-2048, 2048), rng.randrange(1, 1 << 16), rng.randrange(0, 48),
               rng.randrange(2)) for _ in range(300)]
    # rounding ties of both signs
    cases += [(a, 1, 1, 0) for a in range(-9, 10)] + [(a, 3, 2, 1) for a in range(-9, 10)]
    sim = Simulator(m)

    async def bench(ctx):
        for a, mu, sh, r in cases:
            ctx.set(acc, a)
            ctx.set(mult, mu)
            ctx.set(shift, sh)
            ctx.set(relu, r)
            want = requantize(a, Requant(mu, sh, bool(r)))
            assert (ctx.get(o), bool(ctx.get(s))) == want, (a, mu, sh, r)

    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_spec_reduce_matches_golden_model(overflow):
    from ternhw.config import AcceleratorConfig

    cfg = AcceleratorConfig(act_bits=2, acc_bits=8, overflow=overflow)
    v = Signal(signed(12))
    red, oor = spec_reduce(v, 8, overflow)
    m = Module()
    r_, o_ = Signal(signed(8)), Signal()
    m.d.comb += [r_.eq(red), o_.eq(oor)]
    sim = Simulator(m)

    async def bench(ctx):
        for x in range(-2048, 2048, 7):
            ctx.set(v, x)
            assert (ctx.get(r_), bool(ctx.get(o_))) == ref_reduce(x, cfg), x

    sim.add_testbench(bench)
    sim.run()


def test_liveness_table_is_the_cycle_model():
    """The liveness proof's expected counts are ``gemm_cycles``' (spot check of the table)."""
    from ternhw.formal.harness import DIM_LIMITS, FORMAL_CONFIG
    from ternhw.model.cycles import gemm_cycles

    table = expected_cycles(FORMAL_CONFIG, DIM_LIMITS)
    assert table[(1, 1, 1, 0, 0)][0] == gemm_cycles(FORMAL_CONFIG, 1, 1, 1).total
    assert (3, 6, 1, 0, 0) not in table        # M x T = 9 > act_buffer_depth: not runnable
    assert len(table) > 100


# ---- fast proofs (default run) ------------------------------------------------------------

def test_requant_round_and_clamp_all_products():
    check(run_sby(RequantRoundLemma(), "rq_round", mode="bmc", depth=1, timeout=300))


def test_requant_round_proof_catches_fault():
    r = run_sby(RequantRoundLemma(fault="requant_round"), "rq_round_fault", mode="bmc",
                depth=1, timeout=300)
    assert r.status == "FAIL", r.summary()


def test_requant_product_all_multipliers():
    check(run_sby(RequantProductLemma(), "rq_product", mode="bmc", depth=1, timeout=300))


def test_requantizer_equals_spec_narrow_multiplier():
    """End to end through the ``Requantizer`` component: every 8-bit accumulator, shift and
    ReLU, multipliers below 16 (all 16 bits: the two lemmas, or the slow test)."""
    check(run_sby(RequantEquivalence(acc_bits=8, max_multiplier_bits=4), "rq_e2e",
                  mode="bmc", depth=1, timeout=300))


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_accumulator_rule_inductive(overflow):
    check(run_sby(AccumulatorRule(overflow=overflow), f"acc_{overflow}", mode="prove",
                  depth=2, timeout=300))


def test_accumulator_proof_catches_fault():
    r = run_sby(AccumulatorRule(fault="acc_short"), "acc_fault", mode="prove", depth=2,
                timeout=300)
    assert r.status == "FAIL", r.summary()


def test_stream_protocol_short():
    """The clock-by-clock stream rules over every command/stream sequence of 14 clocks (long
    enough for a command to load, compute, stall and send its first result); the word
    counts at ``done`` need deeper runs (``test_stream_protocol_deep``)."""
    check(run_sby(StreamProtocol(counts=False), "proto_short", mode="bmc", depth=14,
                  timeout=300))


# ---- slow proofs ------------------------------------------------------------------------

@pytest.mark.slow
def test_stream_protocol_deep():
    check(run_sby(StreamProtocol(), "proto_deep", mode="bmc", depth=30, timeout=900))


@pytest.mark.slow
def test_stream_protocol_holds_for_aborted_commands():
    """A command aborted mid-run (activations beyond ``act_buffer_depth``) drains its issued
    steps before ``done``, so nothing leaves ``o_res`` while the accelerator is idle (the proof
    that found the leak, when an abort went straight to ``done``: docs/verification.md)."""
    check(run_sby(StreamProtocol(fitting_only=False), "proto_abort", mode="bmc", depth=18,
                  timeout=900))


@pytest.mark.slow
def test_requantizer_equals_spec_8bit_multiplier():
    check(run_sby(RequantEquivalence(acc_bits=8, max_multiplier_bits=8), "rq_e2e8",
                  mode="bmc", depth=1, timeout=1800))


@pytest.mark.slow
def test_output_stage_pipeline_scoreboard():
    check(run_sby(OutputStageScoreboard(), "os_scoreboard", mode="bmc", depth=12,
                  timeout=1800))


@pytest.mark.slow
def test_counters_consistent():
    check(run_sby(CounterConsistency(dim_limits={"m": 2, "k": 4, "n": 2}), "counters",
                  mode="bmc", depth=19, timeout=1800))


@pytest.mark.slow
def test_bounded_liveness_matches_cycle_model():
    check(run_sby(BoundedLiveness(), "liveness", mode="bmc", depth=29, timeout=1800))
