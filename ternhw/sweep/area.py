"""The generic-gate cost model: gates per component as a non-negative linear function of a few
structural features, fitted on real Yosys runs (:mod:`ternhw.sweep.calibrate`).

Each component of the generated design (``ternhw.synth.area_breakdown``: Yosys ``synth``
without ABC, hierarchy kept, buffers left as memories so they are not gates) gets the features
its hardware is built from, so the fit extrapolates along the right axes:

=============  ============================================================================
component      features (R rows, C cols, A act_bits, B acc_bits, L requant_lanes)
=============  ============================================================================
array          ternary: R·C·(A+1) (negate/select per lane), R·(C-1)·tree width (adder trees);
               int8: R·C·8·A (multipliers), R·(C-1)·tree width
decoder        2bit: R·C; base3: ceil(R·C / 5) (one 243-entry table per byte); int8: none
accumulators   R·B, R·B if saturating, R
output stage   L·B (shift-and-add requantizers), L, R·B (snapshot, select), R, 1
controller     1, log2 of each buffer depth, log2 R·C
top level      1, R·B, C·A, R·C, R
=============  ============================================================================

Non-negative least squares keeps every coefficient a cost (no feature can make a design
cheaper), which keeps extrapolation to larger arrays monotone. The model is a cost model for
*generic gates*; it says nothing about LUTs or Fmax (not calibrated in this slice).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from ..config import AcceleratorConfig, config_from_dict
from ..errors import TernhwError

#: component key -> the label ``ternhw.synth.area_breakdown`` gives it
COMPONENT_LABELS = {
    "array": "MAC array (lanes, adder trees)",
    "decoder": "weight decoder",
    "accumulators": "accumulators",
    "output": "output stage (snapshot, shared requantizers, output word)",
    "controller": "controller",
    "top": "top level (pipeline registers, counters, glue)",
}
COMPONENTS = tuple(COMPONENT_LABELS)


def features(cfg: AcceleratorConfig) -> dict[str, list[float]]:
    """The feature vector of each component (see the module docstring)."""
    R, C, A, B, L = cfg.rows, cfg.cols, cfg.act_bits, cfg.acc_bits, cfg.requant_lanes
    tern = cfg.is_ternary
    sat = cfg.overflow == "saturate"
    tree = R * (C - 1) * cfg.tree_bits
    fmt = cfg.weight_format
    return {
        "array": [R * C * (A + 1) if tern else 0, R * C * 8 * A if not tern else 0,
                  tree if tern else 0, tree if not tern else 0],
        "decoder": [R * C if fmt == "2bit" else 0, -(-R * C // 5) if fmt == "base3" else 0],
        "accumulators": [R * B, R * B * sat, R],
        "output": [L * B, L, R * B, R, 1],
        "controller": [1, math.log2(cfg.weight_buffer_depth), math.log2(cfg.act_buffer_depth),
                       math.log2(R * C)],
        "top": [1, R * B, C * A, R * C, R],
    }


def component_targets(record: dict) -> dict[str, float]:
    """Measured gates per component of one calibration record."""
    bd = record["area_breakdown"]
    unknown = set(bd) - set(COMPONENT_LABELS.values())
    if unknown:
        raise TernhwError(f"calibration record {record['config'].get('name')!r} has a component "
                          f"the area model does not know: {sorted(unknown)[0]!r}")
    return {k: float(bd.get(label, 0)) for k, label in COMPONENT_LABELS.items()}


@dataclass(frozen=True)
class AreaModel:
    """Coefficients per component; :meth:`predict` gives gates per component."""

    coefficients: dict[str, tuple[float, ...]]

    def predict(self, cfg: AcceleratorConfig) -> dict[str, float]:
        f = features(cfg)
        return {k: float(np.dot(self.coefficients[k], f[k])) for k in COMPONENTS}

    def total(self, cfg: AcceleratorConfig) -> float:
        return sum(self.predict(cfg).values())

    def fingerprint(self) -> str:
        doc = json.dumps({k: list(v) for k, v in self.coefficients.items()}, sort_keys=True)
        return hashlib.sha256(doc.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {k: list(v) for k, v in self.coefficients.items()}


def fit(records: list[dict]) -> AreaModel:
    """Fit every component by non-negative least squares on ``records``."""
    from scipy.optimize import nnls

    if not records:
        raise TernhwError("the area model needs at least one calibration record")
    cfgs = [config_from_dict({k: v for k, v in r["config"].items()}, source="calibration")
            for r in records]
    targets = [component_targets(r) for r in records]
    coefs = {}
    for k in COMPONENTS:
        X = np.array([features(c)[k] for c in cfgs], dtype=float)
        y = np.array([t[k] for t in targets])
        scale = np.maximum(np.abs(X).max(axis=0), 1e-12)     # column scaling for conditioning
        sol, _ = nnls(X / scale, y)
        coefs[k] = tuple(float(v) for v in sol / scale)
    return AreaModel(coefs)


def relative_errors(model: AreaModel, records: list[dict]) -> list[float]:
    """``(predicted - measured) / measured`` of the total gates of each record."""
    out = []
    for r in records:
        cfg = config_from_dict(dict(r["config"]), source="calibration")
        out.append((model.total(cfg) - r["gates"]) / r["gates"])
    return out


def held_out_split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The fixed split the benchmark reports: every fourth record is held out."""
    train = [r for i, r in enumerate(records) if i % 4 != 3]
    test = [r for i, r in enumerate(records) if i % 4 == 3]
    return train, test


_SHIPPED: AreaModel | None = None


def shipped_model() -> AreaModel:
    """The model fitted on all shipped calibration records (memoized)."""
    global _SHIPPED
    if _SHIPPED is None:
        from .calibrate import load_calibration
        _SHIPPED = fit(load_calibration()["records"])
    return _SHIPPED
