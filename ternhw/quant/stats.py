"""Per-matrix statistics of a ternarization."""

from __future__ import annotations

import numpy as np

from .ternarize import TernaryTensor

#: Half-width of the dead-zone boundary band, relative to the threshold (Tequila, 2509.23809).
BOUNDARY_BAND = 0.05


def ternary_stats(w: np.ndarray, tt: TernaryTensor) -> dict[str, float]:
    """Statistics of ``tt`` as a ternarization of ``w``.

    ``zero_fraction``, ``pos_fraction``, ``neg_fraction``
        Fractions of trits equal to 0, +1, -1.
    ``balance``
        ``(n(+1) - n(-1)) / (n(+1) + n(-1))``; 0 when there are no non-zero trits.
    ``rel_error``
        ``||W - s T||_F / ||W||_F`` (0 for an all-zero ``W``).
    ``boundary_mass``
        Fraction of weights with ``| |W| - delta | <= 0.05 delta``, ``delta`` the dead-zone
        threshold: the weights the Tequila paper finds trapped at the rounding boundary.
    """
    w = np.asarray(w, dtype=np.float64)
    t = tt.trits
    n = t.size
    n_pos = int(np.count_nonzero(t > 0))
    n_neg = int(np.count_nonzero(t < 0))
    nz = n_pos + n_neg
    norm = float(np.linalg.norm(w))
    err = float(np.linalg.norm(w - tt.dequantize())) / norm if norm > 0 else 0.0
    delta = tt.expand(tt.threshold)
    boundary = np.abs(np.abs(w) - delta) <= BOUNDARY_BAND * delta
    return {
        "zero_fraction": (n - nz) / n,
        "pos_fraction": n_pos / n,
        "neg_fraction": n_neg / n,
        "balance": (n_pos - n_neg) / nz if nz else 0.0,
        "rel_error": err,
        "boundary_mass": float(np.count_nonzero(boundary & (delta > 0))) / n,
    }
