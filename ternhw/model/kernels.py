"""Numba kernels of the fast path; nothing else lives here.

Each kernel is private to ``ternhw.model.gemm``, which validates its inputs and documents what
it computes; ``ternhw.model.reference`` is the readable definition they are tested against.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def chunked_accumulate(x, w, bias, cols, acc_min, acc_max, saturate, acc_out, flags_out):
    """Accumulate ``x @ w.T`` in chunks of ``cols`` with the overflow rule applied after each
    chunk (semantics.md, "Accumulation order"). Returns the number of overflow events."""
    M, K = x.shape
    N = w.shape[0]
    T = (K + cols - 1) // cols
    half = -acc_min
    mask = 2 * half - 1
    events = np.zeros(M, dtype=np.int64)
    for m in prange(M):
        for j in range(N):
            a = bias[j]
            flag = False
            for t in range(T):
                s = 0
                nonzero = False
                for k in range(t * cols, min(K, (t + 1) * cols)):
                    wv = w[j, k]
                    if wv != 0:
                        nonzero = True
                        s += x[m, k] * wv
                if not nonzero:
                    continue
                v = a + s
                if v > acc_max or v < acc_min:
                    flag = True
                    events[m] += 1
                    if saturate:
                        v = acc_max if v > acc_max else acc_min
                    else:
                        v = ((v + half) & mask) - half
                a = v
            acc_out[m, j] = a
            flags_out[m, j] = flag
    return events.sum()


@njit(parallel=True, cache=True)
def lut_matvec(lut, packed, out):
    """``out[j] = sum_b lut[b, packed[j, b]]``: a ternary matrix-vector product read straight
    from 2-bit packed weights, four trits per table look-up."""
    N, KB = packed.shape
    for j in prange(N):
        s = 0
        for b in range(KB):
            s += lut[b, packed[j, b]]
        out[j] = s


def threads() -> int:
    return numba.get_num_threads()
