"""The report's figures, each returned as PNG bytes (matplotlib's Agg backend, no display)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3"]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def energy_breakdown(workloads: dict[str, dict[str, dict]]) -> bytes:
    """Stacked bars: energy per inference (µJ) by component, ternary and int8 per workload."""
    names = list(workloads)
    comps = list(next(iter(workloads.values()))["ternary"]["components_pj"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        bottoms = [0.0, 0.0]
        for ci, comp in enumerate(comps):
            vals = [workloads[name][d]["components_pj"].get(comp, 0) / 1e6
                    for d in ("ternary", "int8")]
            ax.bar(["ternary", "int8"], vals, bottom=bottoms, color=COLORS[ci % len(COLORS)],
                   label=comp)
            bottoms = [b + v for b, v in zip(bottoms, vals, strict=True)]
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("energy per inference (µJ)")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def area_breakdown(breakdowns: dict[str, dict[str, int]]) -> bytes:
    """Horizontal bars: generic gates per component for each design."""
    labels = list(dict.fromkeys(k for b in breakdowns.values() for k in b))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.5))
    height = 0.8 / len(breakdowns)
    for i, (design, b) in enumerate(breakdowns.items()):
        ys = [j + i * height for j in range(len(labels))]
        ax.barh(ys, [b.get(k, 0) for k in labels], height=height, label=design,
                color=COLORS[i])
    ax.set_yticks([j + height * (len(breakdowns) - 1) / 2 for j in range(len(labels))])
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("generic gates (Yosys synth -noabc)")
    ax.legend()
    return _png(fig)


def ratios(ratios: dict[str, float]) -> bytes:
    """Bars of ternary / int8 ratios (1 = parity; below 1 the ternary design wins)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    keys = [k for k, v in ratios.items() if v is not None]
    vals = [ratios[k] for k in keys]
    bars = ax.bar(range(len(keys)), vals, color=[COLORS[2] if v < 1 else COLORS[3]
                                                 for v in vals])
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("ternary / int8")
    for b, v in zip(bars, vals, strict=True):
        ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.2f}", ha="center", va="bottom",
                fontsize=8)
    return _png(fig)


def roofline(peak_ops: float, bandwidth: float, points: list[dict]) -> bytes:
    """Log-log roofline: attainable ops/s vs operational intensity, with each layer."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [p["intensity"] for p in points] or [1.0]
    lo, hi = min(xs + [peak_ops / bandwidth]) / 4, max(xs + [peak_ops / bandwidth]) * 4
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.loglog(grid, [min(peak_ops, x * bandwidth) for x in grid], color="black", lw=1.2,
              label=f"roof: {peak_ops / 1e9:.1f} GOPS, {bandwidth / 1e9:.1f} GB/s")
    groups = dict.fromkeys(p["workload"] for p in points)
    for i, g in enumerate(groups):
        ps = [p for p in points if p["workload"] == g]
        ax.scatter([p["intensity"] for p in ps], [p["achieved"] for p in ps], s=18,
                   color=COLORS[i % len(COLORS)], label=g)
    ax.set_xlabel("operational intensity (ops per DRAM byte)")
    ax.set_ylabel("ops/s (2 per MAC)")
    ax.legend(fontsize=7)
    return _png(fig)


def layer_sparsity(layers: list[dict]) -> bytes:
    """Per-layer zero fraction and dead-zone boundary mass of the ternarized weights."""
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(layers) + 2), 3.8))
    x = range(len(layers))
    ax.bar(x, [100 * la["zero_fraction"] for la in layers], color=COLORS[0], label="zeros %")
    ax.plot(x, [100 * la["boundary_mass"] for la in layers], "o-", color=COLORS[3], ms=3,
            label="boundary mass % (within 5% of the threshold)")
    ax.set_xticks(list(x))
    ax.set_xticklabels([la["name"].replace("encoder.layer.", "L").replace(".weight", "")
                        for la in layers], rotation=90, fontsize=6)
    ax.set_ylabel("% of weights")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper right")
    return _png(fig)
