"""The report's inputs: the technology fields of the config, the command-line overrides, the
derived int8 baseline and which clock each design runs at."""

import json

import pytest

from ternhw.cli import main
from ternhw.config import AcceleratorConfig, load_config
from ternhw.errors import ConfigError, TernhwError
from ternhw.report.build import (
    apply_overrides,
    derive_baseline,
    design_clock,
    hardware_of,
    report_designs,
)
from ternhw.report.summary import COMPONENT_GROUPS, groups_of, placed_table


def test_technology_fields_default_and_validate():
    cfg = AcceleratorConfig()
    assert (cfg.dram_technology, cfg.logic_node_nm, cfg.vdd) == ("LPDDR4", 45.0, None)
    assert AcceleratorConfig(dram_technology="HBM2", logic_node_nm=7, vdd=0.7).logic_node_nm == 7
    for field, value, words in [
        ("dram_technology", "SDRAM", "dram_technology must be 'LPDDR4' or"),
        ("logic_node_nm", 3, "logic_node_nm must be a number in [7, 130], not 3"),
        ("logic_node_nm", "45", "logic_node_nm must be a number"),
        ("vdd", 5.0, "vdd must be a number in [0.3, 1.5]"),
    ]:
        with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
            AcceleratorConfig(**{field: value})


def test_technology_fields_from_toml(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('dram_technology = "DDR4"\nlogic_node_nm = 28\nvdd = 0.9\n')
    cfg = load_config(p)
    assert (cfg.dram_technology, cfg.logic_node_nm, cfg.vdd) == ("DDR4", 28, 0.9)
    p.write_text('dram_technology = "DDR9"\n')
    with pytest.raises(ConfigError, match="t.toml: dram_technology must be"):
        load_config(p)


def test_overrides_name_the_option():
    cfg = load_config("default")
    got = apply_overrides(cfg, {"dram_technology": "HBM2", "clock_mhz": 150.0,
                                "dram_bandwidth_gbs": None, "logic_node_nm": 7.0}, "--config")
    assert (got.dram_technology, got.dram_bandwidth_gbs, got.clock_mhz, got.logic_node_nm) == \
        ("HBM2", 256.0, 150.0, 7.0)                    # bandwidth follows the technology
    got = apply_overrides(cfg, {"dram_technology": "HBM2", "dram_bandwidth_gbs": 50.0},
                          "--config")
    assert got.dram_bandwidth_gbs == 50.0
    with pytest.raises(ConfigError, match="--dram 'X' for --config 'default': dram_technology"):
        apply_overrides(cfg, {"dram_technology": "X"}, "--config")
    with pytest.raises(ConfigError, match="--node-nm 3.0 .*logic_node_nm must be"):
        apply_overrides(cfg, {"logic_node_nm": 3.0}, "--config")
    with pytest.raises(ConfigError, match="--clock-mhz -5.0"):
        apply_overrides(cfg, {"clock_mhz": -5.0}, "--config")


def test_derived_baseline_is_the_int8_twin():
    base, why = derive_baseline(load_config("default"))
    assert base.name == "int8-baseline"                # the shipped config of that hardware
    assert hardware_of(base) == hardware_of(load_config("int8-baseline"))
    assert "int8-baseline" in why and "16x16" in why
    small = load_config("small")
    base, why = derive_baseline(small)
    assert base.name == "small-int8" and not base.is_ternary
    assert (base.rows, base.cols, base.weight_buffer_depth, base.act_buffer_depth,
            base.acc_bits, base.clock_mhz) == (4, 4, 64, 64, 24, small.clock_mhz)
    with pytest.raises(TernhwError, match="compares a ternary config"):
        derive_baseline(load_config("int8-baseline"))


def test_designs_share_the_technology():
    cfg = load_config("default").replace(dram_technology="HBM2", logic_node_nm=16)
    d = report_designs(cfg, load_config("int8-baseline"), load_config("int8-dsp"))
    assert set(d) == {"ternary", "int8", "int8_placed"}
    assert {(c.dram_technology, c.logic_node_nm) for c in d.values()} == {("HBM2", 16)}
    assert "int8_placed" not in report_designs(cfg, load_config("int8-dsp"),
                                               load_config("int8-dsp"))


def test_clock_of_each_design_says_why():
    cfg = load_config("default")
    placed = {"ecp5": {"placed": True, "fmax_mhz": 123.4, "cached": True, "luts": 50000,
                       "dsps": 0, "clock_goal_mhz": 100.0, "notes": []}}
    c = design_clock(cfg, placed)
    assert c["mhz"] == 123.4 and c["placed"] and "placed Fmax" in c["source"]
    assert "cached" in c["source"]
    misfit = {"ecp5": {"placed": False, "fits": False, "cached": True, "luts": 59343,
                       "dsps": 256, "notes": ["does not fit LFE5U-85F: dsps 256 > 156"]}}
    c = design_clock(cfg, misfit)
    assert c["mhz"] == cfg.clock_mhz and not c["placed"]
    assert "dsps 256 > 156" in c["source"] and "clock_mhz" in c["source"]
    c = design_clock(cfg, {"ecp5": {"missing": "no cached result for this RTL"}})
    assert "no placed Fmax: no cached result" in c["source"]
    assert "no placed Fmax: no ECP5 result" in design_clock(cfg, {})["source"]


def test_placed_table_numbers_only_where_placed():
    designs = {"ternary": load_config("default"), "int8": load_config("int8-baseline"),
               "int8_placed": load_config("int8-dsp")}
    synth = {"ternary": {"ecp5": {"placed": True, "fmax_mhz": 100.0, "luts": 40000, "dsps": 0,
                                  "cached": True, "notes": []}},
             "int8": {"ecp5": {"placed": False, "fits": False, "luts": 59343, "dsps": 256,
                               "cached": True, "notes": ["does not fit: dsps 256 > 156"]}},
             "int8_placed": {"ecp5": {"missing": "no cached result for this RTL"}}}
    rows = placed_table(designs, synth)["rows"]
    t = rows["ternary"]
    assert t["macs_per_s"] == 256 * 100e6 and t["macs_per_s_per_lut"] == 256 * 100e6 / 40000
    assert t["macs_per_s_per_dsp"] is None and t["status"] == "placed (cached)"
    assert rows["int8"]["macs_per_s"] is None and rows["int8"]["luts"] == 59343
    assert rows["int8"]["status"] == "no placed result: does not fit: dsps 256 > 156"
    assert rows["int8_placed"]["fmax_mhz"] is None
    assert rows["int8_placed"]["status"].startswith("no placed result: no cached result")


def test_component_groups_cover_the_energy_model():
    from ternhw.energy import Technology, components_for

    for name in ("default", "int8-baseline"):
        comps = [c.name for c in components_for(load_config(name), Technology())]
        assert set(comps) <= set(COMPONENT_GROUPS), set(comps) - set(COMPONENT_GROUPS)
    g = groups_of({"DRAM": 1.0, "weight buffer": 2.0, "lanes": 3.0, "new thing": 4.0})
    assert g["off-chip memory"] == 1.0 and g["on-chip memory"] == 2.0 and g["other"] == 4.0


def test_report_overrides_and_derived_baseline(tmp_path):
    out = tmp_path / "rep"
    assert main(["report", "--config", "small", "--weights", "digits", "--synth", "skip",
                 "--clock-mhz", "50", "--dram", "HBM2", "--node-nm", "7", "-o", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["baseline"]["name"] == "small-int8" and s["baseline_reason"].startswith("derived")
    tech = s["energy"]["technology"]
    assert tech["logic_node_nm"] == 7 and tech["dram"]["technology"] == "HBM2"
    assert tech["node_scaling"]
    assert s["throughput"]["dram_bandwidth_gbs"] == 256.0
    for k, c in s["throughput"]["clocks"].items():
        assert c["mhz"] == 50 and "--synth skip" in c["source"], k
    assert set(s["energy"]["sensitivity"]["dram_uj_per_token"]) >= {"LPDDR4", "HBM2", "DDR4"}
    md = (out / "report.md").read_text()
    assert "small-int8" in md and "derived from small" in md and "HBM2" in md
