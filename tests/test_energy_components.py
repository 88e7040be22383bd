"""The action-level energy model: every part of the generated hardware is priced, the lines
sum to the total, every value names its source and interpolated values say so."""

import numpy as np
import pytest

from ternhw.config import AcceleratorConfig, load_config
from ternhw.energy import (
    SUBMODULES,
    Breakdown,
    Technology,
    action_table,
    components_for,
    dram_technologies,
    flip_flops,
    price_gemm,
)
from ternhw.energy.components import elaborated_submodules, tree_levels
from ternhw.energy.tech import node_scale
from ternhw.errors import ConfigError
from ternhw.model import gemm
from ternhw.model.schedule import schedule_gemm

CONFIGS = ["default", "small", "int8-baseline", "default-base3"]


@pytest.mark.parametrize("name", CONFIGS)
def test_every_part_of_the_hardware_is_priced(name):
    """Walk the elaborated TernaryAccelerator: each submodule maps to components that exist and
    have at least one action; every register is attributed to a component; every zero energy
    says why."""
    cfg = load_config(name)
    comps = {c.name: c for c in components_for(cfg, Technology())}
    for sub in elaborated_submodules(cfg):
        assert sub in SUBMODULES, f"submodule {sub!r} of the accelerator has no energy component"
        for comp in SUBMODULES[sub]:
            assert comps[comp].actions(), f"{comp} has no priced action"
    ffs = flip_flops(cfg)
    assert "unattributed" not in ffs, "registers with no energy component (add a rule)"
    for comp in ffs:
        assert comp in comps
    for required in ("clock tree", "leakage", "DRAM", "stream I/O", "controller",
                     "status counters", "bias banks", "requantizer", "output register"):
        assert required in comps
    for c in comps.values():
        for action, cost in c.actions().items():
            assert cost.source, f"{c.name}/{action} has no source"
            assert cost.pj >= 0
            if cost.pj == 0:
                assert "assumption" in cost.flags and len(cost.source) > 20, (c.name, action)


def test_tree_levels_match_amaranth_widths():
    assert tree_levels(16, 9) == [[10] * 8, [11] * 4, [12] * 2, [13]]
    assert tree_levels(3, 9) == [[10], [11]]         # the odd term passes through a level


def _workload(cfg, m=5, k=37, n=21, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.integers(cfg.act_min, cfg.act_max + 1, size=(m, k))
    w = rng.integers(-1, 2, size=(n, k)) if cfg.is_ternary else rng.integers(-128, 128, (n, k))
    b = rng.integers(-100, 100, size=n) if bias else None
    ev = gemm(cfg, x, w, b).events
    return ev, schedule_gemm(cfg, m, k, n, bias=bias, requant=False)


@pytest.mark.parametrize("name", CONFIGS)
def test_lines_sum_to_total_and_every_action_is_listed(name):
    cfg = load_config(name)
    ev, plan = _workload(cfg)
    e = price_gemm(cfg, ev, plan)
    assert e.total == pytest.approx(sum(li.total_pj for li in e.lines))
    assert e.total == pytest.approx(sum(e.components.values()))
    for li in e.lines:
        assert li.total_pj == pytest.approx(li.count * li.pj_each)
        assert li.source
    d = e.to_dict()
    assert {"total_pj", "per_mac_pj", "macs", "components_pj", "lines", "technology"} <= set(d)
    assert d["macs"] == 5 * 37 * 21
    assert len(d["lines"]) == len(action_table(cfg))
    nonzero = {c for c, v in e.components.items() if v > 0}
    expected = {"lanes", "adder trees", "accumulators", "activation buffer", "weight buffer",
                "DRAM", "clock tree", "leakage", "controller", "status counters", "bias banks",
                "output snapshot", "output register", "array pipeline registers", "requantizer"}
    if cfg.weight_format != "int8":
        expected.add("weight decoder")
    assert expected <= nonzero


def test_breakdowns_add_and_merge_lines():
    cfg = load_config("small")
    ev, plan = _workload(cfg)
    e = price_gemm(cfg, ev, plan)
    two = Breakdown.empty() + e + e
    assert two.total == pytest.approx(2 * e.total)
    assert len(two.lines) == len(e.lines) and two.macs == 2 * e.macs
    assert two.per_mac == pytest.approx(e.per_mac)


def test_counts_follow_events_and_schedule():
    cfg = AcceleratorConfig(rows=2, cols=2, act_bits=8, acc_bits=16)
    ev = gemm(cfg, np.array([[3, 4]]), np.array([[1, -1], [0, 0]])).events
    plan = schedule_gemm(cfg, 1, 2, 2, requant=False)
    e = price_gemm(cfg, ev, plan, count=3)
    line = {(li.component, li.action): li for li in e.lines}
    assert line["lanes", "negate (-1 weight)"].count == ev.lane_sub
    assert line["DRAM", "read weight bits"].count == 3 * plan.weight_bytes * 8
    assert line["clock tree", "clock all flip-flops"].count == 3 * plan.total_cycles
    t = Technology()
    assert line["DRAM", "read weight bits"].pj_each == t.dram_bit().pj
    assert line["accumulators", "update (16-bit add)"].pj_each == pytest.approx(t.add(16).pj)


def test_horowitz_points_and_honest_interpolation():
    t = Technology()
    assert t.add(8).pj == 0.03 and not t.add(8).flags
    a16 = t.add(16)
    assert "interpolated" in a16.flags and "interpolated from 8 and 32 bit" in a16.note
    assert "extrapolated" in t.add(48).flags and "extrapolated" in t.add(4).flags
    assert t.multiply(8, 8).pj == 0.2 and "interpolated" in t.multiply(8, 16).flags


def test_sram_by_width_and_depth():
    t = Technology()
    grid = t.sram(512, 4096)
    assert not grid.read.flags and grid.read.pj > 0 and "CACTI" in grid.read.source
    odd = t.sram(416, 4096)                      # base-3 weight word: between grid widths
    assert "interpolated" in odd.read.flags
    assert t.sram(256, 4096).read.pj < odd.read.pj < grid.read.pj
    assert "extrapolated" in t.sram(512, 1 << 20).read.flags
    # a wide word costs less per bit than narrow words of the same array size
    assert t.sram(512, 1024).read.pj / 512 < t.sram(64, 8192).read.pj / 64


def test_dram_technologies_and_nodes():
    names = dram_technologies()
    assert {"LPDDR4", "LPDDR5", "DDR4", "HBM2"} <= set(names)
    hbm = Technology(dram="HBM2")
    assert hbm.dram_bit().pj < Technology(dram="DDR4").dram_bit().pj
    assert hbm.dram_bandwidth_gbs() == 256.0
    assert "assumption" in Technology(dram="LPDDR5").dram_bit().flags
    with pytest.raises(ConfigError, match="unknown off-chip memory technology"):
        Technology(dram="SDR")
    with pytest.raises(ConfigError, match="outside the scaling table"):
        Technology(node_nm=3)
    t7, t28 = Technology(node_nm=7), Technology(node_nm=28)
    for t in (t7, t28):
        c = t.add(8)
        assert "node-scaled" in c.flags and "Stillmaker" in c.source
    assert t7.add(8).pj < t28.add(8).pj < 0.03
    assert node_scale(45, 45) == 1.0
    assert t7.describe()["logic_node_nm"] == 7 and t7.describe()["node_scaling"]


def test_ternary_cheaper_than_int8_on_the_array():
    tern, i8 = load_config("default"), load_config("int8-baseline")
    e_t = price_gemm(tern, *_workload(tern, m=4, k=64, n=32))
    e_i = price_gemm(i8, *_workload(i8, m=4, k=64, n=32))
    assert e_t.components["lanes"] < e_i.components["lanes"] / 3
