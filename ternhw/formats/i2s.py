"""bitnet.cpp's I2_S tensor layout (x86 kernels).

2 bits per weight, code ``0 = -1, 1 = 0, 2 = +1``. The tensor is flattened row-major and cut
into 128-element chunks of 32 bytes; element ``j`` of a chunk goes to byte ``j % 32`` of that
chunk at bit shift ``6 - 2 * (j // 32)``. After the packed data comes one float32 per-tensor
scale, and the scale is padded to a 32-byte tail. A tensor whose size is not a multiple of 128
is padded with zero trits (code 1); the caller keeps the shape to strip them.
Size: ``ceil(n / 128) * 32 + 32`` bytes.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError
from .trits import check_trits

CHUNK = 128
CHUNK_BYTES = 32
TAIL_BYTES = 32


def packed_size_i2s(n: int) -> int:
    return -(-n // CHUNK) * CHUNK_BYTES + TAIL_BYTES


def pack_i2s(trits: np.ndarray, scale: float) -> bytes:
    """Pack trits with one per-tensor float32 scale into I2_S bytes."""
    t = check_trits(trits).reshape(-1)
    if not np.isfinite(scale):
        raise FormatError(f"I2_S scale must be finite, not {scale!r}")
    n_chunks = -(-t.size // CHUNK)
    codes = np.ones(n_chunks * CHUNK, dtype=np.uint8)
    codes[: t.size] = (t + 1).astype(np.uint8)
    # chunk c, element j = 32 * g + b  ->  byte b, shift 6 - 2 g
    c = codes.reshape(n_chunks, 4, CHUNK_BYTES)
    packed = (c[:, 0] << 6) | (c[:, 1] << 4) | (c[:, 2] << 2) | c[:, 3]
    tail = np.zeros(TAIL_BYTES, dtype=np.uint8)
    tail[:4] = np.frombuffer(np.float32(scale).tobytes(), dtype=np.uint8)
    return packed.astype(np.uint8).tobytes() + tail.tobytes()


def unpack_i2s(data: bytes, n: int) -> tuple[np.ndarray, float]:
    """Unpack ``n`` trits (int8, flat) and the float32 scale from I2_S bytes."""
    need = packed_size_i2s(n)
    if len(data) != need:
        raise FormatError(f"I2_S data for {n} weights must be {need} bytes, got {len(data)}")
    b = np.frombuffer(data, dtype=np.uint8)
    body = b[: need - TAIL_BYTES].reshape(-1, CHUNK_BYTES)
    codes = np.stack([(body >> s) & 3 for s in (6, 4, 2, 0)], axis=1).reshape(-1)[:n]
    bad = codes == 3
    if bad.any():
        raise FormatError(f"invalid I2_S code 3 at weight index {int(np.argmax(bad))}")
    scale = float(np.frombuffer(b[need - TAIL_BYTES: need - TAIL_BYTES + 4].tobytes(),
                                dtype=np.float32)[0])
    return codes.astype(np.int8) - 1, scale
