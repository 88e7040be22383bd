"""The fast, bit-exact GEMM: same results and events as ``ternhw.model.reference``.

Three exact routes, chosen per call:

1. **No overflow possible** (the usual case): if for every token ``sum|x| * max|w| + max|bias|``
   fits the accumulator, no partial sum can leave its range, so the chunk order does not
   matter and ``acc = X W^T + bias`` is computed by

   * a bit-plane kernel for one or two tokens (decode, which is memory-bound): the weights
     are two bit masks (+1 and -1 positions, 2 bits per weight, 16x fewer bytes than
     float32) and the activations ``act_bits`` bit planes, so a dot product is
     ``sum_b coef_b (popcount(pos & plane_b) - popcount(neg & plane_b))``, or
   * float32 BLAS when that same bound is below ``2**24`` (every partial sum of integers
     below ``2**24`` is exact in float32, whatever order BLAS adds in), float64 BLAS otherwise
     (exact below ``2**53``, which any 32-bit accumulator is).

2. **Overflow possible**: the Numba kernel accumulates chunk by chunk in the documented order
   and applies wrap or saturate after each chunk, counting overflow events.
"""

from __future__ import annotations

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from . import kernels
from .contract import (
    OUT_MAX,
    OUT_MIN,
    Events,
    GemmResult,
    Requant,
    check_activations,
    check_bias,
    check_requant,
    check_shapes,
    check_weights,
)

FLOAT32_EXACT = 1 << 24
#: Up to this many tokens the bit-plane kernel beats BLAS (measured: benchmarks/bench_model.py).
BITPLANE_MAX_TOKENS = 2


class WeightMatrix:
    """A validated ``(N, K)`` weight matrix with the derived forms the fast paths need, each
    built once on first use: float32 / float64 copies for BLAS, 2-bit packed rows for the
    look-up-table kernel, and per-row and per-chunk counts for the event model.
    """

    def __init__(self, w, *, ternary: bool = True):
        w = check_weights(ternary, w)
        self.w = np.ascontiguousarray(w, dtype=np.int8)
        self.ternary = ternary
        self._cache: dict = {}

    @property
    def shape(self) -> tuple[int, int]:
        return self.w.shape

    def _cached(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def as_float(self, dtype) -> np.ndarray:
        return self._cached(("f", np.dtype(dtype).str), lambda: self.w.astype(dtype))

    def bitmasks(self) -> tuple[np.ndarray, np.ndarray]:
        """``(pos, neg)``, each ``(N, ceil(K / 64))`` uint64: bit ``k % 64`` of word ``k // 64``
        is set where the weight is +1 (``pos``) or -1 (``neg``). Two bits per weight, like the
        2-bit format, laid out for ``popcnt``."""
        return self._cached("bitmasks", lambda: (pack_bits(self.w > 0), pack_bits(self.w < 0)))

    def counts(self) -> tuple[int, int, int]:
        """Numbers of +1, -1 and 0 weights."""
        def build():
            pos = int(np.count_nonzero(self.w > 0))
            neg = int(np.count_nonzero(self.w < 0))
            return pos, neg, self.w.size - pos - neg
        return self._cached("counts", build)

    def zero_chunks(self, cols: int) -> int:
        """Number of (row, K-chunk of ``cols``) pairs whose weights are all zero."""
        def build():
            N, K = self.shape
            T = -(-K // cols)
            nz = np.zeros((N, T * cols), dtype=bool)
            nz[:, :K] = self.w != 0
            return int(np.count_nonzero(~nz.reshape(N, T, cols).any(axis=2)))
        return self._cached(("zero_chunks", cols), build)

    def max_abs(self) -> int:
        return self._cached("max_abs", lambda: int(np.abs(self.w.astype(np.int16)).max()))

    def row_block(self, start: int, stop: int) -> WeightMatrix:
        """Rows ``[start, stop)`` (the output columns of one column block of an n-blocked
        schedule) as a weight matrix of their own, built once (a view, not re-validated);
        ``self`` when they are all the rows."""
        if start <= 0 and stop >= self.shape[0]:
            return self

        def build():
            sub = WeightMatrix.__new__(WeightMatrix)
            sub.w, sub.ternary, sub._cache = self.w[start:stop], self.ternary, {}
            return sub
        return self._cached(("rows", start, stop), build)


def pack_bits(mask: np.ndarray) -> np.ndarray:
    """Pack a boolean ``(..., K)`` array into ``(..., ceil(K / 64))`` little-endian uint64."""
    K = mask.shape[-1]
    words = -(-K // 64)
    padded = np.zeros(mask.shape[:-1] + (words * 64,), dtype=bool)
    padded[..., :K] = mask
    return np.packbits(padded, axis=-1, bitorder="little").view("<u8").astype(np.uint64)


def _bitplane_matvec(x_row: np.ndarray, wm: WeightMatrix, act_bits: int) -> np.ndarray:
    pos, neg = wm.bitmasks()
    u = (x_row.astype(np.int64) & ((1 << act_bits) - 1)).astype(np.uint64)
    planes = pack_bits(((u[None, :] >> np.arange(act_bits, dtype=np.uint64)[:, None]) & 1)
                       .astype(bool))
    coef = np.array([1 << b for b in range(act_bits)], dtype=np.int64)
    coef[-1] = -coef[-1]
    out = np.empty(pos.shape[0], dtype=np.int64)
    kernels.bitplane_matvec(pos, neg, np.ascontiguousarray(planes.T), coef, out)
    return out


def gemm(cfg: AcceleratorConfig, x, w, bias=None, requant: Requant | None = None,
         *, route: str = "auto") -> GemmResult:
    """``Y = X W^T + bias`` bit-exactly per ``docs/semantics.md``, with event counts.

    Parameters
    ----------
    cfg : AcceleratorConfig
        Supplies ``act_bits``, ``acc_bits``, ``overflow``, the array shape (which fixes the
        accumulation order) and whether weights are ternary or int8.
    x : int array (M, K)
        Signed activations within ``act_bits``.
    w : int array (N, K) or WeightMatrix
        Ternary (or int8) weights; pass a :class:`WeightMatrix` to reuse its prepared forms.
    bias : int array (N,), optional
        Initial accumulator values; must fit ``acc_bits``.
    requant : Requant, optional
        Requantize the accumulators to int8 outputs.
    route : {"auto", "chunked"}
        Force the chunk-by-chunk kernel (for testing the no-overflow routes against it).
    """
    wm = w if isinstance(w, WeightMatrix) else WeightMatrix(w, ternary=cfg.is_ternary)
    if wm.ternary != cfg.is_ternary:
        raise TernhwError(f"config {cfg.name!r} expects {'ternary' if cfg.is_ternary else 'int8'}"
                          " weights but got the other kind")
    x = check_activations(cfg, x)
    check_shapes(x, wm.shape)
    bias = check_bias(cfg, bias, wm.shape[0])
    check_requant(requant)
    M, K = x.shape
    N = wm.shape[0]
    b = bias if bias is not None else np.zeros(N, dtype=np.int64)
    bound = int(np.abs(x.astype(np.int32)).sum(axis=1).max()) * wm.max_abs() + \
        int(np.abs(b).max(initial=0))
    ev = count_events(cfg, M, wm, requant)
    if route == "auto" and bound <= cfg.acc_max:
        if M <= BITPLANE_MAX_TOKENS and wm.ternary:
            acc = np.stack([_bitplane_matvec(row, wm, cfg.act_bits) for row in x]) + b
        else:
            dt = np.float32 if bound < FLOAT32_EXACT else np.float64
            acc_f = x.astype(dt) @ wm.as_float(dt).T
            if bias is not None:
                acc_f += b.astype(dt)       # still exact: |acc + b| <= bound
            acc = acc_f.astype(np.int64)
        overflow = np.zeros((M, N), dtype=bool)
    else:
        acc = np.empty((M, N), dtype=np.int64)
        overflow = np.empty((M, N), dtype=np.bool_)
        ev.overflow_events = int(kernels.chunked_accumulate(
            np.ascontiguousarray(x, dtype=np.int64), wm.w, np.ascontiguousarray(b), cfg.cols,
            cfg.acc_min, cfg.acc_max, cfg.overflow == "saturate", acc, overflow))
        ev.overflowed_outputs = int(np.count_nonzero(overflow))
    if requant is not None:
        out, saturated = requantize(acc, requant)
        ev.output_saturations = int(np.count_nonzero(saturated))
    else:
        out, saturated = acc, np.zeros((M, N), dtype=bool)
    return GemmResult(acc, out, overflow, saturated, ev)


def requantize(acc: np.ndarray, rq: Requant) -> tuple[np.ndarray, np.ndarray]:
    """Vectorized :func:`ternhw.model.reference.requantize`: ``(outputs, saturated)``."""
    p = acc.astype(np.int64) * rq.multiplier
    s = rq.shift
    if s:
        mask = (1 << s) - 1
        threshold = (mask >> 1) + (p < 0)
        q = (p >> s) + ((p & mask) > threshold)
    else:
        q = p
    lo = 0 if rq.relu else OUT_MIN
    saturated = (q > OUT_MAX) | ((q < OUT_MIN) if not rq.relu else False)
    return np.clip(q, lo, OUT_MAX), np.asarray(saturated, dtype=bool)


def count_events(cfg: AcceleratorConfig, M: int, wm: WeightMatrix,
                 requant: Requant | None) -> Events:
    """Weight- and shape-determined event counts of one GEMM (all but the overflow and
    saturation counts, which depend on the data and come from the computation)."""
    N, K = wm.shape
    R, C = cfg.rows, cfg.cols
    T, NT = -(-K // C), -(-N // R)
    steps = NT * M * T
    macs = M * N * K
    pos, neg, zero = wm.counts()
    ev = Events(array_steps=steps)
    if cfg.is_ternary:
        ev.lane_add, ev.lane_sub, ev.lane_skip = M * pos, M * neg, M * zero
        ev.acc_skips = M * wm.zero_chunks(C)
    else:
        ev.lane_mul = macs
    ev.lane_idle = steps * R * C - macs
    ev.tree_adds = M * N * (K - T)
    ev.acc_updates = M * N * T - ev.acc_skips
    ev.requant_ops = M * N if requant is not None else 0
    ev.weight_buffer_writes = NT * T
    ev.weight_bits_loaded = NT * T * cfg.weight_word_bits
    ev.weight_buffer_reads = steps
    ev.weight_bits_read = steps * cfg.weight_word_bits
    ev.act_buffer_writes = M * T
    ev.act_bits_loaded = M * T * cfg.act_word_bits
    ev.act_buffer_reads = steps
    ev.act_bits_read = steps * cfg.act_word_bits
    ev.outputs_written = M * N
    ev.output_bits_written = M * N * (8 if requant is not None else cfg.acc_bits)
    return ev
