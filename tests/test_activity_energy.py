"""The activity-based energy cross-check (issue 11, item 5): toggle counts of the generated RTL,
what drives each net, and the comparison with the event model."""

import json

import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.cosim.toggles import classify_nets, decode_name, read_toggles
from ternhw.energy.activity_check import (
    ARRAY_AND_ACCUMULATORS,
    NOT_TOGGLES,
    activity_cross_check,
    price_toggles,
)
from ternhw.energy.tech import Technology
from ternhw.errors import TernhwError
from ternhw.workload import load_workload

#: A module in the style Yosys's write_verilog gives Amaranth designs.
VERILOG = r"""
module \t.sub (a, b, y);
  input [3:0] a;
  wire [3:0] a;
  input [3:0] b;
  wire [3:0] b;
  output [4:0] y;
  wire [4:0] y;
  assign y = a + b;
endmodule

module \t.sub2 (a, b, y);
  input [3:0] a;
  wire [3:0] a;
  input [3:0] b;
  wire [3:0] b;
  output [4:0] y;
  wire [4:0] y;
  assign y = a + b;
endmodule

module t(clk, rst, x, q);
  reg \$auto$verilog_backend.cc:2355:dump_module$1  = 0;
  input clk;
  wire clk;
  input rst;
  wire rst;
  input [3:0] x;
  wire [3:0] x;
  output [4:0] q;
  wire [4:0] q;
  wire [4:0] \$1 ;
  wire [4:0] \$2 ;
  wire [4:0] \$3 ;
  wire \$4 ;
  wire [3:0] \$5 ;
  reg [4:0] \$6 ;
  reg [4:0] acc = 5'h00;
  reg [4:0] _0_;
  reg [4:0] mem [7:0];
  wire [4:0] \view[0] ;
  assign \$1  = $signed(x) + $signed(acc);
  assign \$2  = $signed(x) + $signed(acc);
  assign \$4  = x == 4'h3;
  assign \$5  = x[3:0];
  assign \view[0]  = acc;
  always @* begin
    if (\$auto$verilog_backend.cc:2355:dump_module$1 ) begin end
    \$6  = acc;
    if (\$4 ) begin
      \$6  = \$1 ;
    end
  end
  always @(posedge clk)
    acc <= \$6 ;
  always @(posedge clk) begin
    _0_ <= mem[x];
  end
  \t.sub  sub (
    .a(\$5 ),
    .b(x),
    .y(q)
  );
  \t.sub2  sub2 (
    .a(x[3:0]),
    .b(x),
    .y(\$3 )
  );
endmodule
"""


def _rules():
    return (lambda mod, reg: f"reg:{reg}", lambda mod, inst: f"inst:{inst}",
            lambda mod, net: "sub" if mod.startswith("t.sub") else None)


def test_classify_nets_sorts_every_net_by_its_driver():
    nets = classify_nets(VERILOG, *_rules())
    kind = {k[1]: v.kind for k, v in nets.items() if k[0] == "t"}
    assert kind["acc"] == kind["_0_"] == "register"
    assert kind["$1"] == "arith" and kind["$2"] == "alias"      # the same sum, merged
    assert kind["$4"] == "logic" and kind["$6"] == "mux"
    assert kind["$5"] == kind["view[0]"] == kind["x"] == kind["q"] == "wire"
    assert kind["mem"] == "memory"
    assert nets[("t.sub", "y")].kind == "arith" and nets[("t.sub", "y")].width == 5
    comp = {k[1]: v.component for k, v in nets.items() if k[0] == "t"}
    assert comp["acc"] == "reg:acc" and comp["_0_"] == "inst:mem"   # a memory's read latch
    assert comp["$1"] == comp["$6"] == "reg:acc"        # combinational: where its value goes
    assert comp["$5"] == "inst:sub"                     # feeds a submodule input
    assert nets[("t.sub", "y")].component == "sub"
    # sub2 adds what sub adds (its inputs are the same signals): merged once flattened
    assert nets[("t.sub2", "y")].kind == "alias"


def test_read_toggles_decodes_verilator_names(tmp_path):
    assert decode_name("__02412") == "$12" and decode_name("status___05Fbusy") == "status__busy"

    def point(net, bit, d, n):
        key = f"\x01f\x02t.v\x01t\x02toggle\x01o\x02{net}{bit}:{d}\x01h\x02TOP.t"
        return f"C '{key}' {n}"

    lines = ["# SystemC::Coverage-3", point("__0241", "[0]", "0->1", 3),
             point("__0241", "[0]", "1->0", 2), point("__0241", "[4]", "0->1", 1),
             point("view__05b0__05d", "[2]", "0->1", 7), point("clk", "", "0->1", 5)]
    f = tmp_path / "cov.dat"
    f.write_text("\n".join(lines) + "\n")
    assert read_toggles(f) == {("t", "$1"): 6, ("t", "view[0]"): 7, ("t", "clk"): 5}
    f.write_text("not coverage\n")
    with pytest.raises(TernhwError, match="not a Verilator coverage file"):
        read_toggles(f)


def test_price_toggles_and_compare():
    nets = classify_nets(VERILOG, *_rules())
    tech = Technology()
    act = price_toggles(nets, {("t", "acc"): 10, ("t", "$1"): 4, ("t", "$2"): 4,
                               ("t", "x"): 9}, tech)
    reg_pj = 2 * tech.register_bits(1).pj * 10
    add_pj = 2 * tech.add(5).pj / 5 * 4                  # the alias costs nothing
    assert act["reg:acc"]["pj"] == pytest.approx(reg_pj + add_pj)
    with pytest.raises(TernhwError, match="another design"):
        price_toggles(nets, {("t", "nope"): 1}, tech)


@pytest.mark.rtl
def test_activity_cross_check_on_the_rtl(tmp_path):
    """A real run: the small config on the digits classifier layer. Every toggled net is in the
    Verilog; no register bit changes more than once a cycle (Verilator's wide-signal toggle
    counter overcounts without ``toggle_fix.h``); every component of the event model has a
    row; toggle-priced components are non-zero; the others carry the event model's figure."""
    cfg = load_config("small")
    layer = load_workload("digits").find("fc3.weight")
    doc = activity_cross_check(cfg, [layer], 8)
    rows = {r["component"]: r for r in doc["components"]}
    assert doc["cycles"] > 0 and doc["toggled_nets"] > 0
    for c in ARRAY_AND_ACCUMULATORS:
        assert rows[c]["basis"] == "toggles" and rows[c]["activity_pj"] > 0
    for c in NOT_TOGGLES:
        if c in rows:
            assert rows[c]["basis"] == "event model"
            assert rows[c]["activity_pj"] >= rows[c]["event_pj"]
    h = doc["array_and_accumulators"]
    assert h["ratio"] == pytest.approx(h["activity_pj"] / h["event_pj"])
    assert 0 < doc["max_register_toggles_per_bit_cycle"] <= 1.0


@pytest.mark.rtl
def test_energy_cli(tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["energy", "--config", "small", "--workload", "digits", "--layer",
                 "fc3.weight", "--tokens", "8", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["energy"]["total_pj"] == pytest.approx(
        sum(li["total_pj"] for li in doc["energy"]["lines"]))
    assert main(["energy", "--config", "small", "--workload", "digits", "--layer", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
