"""The slow, obviously-correct implementation of ``docs/semantics.md``.

Plain Python integers and loops that follow the hardware schedule step by step. It is what the
fast path (``ternhw.model.gemm``) is tested against; use it only on small shapes.
"""

from __future__ import annotations

import numpy as np

from ..config import AcceleratorConfig
from .contract import OUT_MAX, OUT_MIN, Events, GemmResult, Requant, check_operands


def wrap(value: int, bits: int) -> int:
    """Two's-complement wrap of ``value`` to a signed ``bits``-bit integer."""
    half = 1 << (bits - 1)
    return ((value + half) % (1 << bits)) - half


def reduce(value: int, cfg: AcceleratorConfig) -> tuple[int, bool]:
    """Apply the accumulator's overflow rule: ``(new value, overflowed)``."""
    if cfg.acc_min <= value <= cfg.acc_max:
        return value, False
    if cfg.overflow == "wrap":
        return wrap(value, cfg.acc_bits), True
    return (cfg.acc_max if value > cfg.acc_max else cfg.acc_min), True


def rounding_shift(p: int, shift: int) -> int:
    """``p / 2**shift`` rounded half away from zero (gemmlowp's ``RoundingDivideByPOT``)."""
    if shift == 0:
        return p
    mask = (1 << shift) - 1
    remainder = p & mask
    threshold = (mask >> 1) + (1 if p < 0 else 0)
    return (p >> shift) + (1 if remainder > threshold else 0)


def requantize(acc: int, rq: Requant) -> tuple[int, bool]:
    """One accumulator to int8: ``(output, saturated)``."""
    q = rounding_shift(acc * rq.multiplier, rq.shift)
    lo = 0 if rq.relu else OUT_MIN
    out = min(max(q, lo), OUT_MAX)
    return out, q > OUT_MAX or (not rq.relu and q < OUT_MIN)


def gemm(cfg: AcceleratorConfig, x, w, bias=None, requant: Requant | None = None) -> GemmResult:
    """``Y = X W^T + bias`` exactly as the accelerator computes it, with its event counts."""
    x, w, bias = check_operands(cfg, x, w, bias, requant)
    M, K = x.shape
    N = w.shape[0]
    R, C = cfg.rows, cfg.cols
    T = -(-K // C)
    NT = -(-N // R)
    xs, ws = x.tolist(), w.tolist()
    bs = bias.tolist() if bias is not None else [0] * N
    acc = [[0] * N for _ in range(M)]
    out = [[0] * N for _ in range(M)]
    overflow = [[False] * N for _ in range(M)]
    saturated = [[False] * N for _ in range(M)]
    ev = Events()
    ev.act_buffer_writes = M * T
    ev.act_bits_loaded = M * T * cfg.act_word_bits
    for nt in range(NT):
        ev.weight_buffer_writes += T
        ev.weight_bits_loaded += T * cfg.weight_word_bits
        for m in range(M):
            a = [None] * R
            for t in range(T):
                ev.array_steps += 1
                ev.weight_buffer_reads += 1
                ev.weight_bits_read += cfg.weight_word_bits
                ev.act_buffer_reads += 1
                ev.act_bits_read += cfg.act_word_bits
                for r in range(R):
                    j = nt * R + r
                    chunk_sum = 0
                    nonzero = False
                    for c in range(C):
                        k = t * C + c
                        if j >= N or k >= K:
                            ev.lane_idle += 1
                            continue
                        wv = ws[j][k]
                        if not cfg.is_ternary:
                            ev.lane_mul += 1
                            chunk_sum += xs[m][k] * wv
                        elif wv == 1:
                            ev.lane_add += 1
                            chunk_sum += xs[m][k]
                        elif wv == -1:
                            ev.lane_sub += 1
                            chunk_sum -= xs[m][k]
                        else:
                            ev.lane_skip += 1
                        nonzero = nonzero or wv != 0
                    if j >= N:
                        continue
                    if a[r] is None:
                        a[r] = bs[j]            # the accumulator starts at the bias
                    ev.tree_adds += min(C, K - t * C) - 1
                    if cfg.is_ternary and not nonzero:
                        ev.acc_skips += 1       # an all-zero chunk adds 0: update gated
                        continue
                    ev.acc_updates += 1
                    a[r], ovf = reduce(a[r] + chunk_sum, cfg)
                    if ovf:
                        ev.overflow_events += 1
                        overflow[m][j] = True
            for r in range(R):
                j = nt * R + r
                if j >= N:
                    continue
                acc[m][j] = a[r]
                ev.overflowed_outputs += overflow[m][j]
                if requant is not None:
                    ev.requant_ops += 1
                    out[m][j], saturated[m][j] = requantize(a[r], requant)
                    ev.output_saturations += saturated[m][j]
                else:
                    out[m][j] = a[r]
                ev.outputs_written += 1
                ev.output_bits_written += 8 if requant is not None else cfg.acc_bits
    return GemmResult(np.array(acc, dtype=np.int64), np.array(out, dtype=np.int64),
                      np.array(overflow, dtype=bool), np.array(saturated, dtype=bool), ev)
