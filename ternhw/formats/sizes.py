"""Exact storage cost of a ternary tensor in every format ternhw knows.

A size is quoted only for a format that can hold the tensor exactly: I2_S keeps one scale per
tensor, TQ1_0/TQ2_0 one fp16 scale per 256-weight block and no TTQ scales. For any other tensor
:func:`storage_bytes` returns None and :func:`unsupported_reason` says why, so a memory report
never prices a format that would lose the tensor's scales.
"""

from __future__ import annotations

import numpy as np

from ..quant.ternarize import TernaryTensor
from .base3 import packed_size_base3
from .gguf_io import packed_size_tq, tq_unsupported_reason
from .i2s import packed_size_i2s
from .twobit import packed_size_2bit

FORMATS = ("2bit", "base3", "tq1_0", "tq2_0", "i2_s")
#: Bytes per stored scale in the ternhw 2-bit and base-3 formats (float32).
SCALE_BYTES = 4


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def unsupported_reason(tt: TernaryTensor, fmt: str) -> str | None:
    """Why ``fmt`` cannot hold ``tt`` without losing its scales, or None if it can.

    2-bit and base-3 keep float32 scales of any granularity beside the trits, so they hold
    every tensor.
    """
    _check_format(fmt)
    if fmt in ("tq1_0", "tq2_0"):
        return tq_unsupported_reason(tt, fmt)
    if fmt == "i2_s":
        return _i2s_unsupported_reason(tt)
    return None


def _i2s_unsupported_reason(tt: TernaryTensor) -> str | None:
    if not tt.symmetric:
        return ("I2_S holds one scale per tensor, not separate positive and negative (TTQ) "
                "scales")
    distinct = np.unique(tt.pos_scale).size
    if distinct > 1:
        return (f"I2_S holds one scale per tensor, but this tensor has {distinct} different "
                f"{tt.granularity} scales")
    return None


def storage_bytes(tt: TernaryTensor, fmt: str) -> int | None:
    """Bytes to store ``tt`` in ``fmt``, scales and padding included; None when ``fmt`` cannot
    hold ``tt`` (see :func:`unsupported_reason`).

    2-bit and base-3 keep float32 scales beside the packed trits (two sets for TTQ); TQ1_0 and
    TQ2_0 carry an fp16 scale in every 256-weight block of a row padded to 256; I2_S has one
    float32 scale in a 32-byte tail.
    """
    if unsupported_reason(tt, fmt) is not None:
        return None
    rows, cols = tt.shape
    n = tt.size
    n_scales = tt.pos_scale.size * (1 if tt.symmetric else 2)
    if fmt == "2bit":
        return packed_size_2bit(n) + SCALE_BYTES * n_scales
    if fmt == "base3":
        return packed_size_base3(n) + SCALE_BYTES * n_scales
    if fmt in ("tq1_0", "tq2_0"):
        return packed_size_tq(fmt, rows, cols)
    return packed_size_i2s(n)


def bits_per_weight(tt: TernaryTensor, fmt: str) -> float | None:
    """Storage bits per weight in ``fmt``; None when ``fmt`` cannot hold ``tt``."""
    b = storage_bytes(tt, fmt)
    return None if b is None else 8.0 * b / tt.size
