"""Exact storage cost of a ternary tensor in every format ternhw knows."""

from __future__ import annotations

from ..quant.ternarize import TernaryTensor
from .base3 import packed_size_base3
from .gguf_io import packed_size_tq
from .i2s import packed_size_i2s
from .twobit import packed_size_2bit

FORMATS = ("2bit", "base3", "tq1_0", "tq2_0", "i2_s")
#: Bytes per stored scale in the ternhw 2-bit and base-3 formats (float32).
SCALE_BYTES = 4


def storage_bytes(tt: TernaryTensor, fmt: str) -> int:
    """Bytes to store ``tt`` in ``fmt``, scales and padding included.

    2-bit and base-3 keep float32 scales beside the packed trits (two sets for TTQ); TQ1_0 and
    TQ2_0 carry an fp16 scale in every 256-weight block of a row padded to 256; I2_S has one
    float32 scale in a 32-byte tail.
    """
    rows, cols = tt.shape
    n = tt.size
    n_scales = tt.pos_scale.size * (1 if tt.symmetric else 2)
    if fmt == "2bit":
        return packed_size_2bit(n) + SCALE_BYTES * n_scales
    if fmt == "base3":
        return packed_size_base3(n) + SCALE_BYTES * n_scales
    if fmt in ("tq1_0", "tq2_0"):
        return packed_size_tq(fmt, rows, cols)
    if fmt == "i2_s":
        return packed_size_i2s(n)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def bits_per_weight(tt: TernaryTensor, fmt: str) -> float:
    return 8.0 * storage_bytes(tt, fmt) / tt.size
