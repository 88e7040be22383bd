"""The Amaranth components under Amaranth's simulator, checked against ternhw.model."""

import itertools
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from ternhw.config import AcceleratorConfig, load_config
from ternhw.formats.base3 import decode_base3_byte
from ternhw.hdl import (
    AccumulatorBank,
    Base3ByteDecoder,
    MacArray,
    Requantizer,
    TernaryLane,
    WeightDecoder,
)
from ternhw.hdl.transactions import build_transaction, decode_results, weight_word
from ternhw.model import Requant, reference
from ternhw.model.cycles import gemm_cycles
from ternhw.model.timing import simulate_command, stream_arrivals

sys.path.insert(0, str(Path(__file__).parent))
from amaranth_bench import run_transaction, run_transactions  # noqa: E402


def run_comb(dut, bench):
    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()


def test_ternary_lane_exhaustive():
    dut = TernaryLane(act_bits=4)

    async def bench(ctx):
        for a, t in itertools.product(range(-8, 8), (-1, 0, 1)):
            ctx.set(dut.act, a)
            ctx.set(dut.trit, t)
            assert ctx.get(dut.product) + ctx.get(dut.negate) == a * t, (a, t)
            assert ctx.get(dut.gated) == (t == 0)
    run_comb(dut, bench)


def test_base3_byte_decoder_all_bytes():
    dut = Base3ByteDecoder()

    async def bench(ctx):
        for b in range(256):
            ctx.set(dut.byte, b)
            got = tuple(ctx.get(dut.trits[i]) for i in range(5))
            assert got == (decode_base3_byte(b) if b < 243 else (0,) * 5), b
    run_comb(dut, bench)


@pytest.mark.parametrize("fmt", ["2bit", "base3", "int8"])
def test_weight_decoder_matches_packing(fmt):
    rows, cols = 3, 4
    cfg = AcceleratorConfig(rows=rows, cols=cols, weight_format=fmt,
                            weight_bits=8 if fmt == "int8" else 1.58, acc_bits=24)
    dut = WeightDecoder(n=rows * cols, fmt=fmt)
    rng = np.random.default_rng(1)

    async def bench(ctx):
        for _ in range(20):
            lo, hi = (-128, 127) if fmt == "int8" else (-1, 1)
            block = rng.integers(lo, hi + 1, size=(rows, cols))
            ctx.set(dut.word, weight_word(cfg, block))
            got = [ctx.get(dut.weights[i]) for i in range(rows * cols)]
            assert got == block.reshape(-1).tolist()
    run_comb(dut, bench)


def test_mac_array_chunk_sums():
    dut = MacArray(rows=3, cols=5, act_bits=8)
    rng = np.random.default_rng(2)

    async def bench(ctx):
        for _ in range(30):
            x = rng.integers(-128, 128, size=5)
            w = rng.integers(-1, 2, size=(3, 5))
            w[rng.integers(0, 3)] = 0      # some rows all zero
            for c in range(5):
                ctx.set(dut.acts[c], int(x[c]))
            for i, v in enumerate(w.reshape(-1)):
                ctx.set(dut.weights[i], int(v))
            for r in range(3):
                assert ctx.get(dut.sums[r]) == int(w[r] @ x)
                assert (ctx.get(dut.nonzero) >> r) & 1 == int(w[r].any())
            assert bin(ctx.get(dut.gated)).count("1") == int((w == 0).sum())
    run_comb(dut, bench)


@pytest.mark.parametrize("acc_bits", [8, 16, 24, 32])
def test_requantizer_matches_reference(acc_bits):
    dut = Requantizer(acc_bits=acc_bits)
    rnd = random.Random(acc_bits)
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    cases = [(lo, 65535, 0, False), (hi, 65535, 47, False), (-3, 1, 1, False), (3, 1, 1, False),
             (-5, 1, 1, True), (hi, 1, 0, True), (lo, 1, 0, True), (0, 1, 47, False)]
    cases += [(rnd.randint(lo, hi), rnd.randint(1, 65535), rnd.randint(0, 47),
               rnd.random() < 0.3) for _ in range(300)]
    # every value around the clamp bounds (127, -128, 0), where rounding up crosses a bound
    cases += [(acc, 1, shift, relu) for shift in (0, 1, 2) for relu in (False, True)
              for bound in (127, -128, 0) for acc in range((bound << shift) - 6,
                                                            (bound << shift) + 7)
              if lo <= acc <= hi]

    async def bench(ctx):
        for acc, mult, shift, relu in cases:
            ctx.set(dut.acc, acc)
            ctx.set(dut.multiplier, mult)
            ctx.set(dut.shift, shift)
            ctx.set(dut.relu, relu)
            want = reference.requantize(acc, Requant(mult, shift, relu))
            assert (ctx.get(dut.out), ctx.get(dut.saturated)) == (want[0], int(want[1])), \
                (acc, mult, shift, relu)
    run_comb(dut, bench)


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_accumulator_bank_overflow_rule(overflow):
    cfg = AcceleratorConfig(rows=2, cols=2, act_bits=7, acc_bits=8, overflow=overflow)
    dut = AccumulatorBank(rows=2, tree_bits=cfg.tree_bits, acc_bits=8, overflow=overflow)
    rng = np.random.default_rng(3)

    async def bench(ctx):
        model = [0, 0]
        for step in range(200):
            first = step % 5 == 0
            sums = rng.integers(-128, 128, size=2)
            nonzero = rng.integers(0, 2, size=2)
            bias = rng.integers(-128, 128, size=2)
            ctx.set(dut.en, 1)
            ctx.set(dut.first, int(first))
            ctx.set(dut.nonzero, int(nonzero[0] | nonzero[1] << 1))
            events = 0
            for r in range(2):
                ctx.set(dut.sums[r], int(sums[r]))
                ctx.set(dut.bias[r], int(bias[r]))
                base = int(bias[r]) if first else model[r]
                if nonzero[r]:
                    model[r], ovf = reference.reduce(base + int(sums[r]), cfg)
                    events |= int(ovf) << r
                else:
                    model[r] = base
            assert ctx.get(dut.events) == events
            await ctx.tick()
            assert [ctx.get(dut.acc[r]) for r in range(2)] == model

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


# ---- the whole accelerator: tiling, outputs, cycles and counters vs the model --------------

SMALL_2BIT = load_config("small").replace(name="small2", weight_format="2bit",
                                          overflow="saturate")
INT8_TINY = AcceleratorConfig(name="int8tiny", rows=3, cols=2, weight_bits=8,
                              weight_format="int8", acc_bits=20, weight_buffer_depth=32,
                              act_buffer_depth=64)


def operands(cfg, M, K, N, *, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(cfg.act_min, cfg.act_max + 1, size=(M, K))
    lo, hi = (-1, 1) if cfg.is_ternary else (-128, 127)
    w = rng.integers(lo, hi + 1, size=(N, K))
    b = rng.integers(-2000, 2000, size=N) if bias else None
    return x, w, b


def check_result(cfg, res, x, w, b, requant):
    M, N = x.shape[0], w.shape[0]
    values, overflow, saturated = decode_results(cfg, res.words, M, N)
    ref = reference.gemm(cfg, x, w, b, requant)
    np.testing.assert_array_equal(values, ref.out)
    np.testing.assert_array_equal(overflow, ref.overflow)
    np.testing.assert_array_equal(saturated, ref.saturated)
    st = res.status
    assert res.cycles == st["cycles"]
    assert st["busy_cycles"] == ref.events.array_steps
    assert st["zero_skips"] == ref.events.lane_skip
    assert st["overflow_events"] == ref.events.overflow_events
    assert st["error"] == 0
    return ref


def check_gemm(cfg, M, K, N, *, bias, requant, seed, p_valid=1.0, p_ready=1.0, x=None, w=None):
    x0, w0, b = operands(cfg, M, K, N, bias=bias, seed=seed)
    x = x0 if x is None else x
    w = w0 if w is None else w
    tx = build_transaction(cfg, x, w, b, requant)
    res = run_transaction(cfg, tx, seed=seed, p_valid=p_valid, p_ready=p_ready)
    ref = check_result(cfg, res, x, w, b, requant)
    model = gemm_cycles(cfg, M, K, N, bias=bias)
    if p_valid == 1.0 and p_ready == 1.0:
        # full-rate streams: every cycle is predicted, and so are the waits
        assert res.cycles == model.total
        assert res.status["stall_cycles"] == model.wait
    else:
        assert res.cycles >= model.total
    return ref


@pytest.mark.parametrize("cfg", [load_config("small"), SMALL_2BIT, INT8_TINY],
                         ids=lambda c: c.name)
@pytest.mark.parametrize("M, K, N", [(1, 1, 1), (1, 4, 4), (2, 5, 6), (3, 13, 9), (2, 8, 8)])
def test_accelerator_tiling_and_cycles(cfg, M, K, N):
    check_gemm(cfg, M, K, N, bias=(K % 2 == 1), requant=Requant(700, 9) if N > 4 else None,
               seed=M * 100 + K * 10 + N)


def test_accelerator_back_pressure_and_gaps():
    for seed in range(4):
        check_gemm(SMALL_2BIT, 3, 7 + seed, 6, bias=bool(seed % 2),
                   requant=Requant(5000, 14, relu=seed == 2), seed=seed, p_valid=0.6,
                   p_ready=0.35)


@pytest.mark.parametrize("bytes_per_clock, latency", [(0.5, 0), (1.5, 3), (0.3, 7)])
def test_stalls_predicted_for_a_throttled_weight_stream(bytes_per_clock, latency):
    """Weights arrive at a memory bandwidth below one word per clock: the cycle-level model,
    given the same arrival cycles, predicts every cycle and every stall of the RTL."""
    cfg = SMALL_2BIT.replace(weight_buffer_depth=8)         # a ring of two 4-word tiles
    M, K, N = 2, 13, 10
    x, w, b = operands(cfg, M, K, N, bias=True, seed=5)
    tx = build_transaction(cfg, x, w, b, Requant(300, 8))
    arr = {"wgt": stream_arrivals(len(tx.weight_words), cfg.weight_word_bits,
                                  bytes_per_clock, latency)}
    res = run_transaction(cfg, tx, arrivals=arr)
    check_result(cfg, res, x, w, b, Requant(300, 8))
    want = simulate_command(cfg, M, K, N, bias=True, wgt_arrivals=arr["wgt"])
    assert (res.cycles, res.status["stall_cycles"], res.status["hold_cycles"]) == (
        want.cycles, want.stall_cycles, want.hold_cycles)
    assert want.stall_cycles > gemm_cycles(cfg, M, K, N, bias=True).wait


def test_resident_weights_are_reused_without_reloading():
    cfg = SMALL_2BIT.replace(weight_buffer_depth=16)
    M, K, N = 3, 13, 14                              # 4 tiles x 4 words = 16: fits exactly
    xs = [operands(cfg, M, K, N, bias=True, seed=s) for s in range(3)]
    w, b = xs[0][1], xs[0][2]
    rq = Requant(900, 10)
    txs = [build_transaction(cfg, x, w, b, rq, resident=True, keep_weights=i > 0)
           for i, (x, _, _) in enumerate(xs)]
    assert txs[1].weight_words == [] and len(txs[0].weight_words) == 16
    results = run_transactions(cfg, txs)
    for (x, _, _), res, tx in zip(xs, results, txs, strict=True):
        check_result(cfg, res, x, w, b, rq)
        model = gemm_cycles(cfg, M, K, N, bias=True, resident=True,
                            keep_weights=tx.keep_weights)
        assert res.cycles == model.total


def test_commands_that_do_not_fit_end_with_error():
    cfg = SMALL_2BIT.replace(weight_buffer_depth=8)
    x, w, b = operands(cfg, 2, 12, 12, bias=False, seed=1)    # 3 tiles x 3 words > 8
    bad = [build_transaction(cfg, x, w, resident=True),
           build_transaction(cfg, x, w, keep_weights=True),   # nothing resident
           build_transaction(cfg, *operands(cfg, 1, 40, 4, bias=False, seed=2)[:2])]  # T > 8
    # what comes out before done are the correct results of tiles that finished before the
    # abort (the pipeline drains); a run with room for the matrix gives them all
    full = run_transaction(cfg.replace(weight_buffer_depth=64),
                           build_transaction(cfg, x, w, resident=True))
    for tx, finished in zip(bad, (full.words[:2], [], []), strict=True):
        res = run_transaction(cfg, tx)
        assert res.status["error"] == 1 and res.words == finished


def test_requant_shift_beyond_the_contract_is_an_error():
    cfg = SMALL_2BIT
    x, w, _ = operands(cfg, 1, 4, 4, bias=False, seed=3)
    tx = build_transaction(cfg, x, w, requant=Requant(1, 47))
    tx.requant = type("R", (), {"multiplier": 1, "shift": 50, "relu": False})()
    res = run_transaction(cfg, tx)
    assert res.status["error"] == 1 and res.words == []


def test_accelerator_overflow_both_modes():
    x = np.full((2, 12), 127)
    x[1] = -128
    w = np.ones((5, 12), dtype=int)
    for overflow in ("wrap", "saturate"):
        cfg = load_config("small").replace(acc_bits=10, overflow=overflow)
        ref = check_gemm(cfg, 2, 12, 5, bias=False, requant=None, seed=0, x=x, w=w)
        assert ref.events.overflow_events > 0


def test_accelerator_refuses_oversized_command():
    cfg = load_config("small").replace(act_buffer_depth=4)
    tx = build_transaction(cfg, np.ones((3, 8), int), np.ones((4, 8), int))
    res = run_transaction(cfg, tx)
    # M x T = 6 words > 4: the fifth activation word aborts the command; the two tokens that
    # finished before drain out before done (with error set, the host discards them)
    assert res.status["error"] == 1 and len(res.words) == 2


def test_cycle_model_by_hand():
    cfg = load_config("small")            # 4x4, one requantizer: G = 4
    c = gemm_cycles(cfg, 3, 13, 9, bias=True)
    # T = 4, NT = 3: first step in cycle 1, 36 steps back to back, then 4 array registers,
    # hand-off, 4 feeds, 4 requantizer registers, output word, output register, empty check,
    # done
    assert (c.compute, c.wait) == (36, 1)
    assert c.total == 36 + 4 + 4 + 9 + 1


def test_timing_diagram_of_the_docs():
    cfg = load_config("small").replace(requant_lanes=2)     # docs/microarchitecture.md
    assert gemm_cycles(cfg, 2, 8, 8).total == simulate_command(cfg, 2, 8, 8).cycles == 24


@pytest.mark.parametrize("cfg", [load_config("small"), load_config("default"),
                                 load_config("small").replace(weight_buffer_depth=9,
                                                              requant_lanes=2)],
                         ids=["small", "default", "small-ring9"])
def test_closed_form_equals_the_cycle_level_model(cfg):
    """Wherever the closed form claims to apply, it agrees with stepping the registers."""
    rng = random.Random(7)
    checked = 0
    for _ in range(150):
        M = rng.randint(1, 6)
        K = rng.randint(1, 6 * cfg.cols)
        N = rng.randint(1, 8 * cfg.rows)
        bias = rng.random() < 0.5
        T = -(-K // cfg.cols)
        if M * T > cfg.act_buffer_depth or T > cfg.weight_buffer_depth:
            continue
        resident = -(-N // cfg.rows) * T <= cfg.weight_buffer_depth and rng.random() < 0.5
        fast = gemm_cycles(cfg, M, K, N, bias, resident=resident)
        slow = simulate_command(cfg, M, K, N, bias=bias, resident=resident)
        assert (fast.total, fast.wait, fast.hold) == (
            slow.cycles, slow.stall_cycles, slow.hold_cycles), (M, K, N, bias)
        checked += 1
    assert checked > 100


def test_decode_utilization_at_least_95_percent():
    """M = 1 with one weight word per clock: the next tile streams in while this one computes."""
    cfg = load_config("default")
    for k, n in ((384, 384), (384, 1536), (1536, 384), (2560, 2560), (2560, 6912),
                 (6912, 2560)):
        assert gemm_cycles(cfg, 1, k, n).utilization >= 0.95, (k, n)
