"""Random valid accelerator configurations and random GEMMs for them: the random-config
co-simulation regression (``tests/test_cosim.py``; replay one with ``python sim/random_config.py
SEED``).

Every choice is drawn from one seeded generator, so a seed names a configuration and its cases
exactly. The draws cover what the generator's parameters can do: array sides 2-16, activation
widths 2-8 bits, accumulators a few bits above the width a chunk's sum needs (so long K and
biases overflow them), both overflow modes, every weight format (2-bit and base-3 ternary,
int8), one requantizer or several, and small buffers (so the schedule's limits are met).
"""

from __future__ import annotations

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..model import Requant
from ..model.contract import REQUANT_MAX_SHIFT, REQUANT_MULT_BITS
from ..model.cycles import check_fits
from .runner import CosimCase

WEIGHT_FORMATS = ("2bit", "base3", "int8")


def random_config(seed: int) -> AcceleratorConfig:
    """A valid configuration drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    rows, cols = (int(v) for v in rng.integers(2, 17, size=2))
    act_bits = int(rng.integers(2, 9))
    fmt = WEIGHT_FORMATS[int(rng.integers(len(WEIGHT_FORMATS)))]
    weight_max_bits = 8 if fmt == "int8" else 1
    chunk_bits = act_bits + weight_max_bits + int(np.ceil(np.log2(cols)))
    acc_bits = int(np.clip(chunk_bits + rng.integers(0, 5), max(8, act_bits + 1), 32))
    return AcceleratorConfig(
        name=f"rand{seed}", rows=rows, cols=cols, act_bits=act_bits, acc_bits=acc_bits,
        overflow=("wrap", "saturate")[int(rng.integers(2))], weight_format=fmt,
        weight_bits=8 if fmt == "int8" else AcceleratorConfig.weight_bits,
        weight_buffer_depth=int(rng.choice([32, 64, 128])),
        act_buffer_depth=int(rng.choice([16, 32, 64])),
        requant_lanes=int(rng.integers(1, rows + 1)) if rng.random() < 0.4 else 1)


def random_cases(cfg: AcceleratorConfig, seed: int, count: int = 4) -> list[CosimCase]:
    """``count`` random GEMMs that fit ``cfg``: odd shapes, sparse and extreme operands, bias
    and requantization sometimes, random stream gaps and back-pressure sometimes."""
    rng = np.random.default_rng([seed, 1])
    lo, hi = cfg.act_min, cfg.act_max
    w_lo, w_hi = (-128, 127) if cfg.weight_format == "int8" else (-1, 1)
    cases = []
    while len(cases) < count:
        m = int(rng.integers(1, 6))
        k = int(rng.integers(1, 3 * cfg.cols + 2))
        n = int(rng.integers(1, 2 * cfg.rows + 2))
        try:
            check_fits(cfg, m, k, n)
        except TernhwError:
            continue
        extreme = rng.random() < 0.3
        x = (rng.choice([lo, hi], size=(m, k)) if extreme
             else rng.integers(lo, hi + 1, size=(m, k)))
        w = rng.integers(w_lo, w_hi + 1, size=(n, k)) * (rng.random((n, k)) >= rng.random())
        limit = 1 << (cfg.acc_bits - 1)
        bias = rng.integers(-limit, limit, size=n) if rng.random() < 0.5 else None
        rq = (Requant(int(rng.integers(1, 1 << REQUANT_MULT_BITS)),
                      int(rng.integers(0, min(REQUANT_MAX_SHIFT, cfg.acc_bits) + 1)),
                      relu=bool(rng.random() < 0.3)) if rng.random() < 0.5 else None)
        gaps = rng.random() < 0.4
        cases.append(CosimCase(f"{cfg.name}.case{len(cases)}", x, w, bias, rq,
                               p_valid=0.7 if gaps else 1.0, p_ready=0.5 if gaps else 1.0,
                               seed=seed * 100 + len(cases)))
    return cases
