import numpy as np
import pytest

from ternhw.config import AcceleratorConfig
from ternhw.energy import energy_of, load_table
from ternhw.errors import ConfigError
from ternhw.model import gemm


def test_table_points_and_scaling():
    t = load_table()
    assert t.add(8) == 0.03 and t.add(16) == 0.05 and t.add(32) == pytest.approx(0.1)
    assert t.add(24) == pytest.approx(0.075)                    # linear in width
    assert t.multiply(8, 8) == 0.2 and t.multiply(32, 32) == pytest.approx(3.1)
    assert t.sram_bit(8192) == pytest.approx(10 / 64)
    assert t.sram_bit(32768) == pytest.approx(20 / 64)
    assert t.sram_bit(1 << 20) == pytest.approx(100 / 64)
    assert t.sram_bit(16384) == pytest.approx(15 / 64)          # linear in log2(size)
    assert t.sram_bit(100) == t.sram_bit(8192)                  # floor below the table
    assert t.dram_bit() == pytest.approx(1300 / 64)
    assert "Horowitz" in t.citation
    assert all(t.sources().values())


def test_energy_by_hand():
    cfg = AcceleratorConfig(rows=2, cols=2, act_bits=8, acc_bits=16)
    t = load_table()
    w = np.array([[1, -1], [0, 0]])
    ev = gemm(cfg, np.array([[3, 4]]), w).events
    e = energy_of(cfg, ev, macs=4, table=t)
    tree = t.add(cfg.tree_bits)
    assert e.components["array adds"] == pytest.approx(2 * tree + 1 * t.add(9))
    assert e.components["zero-skips"] == 0.0
    assert e.components["accumulators"] == pytest.approx(ev.acc_updates * t.add(16))
    dram = (ev.weight_bits_loaded + ev.act_bits_loaded + ev.output_bits_written) * t.dram_bit()
    assert e.components["DRAM"] == pytest.approx(dram)
    assert e.per_mac == pytest.approx(e.total / 4)


def test_int8_lanes_cost_multiplies():
    t = load_table()
    tern = AcceleratorConfig(rows=2, cols=2, acc_bits=24)
    i8 = tern.replace(weight_bits=8, weight_format="int8")
    x = np.ones((1, 4), int)
    w = np.ones((2, 4), int)
    e_t = energy_of(tern, gemm(tern, x, w).events, 8, t)
    e_i = energy_of(i8, gemm(i8, x, w).events, 8, t)
    assert e_i.components["array adds"] > 5 * e_t.components["array adds"]


def test_user_table(tmp_path):
    good = tmp_path / "t.yaml"
    good.write_text("citation: my lab, 2026\nadd: {points: {8: 1.0, 32: 4.0}}\n"
                    "multiply: {points: {64: 2.0}}\nsram_read_64b: {points: {1024: 64.0}}\n"
                    "dram_read_64b: {value: 640.0}\ngated_lane: {value: 0.1}\n")
    t = load_table(good)
    assert t.add(16) == pytest.approx(2.0) and t.dram_bit() == 10.0
    assert t.multiply(16, 16) == pytest.approx(8.0)             # single point: proportional
    bad = tmp_path / "bad.yaml"
    bad.write_text("citation: x\nadd: {points: {8: -1}}\n")
    with pytest.raises(ConfigError, match="missing action|non-negative"):
        load_table(bad)
    nocite = tmp_path / "nocite.yaml"
    nocite.write_text(good.read_text().replace("citation: my lab, 2026\n", ""))
    with pytest.raises(ConfigError, match="citation"):
        load_table(nocite)
    with pytest.raises(ConfigError, match="does not exist"):
        load_table(tmp_path / "none.yaml")


GOOD_TABLE = ("citation: my lab, 2026\nadd: {points: {8: 1.0, 32: 4.0}}\n"
              "multiply: {points: {64: 2.0}}\nsram_read_64b: {points: {1024: 64.0}}\n"
              "dram_read_64b: {value: 640.0}\ngated_lane: {value: 0.1}\n")


@pytest.mark.parametrize("old, new, message", [
    ("add: {points: {8: 1.0, 32: 4.0}}", "add: 1",
     "action 'add' must be a mapping with 'points' ({size: pJ, ...}), not int 1"),
    ("add: {points: {8: 1.0, 32: 4.0}}", "add: {value: 1}",
     "action 'add' needs 'points' ({size: pJ, ...}); it has 'value'"),
    ("gated_lane: {value: 0.1}", "gated_lane: 0.1",
     "action 'gated_lane' must be a mapping with 'value' (pJ), not float 0.1"),
    ("dram_read_64b: {value: 640.0}", "dram_read_64b: {value: -2}",
     "action 'dram_read_64b': value -2 is not a non-negative number of pJ"),
    ("8: 1.0", "8: fast", "action 'add': point 8: 'fast' is not a non-negative number of pJ"),
    ("multiply: {points: {64: 2.0}}\n", "",
     "missing action(s) 'multiply'; a table needs add, multiply, sram_read_64b, "
     "dram_read_64b, gated_lane"),
])
def test_user_table_messages_name_the_entry(tmp_path, old, new, message):
    path = tmp_path / "t.yaml"
    path.write_text(GOOD_TABLE.replace(old, new))
    with pytest.raises(ConfigError) as e:
        load_table(path)
    assert str(e.value) == f"{path}: {message}"


def test_energy_table_directory(tmp_path):
    with pytest.raises(ConfigError, match="is a directory, not a YAML file"):
        load_table(tmp_path)
