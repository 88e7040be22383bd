"""The cited Horowitz table behind ``Technology``, the per-node CACTI SRAM tables (the per-action
model itself is tested in ``tests/test_energy_components.py``), and the removal of the older
table API."""

import importlib

import numpy as np
import pytest

import ternhw.energy as energy
from ternhw.config import AcceleratorConfig
from ternhw.energy import Technology, price_gemm
from ternhw.energy.tech import horowitz_table, node_scale, sram_nodes, sram_table
from ternhw.model import gemm
from ternhw.model.schedule import schedule_gemm


def test_horowitz_table_loads_with_its_citation():
    t = horowitz_table()
    assert "Horowitz" in t.citation and t.name == "horowitz45"
    assert t.data["add"]["points"] == {8: 0.03, 32: 0.1}
    # Horowitz has no 16-bit integer add: 16 bit is interpolated between 8 and 32
    assert 16 not in t.data["add"]["points"]
    tech = Technology()
    assert tech.add(8).pj == 0.03 and tech.add(32).pj == pytest.approx(0.1)
    assert tech.add(16).pj == pytest.approx(0.03 + 0.07 / 3)
    assert tech.multiply(8, 8).pj == 0.2 and tech.multiply(32, 32).pj == pytest.approx(3.1)
    assert t.citation in tech.describe()["logic_tables"]


def test_int8_lanes_cost_multiplies():
    tern = AcceleratorConfig(rows=2, cols=2, acc_bits=24)
    i8 = tern.replace(weight_bits=8, weight_format="int8")
    x = np.ones((1, 4), int)
    w = np.ones((2, 4), int)
    lanes = {}
    for cfg in (tern, i8):
        plan = schedule_gemm(cfg, 1, 4, 2)
        e = price_gemm(cfg, gemm(cfg, x, w).events, plan)
        lanes[cfg.weight_format] = e.components["lanes"]
    assert lanes["int8"] > 5 * lanes["2bit"]


def test_the_old_table_api_is_gone():
    """One energy model: the per-event table (``load_table``, ``energy_of``) was removed."""
    for name in ("load_table", "energy_of", "EnergyTable", "EnergyBreakdown"):
        assert not hasattr(energy, name)
    with pytest.raises(ImportError):
        importlib.import_module("ternhw.energy.model")


def _grid(node_nm, width, depth):
    return next(p for p in sram_table(node_nm)["points"]
                if p["width"] == width and p["depth"] == depth)


def test_sram_tables_ship_at_cactis_nodes_on_one_grid():
    assert {22, 32, 45} <= set(sram_nodes())
    geometry = {(p["width"], p["depth"]) for p in sram_table()["points"]}
    for nm in sram_nodes():
        t = sram_table(nm)
        assert t["name"] == f"sram-cacti{nm:g}" and t["technology"] == f"{nm:g} nm"
        assert t["template_sha256"] == sram_table()["template_sha256"]
        assert {(p["width"], p["depth"]) for p in t["points"]} == geometry


def test_sram_at_45_nm_is_the_45_nm_table():
    s = Technology().sram(512, 4096)
    p = _grid(45, 512, 4096)
    # a grid point goes through exp(log(value)) in the lookup: equal to the last bits
    assert (s.read.pj, s.write.pj, s.leak.pj) == pytest.approx(
        (p["read_pj"], p["write_pj"], p["leak_mw"]), rel=1e-12)
    assert s.read.source == sram_table()["citation"] and not s.read.flags and not s.read.note
    assert Technology().describe()["sram"] == sram_table()["citation"]


def test_sram_at_22_nm_is_cactis_22_nm_table_not_node_scaled():
    t = Technology(node_nm=22)
    for w, d in ((128, 1024), (512, 4096), (2048, 4096)):
        s, p = t.sram(w, d), _grid(22, w, d)
        assert (s.read.pj, s.write.pj, s.leak.pj) == pytest.approx(
            (p["read_pj"], p["write_pj"], p["leak_mw"]), rel=1e-12)
        assert s.leak_w == pytest.approx(p["leak_mw"] * 1e-3, rel=1e-12)
        for c in (s.read, s.write, s.leak):
            assert not c.flags and "sram_cacti22.yaml" in c.source
            assert "Stillmaker" not in c.source
    assert "22 nm" in t.describe()["sram"]
    # off the grid the 22 nm grid is interpolated, and the note names it
    odd = t.sram(416, 4096).read
    assert odd.flags == ("interpolated",) and "22 nm CACTI grid" in odd.note


def test_sram_leaks_more_at_22_than_at_45_nm():
    """CACTI's 22 nm low-standby-power cells leak several times more than its 45 nm ones; the
    logic energy factor (x0.3) would have scaled leakage down."""
    for w, d in ((32, 64), (128, 1024), (512, 4096)):
        s22, s45 = Technology(node_nm=22).sram(w, d), Technology().sram(w, d)
        assert s22.leak.pj > 3 * s45.leak.pj
        assert s22.read.pj < s45.read.pj and s22.write.pj < s45.write.pj


def test_sram_between_cacti_nodes_is_interpolated_between_the_tables():
    for nm, lo, hi in ((28, 22, 32), (40, 32, 45)):
        t = Technology(node_nm=nm)
        s = t.sram(512, 4096)
        a, b = _grid(lo, 512, 4096), _grid(hi, 512, 4096)
        for c, key in ((s.read, "read_pj"), (s.write, "write_pj"), (s.leak, "leak_mw")):
            assert min(a[key], b[key]) < c.pj < max(a[key], b[key])
            f = (nm - lo) / (hi - lo)
            assert c.pj == pytest.approx(a[key] + (b[key] - a[key]) * f)
            assert c.flags == ("interpolated",)
            assert f"sram_cacti{lo}.yaml" in c.source and f"sram_cacti{hi}.yaml" in c.source
            assert "interpolated linearly in node" in c.note
        assert "interpolated" in t.describe()["sram"]


def test_sram_below_cactis_range_is_node_scaled_from_its_smallest_node():
    smallest = sram_nodes()[0]
    t = Technology(node_nm=7)
    s, base = t.sram(512, 4096), Technology(node_nm=smallest).sram(512, 4096)
    k = node_scale(7, smallest)
    for c, b in ((s.read, base.read), (s.write, base.write), (s.leak, base.leak)):
        assert "node-scaled" in c.flags and "Stillmaker" in c.source
        assert f"sram_cacti{smallest:g}.yaml" in c.source and "projected past CACTI" in c.source
        assert f"node-scaled {smallest:g} nm" in c.note
        assert c.pj == pytest.approx(b.pj * k)
    assert "assumption" in s.leak.flags
    assert "projected past CACTI" in t.describe()["sram"]


def test_sram_supply_scaling_at_a_table_node():
    s, s08 = Technology(node_nm=22).sram(512, 4096), Technology(node_nm=22, vdd=0.8).sram(512,
                                                                                           4096)
    assert "node-scaled" in s08.read.flags and "22 nm 0.9 V -> 22 nm 0.8 V" in s08.read.note
    assert s08.read.pj == pytest.approx(s.read.pj * node_scale(22, 22, 0.8, 0.9))
