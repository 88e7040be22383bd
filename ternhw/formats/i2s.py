"""bitnet.cpp's I2_S tensor layout (x86 kernels).

2 bits per weight, code ``0 = -1, 1 = 0, 2 = +1``. The tensor is flattened row-major and cut
into 128-element chunks of 32 bytes; element ``j`` of a chunk goes to byte ``j % 32`` of that
chunk at bit shift ``6 - 2 * (j // 32)``. After the packed data comes one float32 per-tensor
scale, and the scale is padded to a 32-byte tail. A tensor whose size is not a multiple of 128
is padded with zero trits (code 1); the caller keeps the shape to strip them.
Size: ``ceil(n / 128) * 32 + 32`` bytes.

This is the only layout ternhw reads or writes (``layout="x86"``). bitnet.cpp has others: the
ARM kernels' 64-element chunks of 16 bytes, the reference quantizer's sequential packing
(weight ``i`` in byte ``i // 4``), the row-interleaved "parallel" layouts of its tuned kernels;
the same bytes decode to *different* trits in each. Where the bytes themselves disagree with
this layout, :func:`unpack_i2s` refuses them: a size that matches another chunk size, padding
trits that are not zero, a tail that is not one float32 scale followed by zero bytes, or a
scale that is NaN or Inf. Any other layout name is refused up front. A foreign tensor of a
whole number of 128-element chunks passes every check (its size and padding agree): the
caller must know where its data came from.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError
from .trits import check_trits

CHUNK = 128
CHUNK_BYTES = 32
TAIL_BYTES = 32
#: The layout this module implements; every other bitnet.cpp layout is refused.
LAYOUT = "x86"
#: Chunk sizes (elements) of the other layouts, to name them when a buffer's size matches one.
FOREIGN_CHUNKS = {64: "bitnet.cpp's ARM layout (64-element chunks of 16 bytes)"}


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


def unpack_i2s(data: bytes, n: int, layout: str = LAYOUT) -> tuple[np.ndarray, float]:
    """Unpack ``n`` trits (int8, flat) and the float32 scale from I2_S bytes.

    Raises :class:`FormatError` for any other ``layout``, and for bytes that cannot be this
    layout (see the module docstring): decoding them anyway would give wrong trits silently.
    """
    if layout != LAYOUT:
        raise FormatError(
            f"I2_S layout {layout!r} is not supported: ternhw reads only bitnet.cpp's x86 layout "
            "(128-element chunks of 32 bytes, element j at byte j % 32, shift 6 - 2 * (j // 32))")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise FormatError(f"I2_S weight count must be a positive integer, not {n!r}")
    need = packed_size_i2s(n)
    if len(data) != need:
        raise FormatError(f"I2_S data for {n} weights must be {need} bytes, got {len(data)}"
                          + _foreign_size_hint(len(data), n))
    b = np.frombuffer(bytes(data), dtype=np.uint8)
    body = b[: need - TAIL_BYTES].reshape(-1, CHUNK_BYTES)
    all_codes = np.stack([(body >> s) & 3 for s in (6, 4, 2, 0)], axis=1).reshape(-1)
    codes = all_codes[:n]
    bad = codes == 3
    if bad.any():
        raise FormatError(f"invalid I2_S code 3 at weight index {int(np.argmax(bad))}")
    pad = all_codes[n:] != 1
    if pad.any():
        raise FormatError(
            f"I2_S padding after weight {n - 1} holds code {int(all_codes[n:][pad][0])} at "
            f"index {n + int(np.argmax(pad))}, not a zero trit (code 1): the data is not in "
            "ternhw's x86 layout (another chunk size or a parallel layout?), or n is wrong")
    return codes.astype(np.int8) - 1, _tail_scale(b[need - TAIL_BYTES:], need - TAIL_BYTES)


def _foreign_size_hint(size: int, n: int) -> str:
    for chunk, what in FOREIGN_CHUNKS.items():
        if size == -(-n // chunk) * (chunk // 4) + TAIL_BYTES:
            return f"; {size} bytes is the size in {what}, which ternhw does not read"
    return ""


def _tail_scale(tail: np.ndarray, offset: int) -> float:
    """The per-tensor scale from the 32-byte tail, which must be one float32 and zeros."""
    scale = float(np.frombuffer(tail[:4].tobytes(), dtype=np.float32)[0])
    if not np.isfinite(scale):
        raise FormatError(f"I2_S scale is {scale!r}, not a finite number: the tail is damaged "
                          "or in another layout")
    extra = np.flatnonzero(tail[4:])
    if extra.size:
        i = 4 + int(extra[0])
        raise FormatError(
            f"I2_S byte {offset + i} (tail byte {i}, after the scale) is {int(tail[i])}, not 0: "
            "the tail holds more than one float32 scale (per-row or per-block scales of "
            "another layout), which ternhw does not read")
    return scale
