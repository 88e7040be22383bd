"""Base-3 packing: 5 trits per byte, 1.6 bits per weight.

``3**5 = 243 <= 256``, so five trits fit one byte: byte ``= sum((t_i + 1) * 3**i, i = 0..4)``,
the first trit the least significant base-3 digit. The flattened (row-major) tensor is padded
with zero trits to a multiple of 5. Bytes 243-255 are invalid. The information limit is
``log2(3) = 1.585`` bits per trit; this format sits 0.9% above it.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError
from .trits import as_bytes, check_trits

TRITS_PER_BYTE = 5
_POW3 = np.array([1, 3, 9, 27, 81], dtype=np.uint16)


def packed_size_base3(n: int) -> int:
    """Bytes needed for ``n`` trits."""
    return -(-n // TRITS_PER_BYTE)


def pack_base3(trits: np.ndarray) -> np.ndarray:
    """Pack trits (any shape, flattened row-major) into a uint8 array, 5 per byte."""
    t = check_trits(trits).reshape(-1)
    digits = np.ones(packed_size_base3(t.size) * TRITS_PER_BYTE, dtype=np.uint16)
    digits[: t.size] = (t + 1).astype(np.uint16)
    return (digits.reshape(-1, TRITS_PER_BYTE) @ _POW3).astype(np.uint8)


def decode_base3_byte(byte: int) -> tuple[int, int, int, int, int]:
    """The five trits of one byte (slow, obviously-correct; what the hardware decoder does)."""
    if not 0 <= byte < 243:
        raise FormatError(f"base-3 byte {byte} is out of range (0-242)")
    out = []
    for _ in range(TRITS_PER_BYTE):
        out.append(byte % 3 - 1)
        byte //= 3
    return tuple(out)


def unpack_base3(data: np.ndarray | bytes, n: int) -> np.ndarray:
    """Unpack ``n`` trits (int8, flat); raises on a short buffer or a byte above 242."""
    b = as_bytes(data)
    need = packed_size_base3(n)
    if b.size != need:
        raise FormatError(f"base-3 data for {n} trits must be {need} bytes, got {b.size}")
    bad = b >= 243
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(f"invalid base-3 byte {int(b[i])} at byte index {i} (allowed 0-242)")
    v = b.astype(np.int16)[:, None] // _POW3.astype(np.int16)[None, :] % 3
    return (v.reshape(-1)[:n] - 1).astype(np.int8)
