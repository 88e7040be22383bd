"""Validation shared by every packing format."""

from __future__ import annotations

import numpy as np

from ..errors import FormatError


def check_trits(trits: np.ndarray, what: str = "trits") -> np.ndarray:
    """Return ``trits`` as int8, raising if any value is not -1, 0 or +1 (NaN included)."""
    a = np.asarray(trits)
    if a.dtype.kind == "f":
        bad = ~np.isin(a, (-1.0, 0.0, 1.0))
    elif a.dtype.kind in "iu":
        bad = (a < -1) | (a > 1) if a.dtype.kind == "i" else a > 1
    else:
        raise FormatError(f"{what}: expected ternary integers, got dtype {a.dtype}")
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise FormatError(
            f"{what}: {int(bad.sum())} non-ternary value(s); first {a[idx]!r} at index "
            f"{idx if len(idx) > 1 else idx[0]} (allowed: -1, 0, +1)"
        )
    return a.astype(np.int8)


def as_bytes(data) -> np.ndarray:
    """A packed buffer (bytes, bytearray or an array of uint8) as a flat uint8 array."""
    if isinstance(data, bytes | bytearray):
        return np.frombuffer(bytes(data), dtype=np.uint8)
    return np.asarray(data, dtype=np.uint8).reshape(-1)
