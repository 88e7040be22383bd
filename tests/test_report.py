"""``ternhw report`` end to end on small designs, and the synthesis flow's contract."""

import json

import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.model.cycles import command_tokens, gemm_cycles
from ternhw.model.gemm import WeightMatrix
from ternhw.report.workloads import Layer, layer_cycles, layer_events, layer_schedule
from ternhw.synth import synthesize

I8_TINY = """name = "i8tiny"
rows = 4
cols = 4
act_bits = 8
acc_bits = 24
weight_format = "int8"
weight_bits = 8
weight_buffer_depth = 64
act_buffer_depth = 64
"""


@pytest.fixture
def i8tiny(tmp_path):
    p = tmp_path / "i8tiny.toml"
    p.write_text(I8_TINY)
    return str(p)


def test_report_files_and_sections(tmp_path, i8tiny):
    out = tmp_path / "rep"
    assert main(["report", "--config", "small", "--baseline", i8tiny, "--weights", "digits",
                 "-o", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    for f in ("report.html", "report.md", "summary.json", *s["figures"]):
        assert (out / f).stat().st_size > 0, f
    assert {"energy_breakdown.png", "area_breakdown.png", "ternary_vs_int8.png", "roofline.png",
            "layer_sparsity.png", "sensitivity.png", "energy_ternary.png",
            "energy_int8.png"} <= set(s["figures"])
    assert {"energy", "area", "memory", "throughput", "comparison", "answer",
            "placed_ecp5"} <= set(s)
    assert set(s["designs"]) == {"ternary", "int8", "int8_placed"}
    assert s["baseline_reason"].startswith("named with --baseline")
    comp = s["comparison"]
    assert 0 < comp["energy_per_mac_ratio"] < 1
    assert comp["mul_cells"] == {"ternary": 0, "int8": 16}
    assert 0 < comp["array_area_ratio_generic_gates"] < 1
    assert s["memory"]["bits_per_weight"]["int8"] == 8.0
    assert s["throughput"]["skipped_workloads"]            # BitNet shapes exceed 'small'
    # every component priced, lines sum to the total, groups cover every component
    for dsg, e in s["energy"]["workloads"]["digits (1 image)"].items():
        assert sum(li["total_pj"] for li in e["lines"]) == pytest.approx(e["total_pj"])
        assert sum(e["components_pj"].values()) == pytest.approx(e["total_pj"])
        assert sum(e["groups_pj"].values()) == pytest.approx(e["total_pj"])
        assert "other" not in e["groups_pj"], dsg
        assert e["per_token_uj"] == pytest.approx(e["total_pj"] / 1e6)
    assert s["energy"]["technology"]["dram"]["technology"] == "LPDDR4"
    # traffic from the schedule, per layer and in total, beside the ideal
    t = s["memory"]["traffic"]["digits (1 image)"]["ternary"]
    assert t["offchip_bytes"] >= t["ideal_offchip_bytes"] > 0
    assert t["weight_reload_factor"] >= 1
    layers = s["throughput"]["workloads"]["digits (1 image)"]["layers"]["ternary"]
    assert sum(la["offchip_bytes"] for la in layers) == t["offchip_bytes"]
    assert all(la["weight_reload_factor"] >= 1 for la in layers)
    # each design's clock says where it comes from; no silent 100 MHz
    for k, c in s["throughput"]["clocks"].items():
        assert c["placed"] or "no placed Fmax" in c["source"], k
    assert "no placed result" in s["placed_ecp5"]["rows"]["int8_placed"]["status"] or \
        s["placed_ecp5"]["rows"]["int8_placed"]["fmax_mhz"]
    md = (out / "report.md").read_text()
    for words in ("Placed on ECP5 85F", "Designs compared", "why this clock", "weight reload",
                  "off-chip ideal (B)", "Energy per action", "how obtained", "Sensitivity",
                  "energy per token", "tokens / s"):
        assert words in md, words
    assert "energy_per_mac_ratio" not in md                 # plain labels, not JSON keys
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Horowitz" in html and "CACTI" in html
    assert not list(out.glob(".*.tmp"))                    # atomic writes left no temp files


@pytest.mark.parametrize("depth, widths", [(4096, [1536]), (1024, [672, 672, 192])])
def test_workload_cycles_split_commands(depth, widths):
    """128 tokens of a 1536x384 layer need four commands (act buffer 1024 words, T = 24): a
    4096-word weight buffer keeps the 2304-word matrix resident; a 1024-word one holds 42 of
    its 96 N-tiles, so it runs n-blocked in three column blocks of 672, 672 and 192 outputs,
    each loaded once for the four commands (weights once, activations three times)."""
    cfg = load_config("default").replace(weight_buffer_depth=depth)
    wm = WeightMatrix(__import__("numpy").ones((1536, 384), dtype="int8"))
    layer = Layer("ffn", 128, 384, 1536, wm)
    parts = command_tokens(cfg, 128, 384)
    assert parts == [42, 42, 42, 2]
    assert layer_cycles(cfg, layer) == sum(
        gemm_cycles(cfg, m, 384, n, resident=True, keep_weights=i > 0).total
        for n in widths for i, m in enumerate(parts))
    ev = layer_events(cfg, layer)
    assert ev.weight_buffer_writes == 96 * 24
    assert ev.act_buffer_writes == len(widths) * 128 * 24
    plan = layer_schedule(cfg, layer)
    assert plan.policy == ("resident" if len(widths) == 1 else "n-blocked")
    assert (plan.weight_reload_factor, plan.act_reload_factor) == (1, len(widths))
    assert ev.lane_add == 128 * 1536 * 384


def test_synth_generic_json_keys(tmp_path):
    out = tmp_path / "s.json"
    assert main(["synth", "--config", "small", "--target", "generic", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    for key in ("cells", "luts", "ffs", "brams", "fmax_mhz", "mul_cells"):
        assert key in doc
    assert doc["mul_cells"] == 0 and doc["cells"] > 0
    assert sum(doc["area_breakdown"].values()) <= doc["cells"]


@pytest.mark.slow
def test_synth_ice40_small():
    r = synthesize(load_config("small"), "ice40", use_cache=False)
    assert r["luts"] > 0 and r["brams"] > 0 and r["mul_cells"] == 0
    # placed and timed inside the five-pin serial I/O wrapper, which the result says
    assert r["placed"] and r["fmax_mhz"] > 0
    assert any("serial I/O wrapper" in n for n in r["notes"])


def test_report_rejects_swapped_configs(tmp_path, i8tiny, capsys):
    assert main(["report", "--config", i8tiny, "--baseline", "small", "--weights", "digits",
                 "-o", str(tmp_path)]) == 2
    assert "compares a ternary config" in capsys.readouterr().err



def test_synth_heartbeat_reports_a_silent_tool():
    """A tool that prints nothing for minutes (yosys, nextpnr) gets a 'still running' line
    every interval, and none once it is done (issue 13, item 9)."""
    import time

    from ternhw.synth import heartbeat

    lines = []
    with heartbeat("yosys", lines.append, every_s=0.05):
        time.sleep(0.18)
    seen = len(lines)
    time.sleep(0.1)
    assert seen >= 2 and len(lines) == seen
    assert all(line.startswith("yosys: still running (") for line in lines)
