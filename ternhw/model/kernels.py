"""Numba kernels of the fast path; nothing else lives here.

Each kernel is private to ``ternhw.model.gemm``, which validates its inputs and documents what
it computes; ``ternhw.model.reference`` is the readable definition they are tested against.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic


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


@intrinsic
def popcount64(typingctx, x):
    """LLVM's ``ctpop`` on a uint64: one ``popcnt`` instruction on x86-64."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@njit(parallel=True, cache=True)
def bitplane_matvec(pos, neg, planes_t, coef, out):
    """``out[j] = sum_k x[k] t[j, k]`` from bit masks: ``pos``/``neg`` ``(N, W)`` uint64 hold the
    +1 and -1 positions of each weight row (64 per word), ``planes_t`` ``(W, A)`` the ``A`` bit
    planes of the activations, ``coef[b]`` the two's-complement weight of plane ``b``
    (``2**b``, and ``-2**(A-1)`` for the sign plane)."""
    N, W = pos.shape
    A = planes_t.shape[1]
    for j in prange(N):
        d = np.zeros(A, dtype=np.int64)
        for w in range(W):
            p = pos[j, w]
            n = neg[j, w]
            for b in range(A):
                xb = planes_t[w, b]
                d[b] += np.int64(popcount64(p & xb)) - np.int64(popcount64(n & xb))
        total = 0
        for b in range(A):
            total += coef[b] * d[b]
        out[j] = total


def threads() -> int:
    return numba.get_num_threads()
