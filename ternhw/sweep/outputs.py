"""Writing a sweep: ``results.csv``, ``results.json``, ``front.json``, the PNG plots and
``index.html`` (the report's block document, ``ternhw.report.document``), all atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..config import AcceleratorConfig
from ..fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from ..report import document as d
from .area import COMPONENTS
from .evaluate import FMAX_NOTE
from .pareto import METRICS, Objective

CONFIG_FIELDS = tuple(f for f in AcceleratorConfig.__dataclass_fields__ if f != "name")
EXTRA_METRICS = ("time_s", "commands", "fmax_mhz")


def flat_row(r: dict) -> dict:
    """One CSV row: identity, status, every config field, every metric, gates by component."""
    out = {"point": r["point"], "status": r["status"], "reason_kind": r["reason_kind"],
           "on_front": r.get("on_front", False), "config_hash": r.get("config_hash")}
    cfg = r.get("config") or {}
    out.update({f: cfg.get(f) for f in CONFIG_FIELDS})
    out.update({m: r.get(m) for m in (*METRICS, *EXTRA_METRICS)})
    area = r.get("area_gates") or {}
    out.update({f"gates_{c}": area.get(c) for c in COMPONENTS})
    v = r.get("verified") or {}
    out.update({"verified": ("PASS" if v["passed"] else "FAIL") if v else "",
                "cycles_rtl": v.get("cycles_rtl"), "gates_yosys": v.get("gates_measured")})
    return out


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    flat = [flat_row(r) for r in rows]
    w = csv.DictWriter(buf, fieldnames=list(flat[0]) if flat else ["point"],
                       lineterminator="\n")
    w.writeheader()
    w.writerows(flat)
    return buf.getvalue()


def _fmt_cfg(c: dict) -> str:
    return (f"{c['rows']}x{c['cols']} {c['weight_format']} a{c['act_bits']}/acc{c['acc_bits']} "
            f"{c['overflow'][:3]} L{c['requant_lanes']} wb{c['weight_buffer_depth']} "
            f"ab{c['act_buffer_depth']} {c['clock_mhz']:g}MHz")


def write_outputs(outdir: Path, doc: dict, rows: list[dict], front: list[int],
                  shipped: list[dict], objectives: list[Objective],
                  verification: list[dict] | None = None) -> list[str]:
    """Write everything into ``outdir``; returns the file names written."""
    from . import plots

    outdir = Path(outdir)
    written = []
    atomic_write_text(outdir / "results.csv", to_csv(rows))
    atomic_write_json(outdir / "results.json", {**doc, "points": rows})
    atomic_write_json(outdir / "front.json", {**doc, "front": [rows[i] for i in front]})
    written += ["results.csv", "results.json", "front.json"]
    verified = {v["point"]: v["passed"] for v in verification or []}
    images = {}
    for a in range(len(objectives)):
        for b in range(a + 1, len(objectives)):
            x, y = objectives[a], objectives[b]
            name = f"pareto_{x.metric}_vs_{y.metric}.png"
            images[name] = plots.pareto_2d(rows, front, shipped, x, y, verified)
    axes = [k for k, v in doc["space"]["axes"].items() if len(v) > 1]
    if axes and any(r["status"] == "ok" for r in rows):
        images["axes.png"] = plots.axes_small_multiples(rows, front, axes, objectives[0])
    for name, data in images.items():
        atomic_write_bytes(outdir / name, data)
        written.append(name)
    html = d.to_html(blocks(doc, rows, front, shipped, objectives, images, verification),
                     images, f"ternhw sweep: {doc['space']['name']} on {doc['workload']['name']}")
    atomic_write_text(outdir / "index.html", html)
    written.append("index.html")
    return written


def blocks(doc, rows, front, shipped, objectives, images, verification) -> list[tuple]:
    c = doc["counts"]
    obj = ", ".join(str(o) for o in objectives)
    cal = doc["area_model"]
    out = [
        d.h(1, f"ternhw sweep: {doc['space']['name']} on {doc['workload']['name']}"),
        d.p(f"{c['points']:,} points ({c['ok']:,} valid, {c['invalid']:,} invalid), "
            f"{len(front)} on the Pareto front over {obj}. Space file {doc['space']['source']}, "
            f"base config {doc['space']['base']}. Cycles from the exact cycle model and "
            f"schedule, energy from the per-action energy model ({doc['energy_model']}), "
            "area from the generic-gate cost model."),
        d.p(f"Area model: non-negative linear per component, fitted on {cal['records']} Yosys "
            f"generic syntheses of arrays up to 8x8; held-out error of total gates: mean "
            f"{cal['held_out_mean_abs']:.1%}, max {cal['held_out_max_abs']:.1%} "
            "(benchmarks/bench_sweep_calibration.py). Arrays above 8x8 are extrapolated; "
            "--verify N synthesizes the N best front points and shows the error below."),
        d.p(FMAX_NOTE + "."),
        d.h(2, "Pareto front"),
    ]
    cols = [o.metric for o in objectives]
    extra = [m for m in ("tokens_per_s", "energy_per_token_uj", "gates", "on_chip_kb",
                         "utilization") if m not in cols]
    out.append(d.table(["point", "config", *cols, *extra],
                       [[rows[i]["point"], _fmt_cfg(rows[i]["config"]),
                         *[rows[i][m] for m in cols + extra]] for i in front[:100]]))
    if len(front) > 100:
        out.append(d.p(f"First 100 of {len(front)} front points; all are in front.json."))
    out += [d.image(n, n[:-4].replace("_", " ")) for n in images]
    if verification is not None:
        out.append(d.h(2, "Verification (co-simulation and generic synthesis)"))
        out.append(d.table(
            ["point", "passed", "cycles model", "cycles RTL", "mismatches", "gates model",
             "gates Yosys", "gates error", "notes"],
            [[v["point"], "PASS" if v["passed"] else "FAIL", v.get("cycles_model"),
              v.get("cycles_rtl"), v.get("mismatches"), v.get("gates_model"),
              v.get("gates_measured"), v.get("gates_error"), "; ".join(v.get("notes", []))]
             for v in verification]))
    out.append(d.h(2, "Shipped configs on the same workload"))
    out.append(d.table(["config", "status", "tokens_per_s", "energy_per_token_uj", "gates",
                        "on_chip_kb"],
                       [[s["name"], s["status"], s.get("tokens_per_s"),
                         s.get("energy_per_token_uj"), s.get("gates"), s.get("on_chip_kb")]
                        for s in shipped]))
    reasons: dict[str, int] = {}
    for r in rows:
        if r["status"] != "ok":
            reasons[r["status"]] = reasons.get(r["status"], 0) + 1
    out.append(d.h(2, "Invalid points"))
    out.append(d.table(["reason", "points"],
                       [[k, v] for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])])
               if reasons else d.p("None."))
    return out
