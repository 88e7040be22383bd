"""The sweep's figures as PNG bytes (matplotlib Agg, no display)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..report.plots import png_bytes  # noqa: E402
from .pareto import METRICS, Objective  # noqa: E402

LOG_METRICS = {"tokens_per_s", "tokens_per_s_roofline", "energy_per_token_uj", "gates",
               "cycles", "dram_bytes", "on_chip_kb", "energy_per_mac_pj"}


def _label(o: Objective) -> str:
    return f"{o.metric} ({METRICS[o.metric][0]}; {o.sense})"


def pareto_2d(rows: list[dict], front: list[int], shipped: list[dict], x: Objective,
              y: Objective, verified: dict[int, bool] | None = None) -> bytes:
    """All valid points (grey), the front over *all* objectives (blue; in two dimensions some
    front points look dominated, since they win on another objective), the shipped configs
    (red stars, labelled) and verified front points (green ring: passed, red cross: failed)."""
    ok = [r for r in rows if r["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.scatter([r[x.metric] for r in ok], [r[y.metric] for r in ok], s=6, c="#bbbbbb",
               label=f"valid points ({len(ok):,})", linewidths=0)
    fr = [rows[i] for i in front]
    ax.scatter([r[x.metric] for r in fr], [r[y.metric] for r in fr], s=16, c="#4c72b0",
               label=f"Pareto front ({len(fr)})")
    for s in shipped:
        if s.get("status") != "ok":
            continue
        ax.scatter([s[x.metric]], [s[y.metric]], marker="*", s=140, c="#c44e52",
                   edgecolors="black", linewidths=0.5, zorder=5)
        ax.annotate(s["name"], (s[x.metric], s[y.metric]), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    if shipped:
        ax.scatter([], [], marker="*", s=100, c="#c44e52", label="shipped configs")
    for i, passed in (verified or {}).items():
        r = rows[i]
        if passed:
            ax.scatter([r[x.metric]], [r[y.metric]], s=90, facecolors="none",
                       edgecolors="#55a868", marker="o", linewidths=1.5, zorder=6)
        else:
            ax.scatter([r[x.metric]], [r[y.metric]], s=90, c="#c44e52", marker="x",
                       linewidths=1.5, zorder=6)
    for axis, o in ((ax.set_xscale, x), (ax.set_yscale, y)):
        if o.metric in LOG_METRICS:
            axis("log")
    ax.set_xlabel(_label(x), fontsize=8)
    ax.set_ylabel(_label(y), fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return png_bytes(fig)


def axes_small_multiples(rows: list[dict], front: list[int], axes: list[str],
                         objective: Objective) -> bytes:
    """One panel per swept axis: the first objective against the axis value, front points
    highlighted, so it shows which values the front uses."""
    ok = [r for r in rows if r["status"] == "ok"]
    n = max(1, len(axes))
    cols = min(4, n)
    nrows = -(-n // cols)
    fig, grid = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False)
    fr = [rows[i] for i in front]
    for k, name in enumerate(axes):
        ax = grid[k // cols][k % cols]
        values = sorted({r["config"][name] for r in ok}, key=lambda v: (isinstance(v, str), v))
        pos = {v: j for j, v in enumerate(values)}
        ax.scatter([pos[r["config"][name]] for r in ok], [r[objective.metric] for r in ok],
                   s=4, c="#bbbbbb", linewidths=0)
        ax.scatter([pos[r["config"][name]] for r in fr], [r[objective.metric] for r in fr],
                   s=12, c="#4c72b0")
        ax.set_xticks(range(len(values)), [str(v) for v in values], fontsize=7)
        ax.set_title(name, fontsize=8)
        if objective.metric in LOG_METRICS:
            ax.set_yscale("log")
        ax.tick_params(axis="y", labelsize=7)
    for k in range(n, nrows * cols):
        grid[k // cols][k % cols].axis("off")
    fig.suptitle(f"{objective.metric} by axis value (blue: front)", fontsize=9)
    return png_bytes(fig)
