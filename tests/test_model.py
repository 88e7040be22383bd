"""The fast GEMM against the slow reference, bit for bit, and event counts by hand."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ternhw.config import AcceleratorConfig
from ternhw.errors import TernhwError
from ternhw.model import Requant, WeightMatrix, gemm, reference
from ternhw.model.reference import requantize, rounding_shift, wrap


@st.composite
def gemm_cases(draw):
    int8 = draw(st.integers(0, 4)) == 0
    act_bits = draw(st.integers(2, 16))
    acc_bits = draw(st.integers(max(8, act_bits + 1), 32))
    cfg = AcceleratorConfig(
        rows=draw(st.integers(1, 5)), cols=draw(st.integers(1, 6)), act_bits=act_bits,
        acc_bits=acc_bits, overflow=draw(st.sampled_from(["wrap", "saturate"])),
        weight_format="int8" if int8 else draw(st.sampled_from(["2bit", "base3"])),
        weight_bits=8 if int8 else 1.58)
    M, N, K = draw(st.integers(1, 4)), draw(st.integers(1, 9)), draw(st.integers(1, 17))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    style = draw(st.sampled_from(["random", "extreme", "zeros", "ones", "minus"]))
    if style == "extreme":       # built to overflow: activations at their extremes
        x = rng.choice([cfg.act_min, cfg.act_max], size=(M, K))
    else:
        x = rng.integers(cfg.act_min, cfg.act_max + 1, size=(M, K))
    wlo, whi = (-128, 127) if int8 else (-1, 1)
    w = {"zeros": np.zeros((N, K), int), "ones": np.ones((N, K), int),
         "minus": -np.ones((N, K), int)}.get(style, rng.integers(wlo, whi + 1, size=(N, K)))
    if style == "extreme":
        w = np.sign(x[:1]) * np.ones((N, 1), int) if M else w
    bias = None
    if draw(st.booleans()):
        bias = rng.integers(cfg.acc_min, cfg.acc_max + 1, size=N)
    requant = None
    if draw(st.booleans()):
        requant = Requant(int(rng.integers(1, 1 << 16)), int(rng.integers(0, 48)),
                          relu=draw(st.booleans()))
    return cfg, x, w, bias, requant


def _agree(cfg, x, w, bias, requant, route="auto"):
    ref = reference.gemm(cfg, x, w, bias, requant)
    fast = gemm(cfg, x, w, bias, requant, route=route)
    np.testing.assert_array_equal(fast.acc, ref.acc)
    np.testing.assert_array_equal(fast.out, ref.out)
    np.testing.assert_array_equal(fast.overflow, ref.overflow)
    np.testing.assert_array_equal(fast.saturated, ref.saturated)
    assert fast.events == ref.events
    return ref


@given(gemm_cases())
def test_fast_path_matches_reference(case):
    _agree(*case)


@given(gemm_cases())
def test_chunked_kernel_matches_reference(case):
    _agree(*case, route="chunked")


def test_bitplane_route_matches_reference():
    cfg = AcceleratorConfig(rows=4, cols=8, act_bits=8, acc_bits=32)
    rng = np.random.default_rng(7)
    for K in (1, 3, 4, 5, 37, 130):
        x = rng.integers(-128, 128, size=(1, K))
        w = rng.integers(-1, 2, size=(11, K))
        _agree(cfg, x, w, rng.integers(-99, 99, size=11), None)
    for act_bits in (2, 3, 8, 13, 16):       # every plane count, sign plane extremes included
        cfg_a = AcceleratorConfig(act_bits=act_bits, acc_bits=32)
        lo, hi = cfg_a.act_min, cfg_a.act_max
        x = np.concatenate([[lo, hi, lo], rng.integers(lo, hi + 1, size=200)])[None, :]
        _agree(cfg_a, x, rng.integers(-1, 2, size=(5, 203)), None, None)
        _agree(cfg_a, np.vstack([x, -x.clip(-hi, None)]), rng.integers(-1, 2, size=(3, 203)),
               None, None)


def test_wrap_and_saturate_by_hand():
    # acc_bits 9: range [-256, 255]; cols 2 -> chunk sums 200, then 200 + 100 = 300
    x = np.array([[100, 100, 100, 0]])
    w = np.ones((1, 4), int)
    sat = AcceleratorConfig(rows=1, cols=2, act_bits=8, acc_bits=9, overflow="saturate")
    r = _agree(sat, x, w, None, None)
    assert r.acc[0, 0] == 255 and r.events.overflow_events == 1 and r.overflow[0, 0]
    r = _agree(sat.replace(overflow="wrap"), x, w, None, None)
    assert r.acc[0, 0] == 300 - 512 and r.events.overflow_events == 1


def test_saturation_order_dependence_exact():
    # act_bits 7, acc_bits 8 ([-128, 127]), cols 3: chunk sums -180 and +180, true sum 0
    cfg = AcceleratorConfig(rows=1, cols=3, act_bits=7, acc_bits=8, overflow="saturate")
    x = np.array([[-60, -60, -60, 60, 60, 60]])
    w = np.ones((1, 6), int)
    r = _agree(cfg, x, w, None, None)
    assert r.acc[0, 0] == -128 + 180 and r.events.overflow_events == 1
    # wrap is modular: -180 -> 76, 76 + 180 = 256 -> 0, the true sum, after two overflows
    r = _agree(cfg.replace(overflow="wrap"), x, w, None, None)
    assert r.acc[0, 0] == 0 and r.events.overflow_events == 2


def test_rounding_rules_by_hand():
    assert [rounding_shift(p, 1) for p in (3, -3, 1, -1, 2, -2)] == [2, -2, 1, -1, 1, -1]
    assert [rounding_shift(p, 2) for p in (5, 6, -5, -6, 7, -7)] == [1, 2, -1, -2, 2, -2]
    assert requantize(1000, Requant(3, 4)) == (127, True)              # 187.5 -> 188 -> 127
    assert requantize(-10, Requant(1, 2, relu=True)) == (0, False)     # ReLU is not saturation
    assert requantize(-10, Requant(1, 2)) == (-3, False)               # -2.5 -> -3
    assert requantize(-1000, Requant(1, 0)) == (-128, True)
    assert wrap(128, 8) == -128 and wrap(-129, 8) == 127 and wrap(5, 8) == 5


def test_requant_from_scale():
    rq = Requant.from_scale(0.0123)
    assert rq.multiplier < 1 << 16 and abs(rq.scale / 0.0123 - 1) < 1e-4
    assert Requant.from_scale(3.0).scale == 3.0
    with pytest.raises(TernhwError, match="requant scale"):
        Requant.from_scale(-1.0)
    with pytest.raises(TernhwError, match="requant multiplier"):
        Requant(0, 3)
    with pytest.raises(TernhwError, match="requant shift"):
        Requant(5, 48)


def test_events_by_hand_4x4():
    """A 4x4 GEMM on a 2x2 array, counted by hand."""
    cfg = AcceleratorConfig(rows=2, cols=2, act_bits=8, acc_bits=16)
    w = np.array([[1, 0, -1, 1],
                  [0, 0, 0, 0],
                  [-1, -1, 1, 0],
                  [0, 1, 0, 0]])
    x = np.arange(8).reshape(2, 4) - 3
    ev = _agree(cfg, x, w, None, Requant(1, 0)).events
    # +1: 4 weights, -1: 3, 0: 9; two tokens
    assert (ev.lane_add, ev.lane_sub, ev.lane_skip) == (8, 6, 18)
    # 2 N-tiles x 2 tokens x 2 K-chunks = 8 steps; no idle lanes
    assert ev.array_steps == 8 and ev.lane_idle == 0
    # all-zero (row, chunk) pairs: row 1 both chunks, row 3 chunk 1 -> 3 per token
    assert (ev.acc_skips, ev.acc_updates) == (6, 2 * 4 * 2 - 6)
    assert ev.tree_adds == 2 * 4 * 2          # (2 - 1) adder per row and chunk
    assert ev.weight_buffer_writes == 4 and ev.weight_bits_loaded == 4 * 2 * 2 * 2
    assert ev.weight_buffer_reads == 8 and ev.weight_bits_read == 8 * 8
    assert ev.act_buffer_writes == 4 and ev.act_bits_read == 8 * 16
    assert ev.outputs_written == 8 and ev.output_bits_written == 64 and ev.requant_ops == 8


def test_events_idle_lanes_on_edge_tiles():
    cfg = AcceleratorConfig(rows=4, cols=4, act_bits=8, acc_bits=16)
    ev = _agree(cfg, np.ones((1, 5), int), np.ones((3, 5), int), None, None).events
    assert ev.array_steps == 2 and ev.lane_idle == 2 * 16 - 15


def test_int8_baseline_events():
    cfg = AcceleratorConfig(rows=2, cols=3, weight_bits=8, weight_format="int8", acc_bits=32)
    rng = np.random.default_rng(3)
    ev = _agree(cfg, rng.integers(-128, 128, (3, 7)), rng.integers(-128, 128, (5, 7)),
                None, None).events
    assert ev.lane_mul == 3 * 5 * 7 and ev.lane_add == 0 and ev.acc_skips == 0


def test_bad_operands():
    cfg = AcceleratorConfig(rows=2, cols=2, act_bits=4, acc_bits=8)
    ok_x, ok_w = np.zeros((2, 3), int), np.zeros((4, 3), int)
    with pytest.raises(TernhwError, match=r"activations \(act_bits = 4\): value 8 at \(0, 1\)"):
        gemm(cfg, [[0, 8, 0], [0, 0, 0]], ok_w)
    with pytest.raises(TernhwError, match=r"ternary weights: value 2"):
        gemm(cfg, ok_x, np.full((4, 3), 2))
    with pytest.raises(TernhwError, match="shape mismatch: activations are 2x3"):
        gemm(cfg, ok_x, np.zeros((4, 5), int))
    with pytest.raises(TernhwError, match=r"bias \(acc_bits = 8\): value 200"):
        gemm(cfg, ok_x, ok_w, bias=[0, 200, 0, 0])
    with pytest.raises(TernhwError, match=r"bias must have shape \(4,\)"):
        gemm(cfg, ok_x, ok_w, bias=[0, 0])
    with pytest.raises(TernhwError, match="must be integers"):
        gemm(cfg, ok_x + 0.5, ok_w)
    with pytest.raises(TernhwError, match="NaN or Inf"):
        gemm(cfg, np.full((2, 3), np.nan), ok_w)
    with pytest.raises(TernhwError, match="expects ternary weights"):
        gemm(cfg, ok_x, WeightMatrix(ok_w, ternary=False))


def test_weight_matrix_is_reusable():
    cfg = AcceleratorConfig(rows=3, cols=5, act_bits=8, acc_bits=24)
    rng = np.random.default_rng(11)
    wm = WeightMatrix(rng.integers(-1, 2, size=(7, 23)))
    for M in (1, 2, 9):
        x = rng.integers(-128, 128, size=(M, 23))
        np.testing.assert_array_equal(gemm(cfg, x, wm).acc, reference.gemm(cfg, x, wm.w).acc)
