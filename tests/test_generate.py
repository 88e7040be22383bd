"""``ternhw generate``: fresh reference RTL, lint-clean Verilog, scale, and no multipliers."""

import json
import time
from pathlib import Path

import pytest

from ternhw.cli import main
from ternhw.config import AcceleratorConfig, load_config
from ternhw.hdl.generate import LINT_WAIVERS, generate, ports_of, to_verilog, top_name
from ternhw.synth import coarse_cells
from ternhw.toolchain import verilator_lint

RTL = Path(__file__).resolve().parents[1] / "rtl"
SHIPPED = ("small", "default", "int8-baseline", "int8-dsp", "ice40")


def _body(text: str) -> str:
    # the first line names the Yosys build that Amaranth used; the design follows
    return text.split("\n", 1)[1]


@pytest.mark.parametrize("name", SHIPPED)
def test_reference_rtl_is_fresh(name, tmp_path):
    manifest = generate(load_config(name), tmp_path)
    shipped = json.loads((RTL / name / "manifest.json").read_text())
    vfile = manifest["files"][0]
    fresh = (tmp_path / vfile).read_text()
    stored = (RTL / name / vfile).read_text()
    assert _body(fresh) == _body(stored), (
        f"rtl/{name} is stale: run `ternhw generate --config {name} -o rtl/{name}`")
    assert {k: v for k, v in manifest.items() if k != "sha256"} == \
        {k: v for k, v in shipped.items() if k != "sha256"}


@pytest.mark.parametrize("name", SHIPPED)
def test_reference_rtl_lints_clean(name):
    manifest = json.loads((RTL / name / "manifest.json").read_text())
    r = verilator_lint(RTL / name / manifest["files"][0], manifest["top"], list(LINT_WAIVERS))
    assert r.returncode == 0, r.stderr[-2000:]


def test_manifest_and_cli(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["generate", "--config", "small", "-o", str(out), "--json",
                 str(tmp_path / "g.json")]) == 0
    doc = json.loads((tmp_path / "g.json").read_text())
    assert doc["top"] == "ternhw_small" and doc["files"] == ["ternhw_small.v"]
    assert doc["config"]["rows"] == 4
    names = {p["name"]: p for p in doc["ports"]}
    assert names["i_act__payload"]["width"] == 4 * 8
    assert names["i_wgt__payload"]["width"] == 8 * 4      # 16 trits in base-3: 4 bytes
    assert names["o_res__payload"]["direction"] == "output"
    assert (out / "manifest.json").exists()
    assert main(["generate", "--config", "nope", "-o", str(out)]) == 2


@pytest.mark.parametrize("rows, cols, acc_bits", [(2, 2, 16), (3, 7, 32), (8, 8, 20)])
def test_generation_scales(rows, cols, acc_bits):
    cfg = AcceleratorConfig(rows=rows, cols=cols, acc_bits=acc_bits, weight_buffer_depth=16,
                            act_buffer_depth=16)
    top, text = to_verilog(cfg)
    assert f"module {top}(" in text


@pytest.mark.slow
def test_generation_64x64_takes_seconds():
    cfg = AcceleratorConfig(rows=64, cols=64, acc_bits=32, weight_buffer_depth=64,
                            act_buffer_depth=64)
    t0 = time.monotonic()
    top, text = to_verilog(cfg)
    assert time.monotonic() - t0 < 300 and f"module {top}(" in text


def test_ternary_has_no_multipliers_int8_has_them():
    """Yosys on the ternary design finds zero $mul cells; on the int8 baseline, one per lane."""
    small = json.loads((RTL / "small" / "manifest.json").read_text())
    cells = coarse_cells(RTL / "small" / small["files"][0], small["top"])
    assert cells.get("$mul", 0) == 0
    i8 = AcceleratorConfig(name="i8", rows=2, cols=3, weight_bits=8, weight_format="int8",
                           acc_bits=24, weight_buffer_depth=8, act_buffer_depth=8)
    with_mul = coarse_cells(_write(i8), "ternhw_i8")
    assert with_mul.get("$mul", 0) == 2 * 3


def _write(cfg) -> Path:
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="ternhw-gen-"))
    return d / generate(cfg, d)["files"][0]


def test_serial_io_wrapper_has_five_pins_and_keeps_every_port():
    """The iCE40 placement wrapper: five pins (plus clock and reset), and shift registers as
    wide as the core's inputs and outputs, so no core logic can be optimized away."""
    import re

    cfg = AcceleratorConfig(rows=2, cols=2, acc_bits=16, weight_buffer_depth=8,
                            act_buffer_depth=8)
    top, text = to_verilog(cfg, serial_io=True)
    assert {p["name"] for p in ports_of(text, top)} == {"clk", "rst", "din", "shift", "apply",
                                                        "capture", "dout"}
    core = ports_of(to_verilog(cfg)[1], top_name(cfg))
    width = {d: sum(p["width"] for p in core if p["direction"] == d
                    and p["name"] not in ("clk", "rst")) for d in ("input", "output")}
    regs = {name: int(hi) + 1 for hi, name in re.findall(r"reg \[(\d+):0\] (\w+) ", text)}
    assert regs["in_shift"] == width["input"] and regs["out_shift"] == width["output"]
