"""Objectives and the non-dominated (Pareto) set.

Objectives are given as ``metric:max`` or ``metric:min``, comma-separated
(``tokens_per_s:max,energy_per_token:min,gates:min``). ``energy_per_token`` is accepted for
``energy_per_token_uj``. A point dominates another when it is at least as good in every
objective and better in one; the front is the set of valid points nothing dominates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TernhwError

#: Result metrics (name -> unit, direction that is usually better) usable as objectives.
METRICS = {
    "tokens_per_s": ("tokens/s at clock_mhz, compute-bound", "max"),
    "tokens_per_s_roofline": ("tokens/s at clock_mhz, with the DRAM roofline", "max"),
    "energy_per_token_uj": ("µJ per token", "min"),
    "energy_per_mac_pj": ("pJ per MAC", "min"),
    "gates": ("generic gates (cost model)", "min"),
    "on_chip_kb": ("KiB of on-chip buffers", "min"),
    "utilization": ("useful MACs per lane-cycle", "max"),
    "cycles": ("cycles per inference", "min"),
    "dram_bytes": ("off-chip bytes per inference", "min"),
    "weight_reload_factor": ("off-chip / unique weight bytes", "min"),
}
ALIASES = {"energy_per_token": "energy_per_token_uj", "energy_per_mac": "energy_per_mac_pj",
           "area": "gates", "on_chip": "on_chip_kb"}
DEFAULT_OBJECTIVES = "tokens_per_s:max,energy_per_token:min,gates:min"


@dataclass(frozen=True)
class Objective:
    metric: str
    sense: str           # "max" or "min"

    def __str__(self) -> str:
        return f"{self.metric}:{self.sense}"


def parse_objectives(text: str) -> list[Objective]:
    """``"a:max,b:min"`` -> objectives; one clear error for anything else."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        metric, _, sense = part.partition(":")
        metric = ALIASES.get(metric, metric)
        if metric not in METRICS:
            raise TernhwError(f"--objectives: unknown metric {metric!r}; known: "
                              f"{', '.join(METRICS)}")
        sense = sense or METRICS[metric][1]
        if sense not in ("max", "min"):
            raise TernhwError(f"--objectives: {part!r}: the direction must be max or min, "
                              f"not {sense!r}")
        if any(o.metric == metric for o in out):
            raise TernhwError(f"--objectives: {metric} is listed twice")
        out.append(Objective(metric, sense))
    if len(out) < 2:
        raise TernhwError("--objectives needs at least two objectives, e.g. "
                          f"{DEFAULT_OBJECTIVES}")
    return out


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (every column to be minimized).

    Duplicate rows are all kept (neither dominates the other). Sorting by the first column
    lets each row be compared only with the rows kept so far that could dominate it."""
    n = len(values)
    order = np.lexsort(values.T[::-1])
    keep = np.zeros(n, dtype=bool)
    front: list[int] = []
    for i in order:
        v = values[i]
        if front:
            f = values[front]
            dominated = np.any(np.all(f <= v, axis=1) & np.any(f < v, axis=1))
            if dominated:
                continue
        keep[i] = True
        front.append(i)
    return keep


def front_indices(rows: list[dict], objectives: list[Objective]) -> list[int]:
    """Indices into ``rows`` of the valid (status ``ok``) non-dominated points, best first by
    the first objective."""
    ok = [i for i, r in enumerate(rows) if r["status"] == "ok"]
    if not ok:
        return []
    vals = np.array([[r[o.metric] if o.sense == "min" else -r[o.metric] for o in objectives]
                     for r in (rows[i] for i in ok)], dtype=float)
    mask = pareto_mask(vals)
    idx = [ok[j] for j in np.flatnonzero(mask)]
    first = objectives[0]
    return sorted(idx, key=lambda i: rows[i][first.metric] * (-1 if first.sense == "max"
                                                                    else 1))
