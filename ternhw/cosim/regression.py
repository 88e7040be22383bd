"""The stimulus of the co-simulation regression: constrained-random and corner cases, the
fault-injection cases and a back-pressured case.

The tests run it (``tests/test_cosim.py``), and so does the mutation run
(:mod:`ternhw.cosim.mutation`), whose score is the share of mutants *this* regression kills.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..config import AcceleratorConfig
from ..model import Requant
from .runner import CosimCase


def random_and_corner_cases(cfg, seed=0):
    """Constrained random (shapes, sparsity 0-100%, extremes, back-pressure) and corners."""
    rng = np.random.default_rng(seed)
    lo, hi = cfg.act_min, cfg.act_max
    cases = []
    for i in range(6):
        M, K, N = int(rng.integers(1, 5)), int(rng.integers(1, 19)), int(rng.integers(1, 11))
        p_zero = [0.0, 0.3, 0.7, 1.0, 0.5, 0.1][i]
        w = rng.choice([-1, 1], size=(N, K)) * (rng.random((N, K)) >= p_zero)
        x = rng.integers(lo, hi + 1, size=(M, K))
        if i == 4:
            x = rng.choice([lo, hi], size=(M, K))                 # activation extremes
        bias = rng.integers(-3000, 3000, size=N) if i % 2 else None
        rq = Requant(int(rng.integers(1, 1 << 16)), int(rng.integers(0, 24)),
                     relu=bool(i % 3 == 0)) if i != 1 else None
        cases.append(CosimCase(f"random{i}", x, w, bias, rq, p_valid=[1, .7, .5][i % 3],
                               p_ready=[1, .4, .8][i % 3], seed=seed + i))
    K = 37
    cases += [
        CosimCase("all_zero_weights", rng.integers(lo, hi + 1, (2, K)), np.zeros((6, K), int)),
        CosimCase("all_plus_one", rng.integers(lo, hi + 1, (2, K)), np.ones((5, K), int)),
        CosimCase("all_minus_one", rng.integers(lo, hi + 1, (2, K)), -np.ones((7, K), int),
                  requant=Requant(1, 1)),
        # 200 x 127 plus a bias of 30000 leaves a 16-bit accumulator on the last chunks
        CosimCase("overflow_max", np.full((1, 200), hi), np.ones((3, 200), int),
                  bias=np.full(3, 30000)),
        CosimCase("overflow_min", np.full((1, 200), lo), np.ones((3, 200), int),
                  bias=np.full(3, -30000), p_ready=0.3, seed=5),
        CosimCase("m1_odd", rng.integers(lo, hi + 1, (1, 5)), rng.integers(-1, 2, (9, 5)),
                  bias=rng.integers(-99, 99, 9), requant=Requant(40000, 12)),
    ]
    return cases


def fault_stimulus():
    """Full-rate streams: every output checked, cycles and counters predicted."""
    rng = np.random.default_rng(42)
    return [
        # K = 13 = 1 mod 4 exercises the last partial chunk; Requant(1, 1) makes ties
        CosimCase("mixed", rng.integers(-128, 128, (3, 13)), rng.integers(-1, 2, (9, 13)),
                  bias=rng.integers(-500, 500, 9), requant=Requant(1, 1)),
        # 200 x 127 = 25400 fits 16 bits but not 15
        CosimCase("near_top", np.full((1, 200), 127), np.ones((4, 200), int)),
    ]


def back_pressure_stimulus():
    """The result stream stalled at random (and the inputs gapped): the array holds while
    the output stage waits, so faults in the stream rules and the stall paths show."""
    rng = np.random.default_rng(43)
    w = rng.integers(-1, 2, (10, 14)) * (rng.random((10, 14)) < 0.6)     # many zero lanes
    return [CosimCase("bp_stalled", rng.integers(-128, 128, (12, 14)), w,
                      requant=Requant(3, 2), p_ready=0.25, p_valid=0.8, seed=11)]


def directed_cases(cfg: AcceleratorConfig, seed: int = 0) -> list[CosimCase]:
    """Cases aimed at what random stimulus reaches rarely (each found by a surviving mutant,
    ``ternhw.cosim.mutation``):

    * every requantization shift 0-47 on large accumulators of both signs (the rounding mask
      and thresholds are computed per shift), and at every shift the accumulator reaches,
      values just below, at and just above the rounding thresholds of both signs;
    * every weight byte value in every byte position of a weight word (base-3: all 243
      five-trit combinations; 2-bit: every code in every lane), so each decoder table entry is
      read;
    * long back-pressure on one-chunk tokens, so finished words back up through the output
      register, the requantizer pipeline and the array;
    * a host offering words beyond the command's (they must be left on the streams);
    * 32,768 overflow events in one command (the event counter's bit 15);
    * N = 65535, the largest a command takes, with a bias word per tile (the output-position
      and bias counters' top bits);
    * accumulations ending 2**j inside either edge of the range, on every row, so every bit of
      each row's sum decides the overflow test; rounding ties and clamp edges on every row;
    * overflow flags on every row under back-pressure;
    * a resident matrix reused by a ``keep_weights`` command;
    * commands that must end with ``status.error``: ``keep_weights`` with nothing resident,
      and (ternary) a resident matrix loaded with an invalid weight code, then reused.
    """
    from ..model.contract import REQUANT_MAX_SHIFT

    rng = np.random.default_rng([seed, 7])
    lo, hi = cfg.act_min, cfg.act_max
    R, C = cfg.rows, cfg.cols
    cases = []
    k = 4 * C
    for shift in range(REQUANT_MAX_SHIFT + 1):
        x = rng.choice([lo, hi], size=(2, k))
        w = rng.choice([-1, 1], size=(R, k))
        bias = rng.integers(-(1 << (cfg.acc_bits - 2)), 1 << (cfg.acc_bits - 2), size=R)
        cases.append(CosimCase(f"shift{shift}", x, w, bias,
                               Requant(int(rng.integers(1 << 14, 1 << 16)), shift,
                                       relu=bool(shift % 2))))
    # the rounding thresholds of every shift the accumulator can reach: accumulators (the
    # bias, with zero weights) a little below, at and above +-1/2 and +-3/2 of 2**shift
    # and around the int8 clamp bounds (127 + 1/2 rounding to 128, -128 - 1/2 to -129)
    for shift in range(1, cfg.acc_bits - 1):
        h = 1 << (shift - 1)
        limit = 1 << (cfg.acc_bits - 1)
        vals = {sign * (base * h + d) for sign in (1, -1) for base in (1, 3)
                for d in (-1, 0, 1)}
        vals |= {edge + d for edge in (127 * 2 * h + h, -128 * 2 * h - h) for d in (-1, 0, 1)}
        vals = sorted(v for v in vals if -limit <= v < limit)
        # each value once per row: every output lane's copy of the clamp sees every edge
        vals = np.repeat(vals, R)
        cases.append(CosimCase(f"ties_shift{shift}", np.zeros((1, 1), int),
                               np.zeros((len(vals), 1), int), vals, Requant(1, shift)))
    # accumulations that end just inside the range, 2**j from either edge (bias = the edge
    # -+ 2**j, one +-1 product): every bit of every row's sum decides the overflow test
    top = (1 << (cfg.acc_bits - 1)) - 1
    edges = [top + 1 - (1 << j) for j in range(cfg.acc_bits - 1)]
    edges += [-top - 1 + (1 << j) for j in range(cfg.acc_bits - 1)]
    cases.append(CosimCase("near_edges", np.array([[1], [-1]]),
                           np.ones((R * len(edges), 1), int), np.repeat(edges, R)))
    # every trit combination of a byte at every byte position: block j holds j's base-3 digits
    lanes = R * C
    words = 243
    T = 9
    NT = -(-words // T)
    blocks = np.array([[(j // 3 ** (i % 5)) % 3 - 1 for i in range(lanes)]
                       for j in range(NT * T)])
    w = blocks.reshape(NT, T, R, C).transpose(0, 2, 1, 3).reshape(NT * R, T * C)
    cases.append(CosimCase("all_weight_bytes", rng.integers(lo, hi + 1, (1, T * C)), w))
    # a host that offers the next command's words early: the design must leave them
    cases.append(CosimCase("overrun", rng.integers(lo, hi + 1, (2, C + 1)),
                           rng.integers(-1, 2, (2 * R + 1, C + 1)),
                           rng.integers(-99, 99, 2 * R + 1), overrun=2))
    # enough overflows in one command to carry into bit 15 of the event counter: every output
    # of 64 one-chunk tokens x 512 columns starts at the top of the range and overflows once
    n_ovf = 512
    cases.append(CosimCase("many_overflows", np.full((min(64, cfg.act_buffer_depth), C), hi),
                           np.ones((n_ovf, C), int), np.full(n_ovf, top)))
    # the largest N a command takes: the position counters' top bits
    cases.append(CosimCase("n_max", rng.integers(lo, hi + 1, (1, C)),
                           rng.integers(-1, 2, (0xFFFF, C)),
                           rng.integers(-99, 99, 0xFFFF), overrun=1))
    # overflow flags on every row while the output is back-pressured: they must survive holds
    cases.append(CosimCase("bp_overflows", np.full((8, C), hi), np.ones((2 * R, C), int),
                           np.full(2 * R, top), p_ready=0.2, seed=seed + 98))
    # refused and faulty commands, which must end with status.error: keep_weights with no
    # resident matrix (after a plain command of the same shape), and, for ternary formats, a
    # resident matrix with an invalid code, which must not be kept for the next keep_weights
    x, w = rng.integers(lo, hi + 1, (3, C + 1)), rng.integers(-1, 2, (R + 1, C + 1))
    w[:, 0] = 0                                   # a zero weight (and base-3 byte) to corrupt
    cases += [CosimCase("plain", x, w), CosimCase("keep_unloaded", x, w, keep_weights=True,
                                                  rejected=True),
              CosimCase("resident", x, w, resident=True),
              CosimCase("keep", x[::-1], w, keep_weights=True)]
    if cfg.is_ternary:
        cases += [CosimCase("invalid_resident", x, w, resident=True, invalid_weight_code=True),
                  CosimCase("keep_invalid", x, w, keep_weights=True, rejected=True)]
    cases.append(CosimCase("bp_heavy", rng.integers(lo, hi + 1, (16, min(C, 3))),
                           rng.integers(-1, 2, (3 * R, min(C, 3))), requant=Requant(5, 1),
                           p_ready=0.1, seed=seed + 99))
    return cases


def regression(cfg: AcceleratorConfig, seed: int = 0) -> list[CosimCase]:
    """All of it for ``cfg``: random and corner cases, the directed cases, then the fault and
    back-pressure cases (the latter two are built for 8-bit activations; smaller widths are
    clamped)."""
    extra = directed_cases(cfg, seed)
    for c in fault_stimulus() + back_pressure_stimulus():
        extra.append(replace(c, x=np.clip(c.x, cfg.act_min, cfg.act_max)))
    return random_and_corner_cases(cfg, seed) + extra
