"""The report's figures, each returned as PNG bytes (matplotlib's Agg backend, no display)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
          "#8c8c8c", "#ccb974", "#64b5cd"]


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes (closed afterwards, so long runs do not accumulate figures)."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def energy_breakdown(workloads: dict[str, dict[str, dict]], labels: dict[str, str]) -> bytes:
    """Stacked bars: energy per token (µJ) by group, one bar per design, one panel per
    workload (``workloads[name][design]["groups_pj"]``, ``tokens`` alongside)."""
    names = list(workloads)
    groups = list(dict.fromkeys(g for w in workloads.values() for e in w.values()
                                if isinstance(e, dict) for g in e["groups_pj"]))
    fig, axes = plt.subplots(1, len(names), figsize=(4.4 * len(names), 4.4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        designs = [k for k, v in workloads[name].items() if isinstance(v, dict)]
        bottoms = [0.0] * len(designs)
        for gi, g in enumerate(groups):
            vals = [workloads[name][k]["groups_pj"].get(g, 0) / 1e6
                    / workloads[name][k]["tokens"] for k in designs]
            ax.bar([labels.get(k, k) for k in designs], vals, bottom=bottoms,
                   color=COLORS[gi % len(COLORS)], label=g)
            bottoms = [b + v for b, v in zip(bottoms, vals, strict=True)]
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("energy per token (µJ)")
        ax.tick_params(axis="x", labelsize=7)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return png_bytes(fig)


def energy_per_design(title: str, workloads: dict[str, dict[str, float]]) -> bytes:
    """One design: stacked bars of pJ per MAC by group, one bar per workload
    (``workloads[name] = {group: pJ per MAC}``)."""
    names = list(workloads)
    groups = list(dict.fromkeys(g for w in workloads.values() for g in w))
    fig, ax = plt.subplots(figsize=(2.2 * len(names) + 3.5, 4.2))
    bottoms = [0.0] * len(names)
    for gi, g in enumerate(groups):
        vals = [workloads[n].get(g, 0.0) for n in names]
        ax.bar(range(len(names)), vals, bottom=bottoms, color=COLORS[gi % len(COLORS)],
               label=g)
        bottoms = [b + v for b, v in zip(bottoms, vals, strict=True)]
    for x, top in enumerate(bottoms):
        ax.text(x, top, f"{top:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=7, rotation=10)
    ax.set_ylabel("energy per MAC (pJ)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return png_bytes(fig)


def sensitivity(dram: dict[str, dict[str, float]], buffer: dict[str, list[dict]],
                labels: dict[str, str], workload: str) -> bytes:
    """Energy per token vs the off-chip technology (grouped bars) and vs the weight-buffer
    size (lines, KB on a log axis)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    techs = list(dram)
    designs = list(dict.fromkeys(k for v in dram.values() for k in v))
    width = 0.8 / max(len(designs), 1)
    for i, k in enumerate(designs):
        a1.bar([j + i * width for j in range(len(techs))], [dram[t].get(k, 0) for t in techs],
               width=width, color=COLORS[i % len(COLORS)], label=labels.get(k, k))
    a1.set_xticks([j + width * (len(designs) - 1) / 2 for j in range(len(techs))])
    a1.set_xticklabels(techs, fontsize=8)
    a1.set_ylabel("energy per token (µJ)")
    a1.set_title(f"off-chip technology ({workload})", fontsize=9)
    a1.legend(fontsize=7)
    for i, (k, rows) in enumerate(buffer.items()):
        pts = [r for r in rows if r.get("uj_per_token") is not None]
        a2.plot([r["kb"] for r in pts], [r["uj_per_token"] for r in pts], "o-",
                color=COLORS[i % len(COLORS)], label=labels.get(k, k))
        for r in pts:
            a2.annotate(f"x{r['weight_reload_factor']:.2g}", (r["kb"], r["uj_per_token"]),
                        fontsize=6, textcoords="offset points", xytext=(3, 3))
    a2.set_xscale("log", base=2)
    kbs = sorted({r["kb"] for rows in buffer.values() for r in rows})
    a2.set_xticks(kbs)
    a2.set_xticklabels([f"{k:,.0f}" for k in kbs], fontsize=7)
    a2.minorticks_off()
    a2.set_xlabel("weight buffer (KB); labels: weight reload factor")
    a2.set_ylabel("energy per token (µJ)")
    a2.set_title(f"weight buffer size ({workload})", fontsize=9)
    a2.legend(fontsize=7)
    return png_bytes(fig)


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
    return png_bytes(fig)


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
    return png_bytes(fig)


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
    return png_bytes(fig)


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
    return png_bytes(fig)
