"""One sweep end to end: space + workload -> evaluated points, constraints, front, outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_config, shipped_config_names
from ..errors import TernhwError
from .area import held_out_split, relative_errors, shipped_model
from .calibrate import load_calibration
from .energy import check_flip_flop_counts
from .evaluate import FMAX_NOTE, evaluate
from .pareto import Objective, front_indices
from .runner import Context, run_points
from .space import Space
from .workload import build_profile

#: What the page and JSON say about the energy figures.
ENERGY_MODEL = ("ternhw.energy.price_gemm: every action of every component, cited per action "
                "(Horowitz ISSCC 2014 and Aladdin logic, CACTI SRAM by word width and depth, "
                "DRAM by technology), priced in each point's logic_node_nm, dram_technology "
                "and vdd")


@dataclass
class SweepResult:
    doc: dict                          # metadata written beside the points
    rows: list[dict]                   # one per point, in space order
    front: list[int]                   # indices into rows
    shipped: list[dict] = field(default_factory=list)


def apply_constraints(space: Space, rows: list[dict]) -> None:
    """Mark valid points that break a constraint ``invalid: constraint ...`` (in place)."""
    for r in rows:
        if r["status"] != "ok":
            continue
        why = [v for c in space.constraints if (v := c.violation(r))]
        if why:
            r["status"] = "invalid: constraint " + "; ".join(why)
            r["reason_kind"] = "constraint"


def area_model_summary() -> dict:
    """Size and held-out error of the shipped area calibration (for the page and JSON)."""
    records = load_calibration()["records"]
    train, test = held_out_split(records)
    from .area import fit
    errs = [abs(e) for e in relative_errors(fit(train), test)]
    return {"records": len(records), "held_out_mean_abs": sum(errs) / len(errs),
            "held_out_max_abs": max(errs), "unit": "generic gates (Yosys $_*_ cells)",
            "coefficients": shipped_model().to_dict()}


def run_sweep(space: Space, workload: str, objectives: list[Objective], *,
              seq_len: int = 128, jobs: int | None = None,
              scheduler: str | None = None, use_cache: bool = True, progress: bool = True,
              log: Callable[[str], None] = print) -> SweepResult:
    """Evaluate every point of ``space`` on ``workload``, apply the constraints, and find the
    front over ``objectives``."""
    shipped_cfgs = [load_config(n) for n in shipped_config_names()]
    cols = {*space.axes.get("cols", [space.base.cols]), *(c.cols for c in shipped_cfgs)}
    cols = {c for c in cols if isinstance(c, int) and not isinstance(c, bool) and c > 0}
    log(f"profiling workload {workload} (event statistics for cols in {sorted(cols)})...")
    profile = build_profile(workload, sorted(cols), seq_len=seq_len)
    check_flip_flop_counts()
    ctx = Context(space, profile, shipped_model())
    where = f"Dask scheduler {scheduler}" if scheduler else f"{jobs or 'all'} local cores"
    log(f"evaluating {space.size:,} points ({where})...")
    rows = run_points(ctx, jobs=jobs, scheduler=scheduler, use_cache=use_cache,
                      progress=progress, log=log)
    apply_constraints(space, rows)
    front = front_indices(rows, objectives)
    for i in front:
        rows[i]["on_front"] = True
    shipped = []
    for c in shipped_cfgs:
        try:
            shipped.append({"name": c.name, "status": "ok", **evaluate(c, profile, ctx.area)})
        except TernhwError as e:
            shipped.append({"name": c.name, "status": f"invalid: {e}"})
    counts = {"points": len(rows), "ok": sum(r["status"] == "ok" for r in rows)}
    counts["invalid"] = counts["points"] - counts["ok"]
    counts["invalid_by_kind"] = {k: sum(r["reason_kind"] == k for r in rows)
                                 for k in ("config", "workload", "constraint")}
    doc = {
        "space": {"name": space.name, "source": space.source, "base": space.base.name,
                  "axes": space.axes,
                  "constraints": {c.key: c.bound for c in space.constraints}},
        "workload": {"spec": workload, "name": profile.name, "tokens": profile.tokens,
                     "real_weights": profile.real_weights, "macs": profile.macs,
                     "seq_len": seq_len},
        "objectives": [str(o) for o in objectives],
        "energy_model": ENERGY_MODEL,
        "area_model": area_model_summary(),
        "fmax_note": FMAX_NOTE,
        "counts": counts,
        "front_points": [rows[i]["point"] for i in front],
        "shipped_configs": shipped,
    }
    return SweepResult(doc, rows, front, shipped)


def resolve_space_path(spec: str) -> Path:
    """A space file path, or the name of a space shipped in ``ternhw/sweeps``."""
    from importlib import resources

    p = Path(spec)
    if p.suffix == ".toml" or p.exists():
        return p
    shipped = resources.files("ternhw").joinpath("sweeps", f"{spec}.toml")
    if shipped.is_file():
        return Path(str(shipped))
    names = sorted(f.name[:-5] for f in resources.files("ternhw").joinpath("sweeps").iterdir()
                   if f.name.endswith(".toml"))
    raise TernhwError(f"unknown space {spec!r}: give a .toml path or one of {', '.join(names)}")
