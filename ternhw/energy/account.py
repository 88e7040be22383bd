"""Energy of a workload, action by action: ``price_gemm`` turns the golden model's events and
the schedule of one GEMM into a :class:`Breakdown` whose lines (component, action, count, pJ
each, source, flags) sum exactly to its total.

Typical use (what ``ternhw.report`` does per layer)::

    tech = Technology(node_nm=45, dram="LPDDR4")
    plan = layer_schedule(cfg, layer)
    ev = layer_events(cfg, layer, plan)
    e = price_gemm(cfg, ev, plan, macs=layer.macs, count=layer.count, tech=tech)
    total = Breakdown.empty()
    total = total + e            # layers add up; lines with the same action merge
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import AcceleratorConfig
from ..model.contract import Events
from ..model.schedule import GemmSchedule
from .components import Activity, components_for
from .tech import Cost, Technology


@dataclass
class Line:
    """``count`` x ``pj_each`` = ``total_pj`` of one action of one component."""

    component: str
    action: str
    count: float
    pj_each: float
    total_pj: float
    source: str
    flags: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict:
        return {"component": self.component, "action": self.action, "count": self.count,
                "pj_each": self.pj_each, "total_pj": self.total_pj, "source": self.source,
                "flags": list(self.flags), "note": self.note,
                "interpolated": "interpolated" in self.flags or "extrapolated" in self.flags,
                "assumption": "assumption" in self.flags}


@dataclass
class Breakdown:
    """Energy of a workload in pJ, line by line. ``total`` is the sum of the lines; ``per_mac``,
    ``macs``, ``components`` (pJ by component), ``+`` and ``to_dict()`` (``total_pj``,
    ``per_mac_pj``, ``macs``, ``components_pj``, ``lines``) summarize it."""

    lines: list[Line] = field(default_factory=list)
    macs: int = 0
    technology: dict = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Breakdown:
        return cls()

    @property
    def total(self) -> float:
        return sum(li.total_pj for li in self.lines)

    @property
    def per_mac(self) -> float:
        return self.total / self.macs if self.macs else 0.0

    @property
    def components(self) -> dict[str, float]:
        """pJ by component, in the order of the hardware."""
        out: dict[str, float] = {}
        for li in self.lines:
            out[li.component] = out.get(li.component, 0.0) + li.total_pj
        return out

    def __add__(self, other: Breakdown) -> Breakdown:
        merged: dict[tuple[str, str], Line] = {}
        for li in [*self.lines, *other.lines]:
            key = (li.component, li.action)
            if key not in merged:
                merged[key] = Line(**{**li.__dict__})
                continue
            m = merged[key]
            m.count += li.count
            m.total_pj += li.total_pj
            m.pj_each = m.total_pj / m.count if m.count else li.pj_each
        return Breakdown(list(merged.values()), self.macs + other.macs,
                         self.technology or other.technology)

    def to_dict(self) -> dict:
        return {"total_pj": self.total, "per_mac_pj": self.per_mac, "macs": self.macs,
                "components_pj": self.components, "technology": self.technology,
                "lines": [li.to_dict() for li in self.lines]}


def activity(cfg: AcceleratorConfig, ev: Events, plan: GemmSchedule,
             count: int = 1) -> Activity:
    """Action counts of ``count`` instances of one GEMM: ``ev`` are the events of all
    instances (as ``ternhw.report.workloads.layer_events`` returns them), ``plan`` the
    schedule of one instance (its cycles, words and off-chip bytes are multiplied here). An
    n-blocked schedule's commands cover each (token, N-tile) once, so the result words are
    ``ceil(n / rows) x m`` whatever the column blocks (each block but the last is whole
    tiles); its activations re-read per block are in ``ev`` and ``plan.act_bytes``."""
    nt = -(-plan.n // cfg.rows)
    out_words = nt * plan.m * count
    bias_word_bits = cfg.rows * cfg.acc_bits
    return Activity(
        array_steps=ev.array_steps, lane_add=ev.lane_add, lane_sub=ev.lane_sub,
        lane_skip=ev.lane_skip, lane_mul=ev.lane_mul, lane_idle=ev.lane_idle,
        acc_updates=ev.acc_updates, acc_skips=ev.acc_skips,
        overflow_events=ev.overflow_events, requant_ops=ev.requant_ops,
        outputs_written=ev.outputs_written,
        act_writes=ev.act_buffer_writes, act_reads=ev.act_buffer_reads,
        wgt_writes=ev.weight_buffer_writes, wgt_reads=ev.weight_buffer_reads,
        out_words=out_words,
        bias_words=plan.bias_bytes * 8 / bias_word_bits * count,
        bias_firsts=out_words if plan.bias else 0,
        cycles=plan.total_cycles * count,
        offchip_weight_bits=plan.weight_bytes * 8 * count,
        offchip_act_bits=plan.act_bytes * 8 * count,
        offchip_bias_bits=plan.bias_bytes * 8 * count,
        offchip_out_bits=plan.out_bytes * 8 * count,
    )


def price(cfg: AcceleratorConfig, act: Activity, *, macs: int = 0,
          tech: Technology | None = None, clock_mhz: float | None = None) -> Breakdown:
    """Σ count x energy over every action of every component of ``cfg`` (one line each, zero
    counts included so the report lists every action)."""
    tech = tech or Technology()
    lines = []
    for comp in components_for(cfg, tech, clock_mhz):
        costs, counts = comp.actions(), comp.counts(act)
        for action, cost in costs.items():
            n = float(counts.get(action, 0))
            lines.append(Line(comp.name, action, n, cost.pj, n * cost.pj, cost.source,
                              cost.flags, cost.note))
    return Breakdown(lines, macs, {**tech.describe(),
                                   "clock_mhz": clock_mhz or cfg.clock_mhz})


def price_gemm(cfg: AcceleratorConfig, ev: Events, plan: GemmSchedule, *, macs: int | None = None,
               count: int = 1, tech: Technology | None = None,
               clock_mhz: float | None = None) -> Breakdown:
    """The energy breakdown of ``count`` instances of one GEMM.

    Parameters
    ----------
    ev : Events
        Events of all ``count`` instances (golden model or ``layer_events``).
    plan : GemmSchedule
        The schedule of one instance: cycles (clock tree, controller, leakage, idle buffer
        reads), result and bias words, and off-chip bytes per stream (DRAM).
    macs : int, optional
        Useful MACs, for ``per_mac``; default ``m x k x n x count``.
    tech : Technology, optional
        Logic node and off-chip technology; default ``Technology()`` = 45 nm, LPDDR4.
    clock_mhz : float, optional
        Clock for leakage energy per cycle; default ``cfg.clock_mhz``.
    """
    if macs is None:
        macs = plan.m * plan.k * plan.n * count
    return price(cfg, activity(cfg, ev, plan, count), macs=macs, tech=tech, clock_mhz=clock_mhz)


def action_table(cfg: AcceleratorConfig, tech: Technology | None = None,
                 clock_mhz: float | None = None) -> list[dict]:
    """Every component's actions with pJ each, source and flags (the report's per-action
    table): ``[{component, action, pj, source, flags, note}]``."""
    tech = tech or Technology()
    return [{"component": c.name, "action": a, **cost.to_dict()}
            for c in components_for(cfg, tech, clock_mhz) for a, cost in c.actions().items()]


__all__ = ["Activity", "Breakdown", "Cost", "Line", "action_table", "activity", "price",
           "price_gemm"]
