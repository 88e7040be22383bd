"""Plain 2-bit codes: ``code = trit + 1`` (0 = -1, 1 = 0, 2 = +1; 3 is invalid).

Four codes per byte, the first trit in the low bits: trit ``i`` of the flattened (row-major)
tensor lives in byte ``i // 4`` at bit ``2 * (i % 4)``. A length that is not a multiple of 4 is
padded with zero trits (code 1), which ``unpack_2bit`` strips given the original length.
Size: ``ceil(n / 4)`` bytes, 2 bits per weight.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError
from .trits import as_bytes, check_trits

TRITS_PER_BYTE = 4


def packed_size_2bit(n: int) -> int:
    """Bytes needed for ``n`` trits."""
    return -(-n // TRITS_PER_BYTE)


def pack_2bit(trits: np.ndarray) -> np.ndarray:
    """Pack trits (any shape, flattened row-major) into a uint8 array."""
    t = check_trits(trits).reshape(-1)
    n = t.size
    codes = np.ones(packed_size_2bit(n) * TRITS_PER_BYTE, dtype=np.uint8)
    codes[:n] = (t + 1).astype(np.uint8)
    codes = codes.reshape(-1, TRITS_PER_BYTE)
    return (codes[:, 0] | (codes[:, 1] << 2) | (codes[:, 2] << 4) | (codes[:, 3] << 6)).astype(
        np.uint8)


def unpack_2bit(data: np.ndarray | bytes, n: int) -> np.ndarray:
    """Unpack ``n`` trits (int8, flat) from 2-bit codes; raises on a short buffer or code 3."""
    b = as_bytes(data)
    need = packed_size_2bit(n)
    if b.size != need:
        raise FormatError(f"2-bit data for {n} trits must be {need} bytes, got {b.size}")
    codes = np.stack([(b >> s) & 3 for s in (0, 2, 4, 6)], axis=1).reshape(-1)[:n]
    bad = codes == 3
    if bad.any():
        raise FormatError(f"invalid 2-bit code 3 at trit index {int(np.argmax(bad))}")
    return codes.astype(np.int8) - 1
