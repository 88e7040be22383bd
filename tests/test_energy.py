"""The cited Horowitz table behind ``Technology`` (the per-action model itself is tested in
``tests/test_energy_components.py``), and the removal of the older table API."""

import importlib

import numpy as np
import pytest

import ternhw.energy as energy
from ternhw.config import AcceleratorConfig
from ternhw.energy import Technology, price_gemm
from ternhw.energy.tech import horowitz_table
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
