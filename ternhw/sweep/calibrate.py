"""The calibration set of the area model and the Yosys runs behind it.

The area model (:mod:`ternhw.sweep.area`) is fitted on real generic-gate syntheses
(``ternhw.synth.synthesize(cfg, "generic", place_route=False)``: Yosys ``synth`` without ABC,
hierarchy kept, so every component's gates are counted separately). Each run of a small array
takes seconds, so the set holds only arrays up to 8x8, spread over every field the model sees:
shape, widths, overflow mode, weight format, shared requantizers and buffer depths. The results
ship in ``ternhw/data/sweep_calibration.json``; ``benchmarks/bench_area_model.py`` regenerates
them and prints the held-out error.

Fmax is *not* calibrated in this slice (it needs nextpnr place and route of every calibration
point); the sweep says so instead of inventing a number.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..config import AcceleratorConfig
from ..errors import TernhwError

CALIBRATION_FILE = "sweep_calibration.json"
#: array shapes (rows, cols) of the calibration set: all at most 8x8 so each run takes seconds
SHAPES = ((2, 2), (2, 4), (4, 2), (4, 4), (2, 8), (8, 2), (4, 8), (8, 4), (8, 8), (3, 5),
          (6, 3))
VARIANTS_PER_SHAPE = 3
SEED = 12


def calibration_configs(seed: int = SEED) -> list[AcceleratorConfig]:
    """The calibration set: for each shape in :data:`SHAPES`, a few configs drawn with a seeded
    generator over widths, overflow, weight format (one in five int8), requantizers and depths.
    Deterministic for a given ``seed``."""
    rng = random.Random(seed)
    out = []
    for rows, cols in SHAPES:
        for v in range(VARIANTS_PER_SHAPE):
            fmt = rng.choice(("2bit", "2bit", "base3", "base3", "int8"))
            act_bits = rng.choice((4, 6, 8))
            acc_bits = rng.choice((16, 20, 24, 32))
            lanes = rng.choice(sorted({1, max(1, rows // 2), rows}))
            out.append(AcceleratorConfig(
                name=f"cal_{rows}x{cols}_{v}", rows=rows, cols=cols, act_bits=act_bits,
                acc_bits=acc_bits, overflow=rng.choice(("wrap", "saturate")),
                weight_format=fmt, weight_bits=8 if fmt == "int8" else 1.58,
                weight_buffer_depth=rng.choice((64, 256, 1024, 4096)),
                act_buffer_depth=rng.choice((64, 256, 1024)), requant_lanes=lanes))
    return out


def run_calibration(configs: list[AcceleratorConfig], *,
                    log: Callable[[str], None] = print) -> list[dict]:
    """Synthesize each config with the generic flow (cached by RTL hash in the user cache) and
    return one record per config: the config, total gates, flip-flops and the per-component
    gate breakdown."""
    from ..synth import synthesize

    records = []
    for i, cfg in enumerate(configs):
        r = synthesize(cfg, "generic", place_route=False, log=lambda _m: None)
        took = "cached" if r.get("cached") else f"{r['total_s']:.1f}s"
        log(f"[{i + 1}/{len(configs)}] {cfg.name}: {r['gates']} gates ({took})")
        records.append({"config": cfg.to_dict(), "gates": r["gates"], "ffs": r["ffs"],
                        "cells": r["cells"], "area_breakdown": r["area_breakdown"],
                        "rtl_sha256": r["rtl_sha256"]})
    return records


def load_calibration(path: str | Path | None = None) -> dict:
    """The shipped calibration records (or those of ``path``)."""
    try:
        if path is None:
            text = resources.files("ternhw").joinpath("data", CALIBRATION_FILE).read_text()
            where = f"ternhw/data/{CALIBRATION_FILE}"
        else:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        doc = json.loads(text)
    except (OSError, ValueError) as e:
        raise TernhwError(f"cannot read the area calibration {path or CALIBRATION_FILE}: "
                          f"{e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise TernhwError(f"{where}: expected an object with a 'records' list")
    return doc
