"""The analytic evaluation of one design point on one workload profile.

Per point, for each layer group of the profile:

* the schedule (``ternhw.model.schedule.schedule_gemm``) gives commands, exact cycles, how
  many N-tiles the commands load and how many column blocks it has (each reads the tokens'
  activations again); it depends only on the shape and on ``rows``, ``cols``,
  ``requant_lanes`` and the buffer depths, so it is memoized per process on those;
* event counts are rebuilt from the group's weight statistics exactly as
  ``ternhw.model.gemm.count_events`` and ``ternhw.report.workloads.layer_events`` form them
  (``tests/test_sweep.py`` holds them equal), without touching a weight;
* energy is ``ternhw.energy.price_gemm``'s: the events and the schedule's words, cycles and
  off-chip bytes become an :class:`~ternhw.energy.components.Activity` per group
  (``ternhw.energy.account.activity``), the groups' activities are summed and priced once with
  the per-action costs of the point's hardware and technology (``logic_node_nm``,
  ``dram_technology``, ``vdd``; :mod:`ternhw.sweep.energy`).

Units: cycles per inference, seconds, bytes, picojoules internally; the result row reports
energy per token in microjoules, on-chip memory in KiB (1024 B) and area in generic gates
(Yosys ``$_*_`` cells, buffers excluded; see :mod:`ternhw.sweep.area`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import AcceleratorConfig
from ..energy.account import activity
from ..errors import TernhwError
from ..model.contract import Events
from ..model.schedule import schedule_gemm
from .energy import add_activity, price_list
from .workload import LayerGroup, WorkloadProfile

#: Bumped whenever the evaluation changes, so cached results of the old one are not reused.
EVALUATOR_VERSION = 3
FMAX_NOTE = ("Fmax not calibrated in this slice (needs nextpnr place and route); throughput "
             "is at the config's target clock_mhz")

_PLANS: dict[tuple, tuple | str] = {}


def _plan(cfg: AcceleratorConfig, g: LayerGroup) -> tuple[int, int, int, int]:
    """``(cycles, tile_loads, commands, blocks)`` of one instance of ``g`` on ``cfg``:
    ``tile_loads`` the N-tiles the commands load (those without ``keep_weights``), ``blocks``
    the schedule's column blocks; memoized on what the schedule depends on. Raises
    :class:`TernhwError` when it does not fit."""
    key = (g.m, g.k, g.n, g.bias, cfg.rows, cfg.cols, cfg.requant_lanes,
           cfg.weight_buffer_depth, cfg.act_buffer_depth)
    hit = _PLANS.get(key)
    if hit is None:
        try:
            s = schedule_gemm(cfg, g.m, g.k, g.n, bias=g.bias, requant=g.requant)
            hit = (s.total_cycles,
                   sum(-(-c.n // cfg.rows) for c in s.commands if not c.keep_weights),
                   len(s.commands), s.blocks)
        except TernhwError as e:
            hit = str(e).replace(f" of config {cfg.name!r}", "").replace(
                f" but config {cfg.name!r} has", " but")
        if len(_PLANS) > 200_000:
            _PLANS.clear()
        _PLANS[key] = hit
    if isinstance(hit, str):
        raise TernhwError(f"layer {g.key}: {hit}")
    return hit


def group_events(cfg: AcceleratorConfig, g: LayerGroup, tile_loads: int,
                 blocks: int) -> Events:
    """Events of all instances of ``g``: ``count_events`` summed over the schedule's commands
    (its terms are linear in the tokens ``m`` and, over column blocks, in the weight rows),
    ``tile_loads`` N-tiles of weights loaded and the tokens' activations written once per
    column block (``blocks``) per instance, and the layer's requantization as
    ``layer_events`` sets it."""
    C, R = cfg.cols, cfg.rows
    T, NT = -(-g.k // C), -(-g.n // R)
    m, n, k, inst = g.m, g.n, g.k, g.instances
    steps = NT * m * T * inst
    macs = m * n * k * inst
    ev = Events(array_steps=steps)
    if cfg.is_ternary:
        if C not in g.zero_chunks:
            raise TernhwError(f"profile has no zero-chunk count for cols = {C}")
        ev.lane_add, ev.lane_sub, ev.lane_skip = m * g.pos, m * g.neg, m * g.zero
        ev.acc_skips = m * g.zero_chunks[C]
    else:
        ev.lane_mul = macs
    ev.lane_idle = steps * R * C - macs
    ev.tree_adds = m * n * (k - T) * inst
    ev.acc_updates = m * n * T * inst - ev.acc_skips
    ev.requant_ops = m * n * inst if g.requant else 0
    ev.weight_buffer_writes = tile_loads * T * inst
    ev.weight_bits_loaded = ev.weight_buffer_writes * cfg.weight_word_bits
    ev.weight_buffer_reads = steps
    ev.weight_bits_read = steps * cfg.weight_word_bits
    ev.act_buffer_writes = m * T * blocks * inst
    ev.act_bits_loaded = ev.act_buffer_writes * cfg.act_word_bits
    ev.act_buffer_reads = steps
    ev.act_bits_read = steps * cfg.act_word_bits
    ev.outputs_written = m * n * inst
    ev.output_bits_written = m * n * inst * (8 if g.requant else cfg.acc_bits)
    return ev


def on_chip_bytes(cfg: AcceleratorConfig) -> int:
    """Bytes of the weight and activation buffers (the design's memories)."""
    return (cfg.weight_buffer_depth * cfg.weight_word_bits
            + cfg.act_buffer_depth * cfg.act_word_bits) // 8


@dataclass(frozen=True)
class GroupPlan:
    """What ``ternhw.energy.account.activity`` reads of a ``GemmSchedule``, for one instance of
    a group: the same arithmetic as ``ternhw.model.schedule.schedule_gemm`` from the memoized
    cycles, tile loads, commands and blocks (``tests/test_sweep.py`` and
    ``tests/test_workload.py`` hold the bytes equal)."""

    m: int
    k: int
    n: int
    bias: bool
    total_cycles: int
    weight_bytes: int
    act_bytes: int
    bias_bytes: int
    out_bytes: int
    unique_weight_bytes: int


def group_plan(cfg: AcceleratorConfig, g: LayerGroup, cycles: int, tile_loads: int,
               commands: int, blocks: int) -> GroupPlan:
    """Every column block runs the same token commands (``commands / blocks`` of them), each
    loading its block's bias: ``commands / blocks x NT`` bias words in all."""
    T, NT = -(-g.k // cfg.cols), -(-g.n // cfg.rows)
    out_bits = 8 if g.requant else cfg.acc_bits
    return GroupPlan(
        g.m, g.k, g.n, g.bias, cycles,
        weight_bytes=round(tile_loads * T * cfg.weight_word_bits / 8),
        act_bytes=round(g.m * blocks * T * cfg.act_word_bits / 8),
        bias_bytes=(round(commands // blocks * NT * cfg.rows * cfg.acc_bits / 8)
                    if g.bias else 0),
        out_bytes=g.m * g.n * out_bits // 8,
        unique_weight_bytes=round(NT * T * cfg.weight_word_bits / 8))


def evaluate(cfg: AcceleratorConfig, profile: WorkloadProfile, area_model) -> dict:
    """Metrics of ``cfg`` on ``profile`` (raises :class:`TernhwError` when a layer does not
    fit the buffers). Energy is priced in ``cfg``'s technology at ``cfg.clock_mhz``. Keys: see
    :data:`ternhw.sweep.pareto.METRICS`."""
    cycles = 0
    dram_bytes = 0
    weight_bytes = unique_weight_bytes = 0
    macs = 0
    commands = 0
    act = None
    for g in profile.groups:
        cyc, tile_loads, ncmd, blocks = _plan(cfg, g)
        cycles += cyc * g.instances
        commands += ncmd * g.instances
        plan = group_plan(cfg, g, cyc, tile_loads, ncmd, blocks)
        ev = group_events(cfg, g, tile_loads, blocks)
        a = activity(cfg, ev, plan, g.instances)
        act = a if act is None else add_activity(act, a)
        dram_bytes += (plan.weight_bytes + plan.act_bytes + plan.bias_bytes
                       + plan.out_bytes) * g.instances
        weight_bytes += plan.weight_bytes * g.instances
        unique_weight_bytes += plan.unique_weight_bytes * g.instances
        macs += g.macs
    if act is None:
        raise TernhwError("the workload has no layers")
    energy_pj = price_list(cfg).total_pj(act)
    hz = cfg.clock_mhz * 1e6
    time_s = cycles / hz
    roof_s = max(time_s, dram_bytes / (cfg.dram_bandwidth_gbs * 1e9))
    area = area_model.predict(cfg)
    return {
        "cycles": cycles,
        "utilization": macs / (cycles * cfg.lanes),
        "time_s": time_s,
        "tokens_per_s": profile.tokens / time_s,
        "tokens_per_s_roofline": profile.tokens / roof_s,
        "energy_per_token_uj": energy_pj / profile.tokens / 1e6,
        "energy_per_mac_pj": energy_pj / macs,
        "dram_bytes": dram_bytes,
        "weight_reload_factor": weight_bytes / unique_weight_bytes,
        "commands": commands,
        "on_chip_kb": on_chip_bytes(cfg) / 1024,
        "gates": sum(area.values()),
        "area_gates": area,
        "fmax_mhz": None,
    }
