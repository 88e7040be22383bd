"""ternhw sweep: space parsing, the analytic evaluation against the report's models, the area
model's held-out error, the Pareto front, caching and resume, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.errors import ConfigError, TernhwError
from ternhw.sweep import area
from ternhw.sweep.calibrate import calibration_configs, load_calibration
from ternhw.sweep.driver import run_sweep
from ternhw.sweep.evaluate import evaluate
from ternhw.sweep.pareto import pareto_mask, parse_objectives
from ternhw.sweep.space import load_space, parse_space
from ternhw.sweep.workload import build_profile

SPACE = """
[space]
name = "t"
base = "small"

[axes]
rows = [2, 4]
cols = {min = 2, max = 8, factor = 2}
act_bits = [4, 8]
acc_bits = [8, 16]
weight_format = ["2bit", "int8"]
requant_lanes = [1, 4]
weight_buffer_depth = [8, 64]
act_buffer_depth = {min = 32, max = 64, step = 32}

[constraints]
max_gates = 30000
"""
OBJ = parse_objectives("tokens_per_s:max,energy_per_token:min,gates:min")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TERNHW_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits_profile():
    return build_profile("digits", [1, 2, 4, 5, 8, 16, 64])


def _space(tmp_path, text=SPACE, name="space.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


# -- the space file ------------------------------------------------------------------------

def test_space_expands_ranges_and_lists(tmp_path):
    s = load_space(_space(tmp_path))
    assert s.axes["cols"] == [2, 4, 8] and s.axes["act_buffer_depth"] == [32, 64]
    assert s.size == 2 * 3 * 2 * 2 * 2 * 2 * 2 * 2 == len(s.points())
    assert s.base.name == "small" and s.constraints[0].key == "max_gates"
    cfg = s.config_of({"weight_format": "int8"}, 0)          # weight_bits follows the format
    assert cfg.weight_bits == 8 and not cfg.is_ternary


@pytest.mark.parametrize("text, words", [
    ("[axes]\nrowz = [1]", ["space.toml", "rowz", "known fields"]),
    ("[axes]\nrows = [0, 4]", ["space.toml", "rows", "not 0"]),
    ("[axes]\noverflow = ['clip']", ["space.toml", "overflow", "'clip'"]),
    ("[axes]\nrows = {min = 4, max = 2, step = 1}", ["space.toml", "rows", "below min"]),
    ("[axes]\nrows = {min = 1, max = 8}", ["space.toml", "rows", "step"]),
    ("[axes]\nrows = []", ["space.toml", "rows", "empty"]),
    ("[axes]\nrows = [4]\n[constraints]\nmax_luts = 5", ["space.toml", "max_luts", "max_gates"]),
    ("[axes]\nrows = [4]\n[constraints]\nmax_foo = 5", ["space.toml", "max_foo"]),
    ("[axes]\nrows = [4]\n[constraints]\nmax_gates = 'x'", ["space.toml", "max_gates"]),
    ("[space]\nmax_points = 2\n[axes]\nrows = [1, 2, 4]", ["space.toml", "max_points"]),
    ("[space]\nbase = 'nope'\n[axes]\nrows = [4]", ["space.toml", "base", "nope"]),
    ("[axis]\nrows = [4]", ["space.toml", "[axis]"]),
    ("rows = [", ["space.toml", "TOML"]),
])
def test_space_errors_name_file_and_field(tmp_path, text, words):
    with pytest.raises(ConfigError) as e:
        load_space(_space(tmp_path, text))
    for w in words:
        assert w in str(e.value)


def test_bad_space_on_the_command_line(tmp_path, capsys):
    p = _space(tmp_path, "[axes]\nrows = ['x']")
    assert main(["sweep", "--space", str(p), "--workload", "digits",
                 "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ternhw: error:") and "space.toml" in err and "rows" in err
    assert main(["sweep", "--space", str(p), "--objectives", "gates:up",
                 "-o", str(tmp_path / "o")]) == 2
    assert "--objectives" in capsys.readouterr().err


# -- the evaluation ------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {},                                                       # small: several commands
    {"rows": 8, "cols": 16, "weight_buffer_depth": 4096, "act_buffer_depth": 1024},
    {"weight_format": "int8", "weight_bits": 8, "acc_bits": 24, "weight_buffer_depth": 1024},
    {"rows": 8, "cols": 64, "requant_lanes": 1, "weight_buffer_depth": 256},  # T < G: timing.py
    {"rows": 6, "cols": 5, "requant_lanes": 4, "overflow": "saturate", "act_bits": 6,
     "clock_mhz": 250.0, "dram_technology": "HBM2", "logic_node_nm": 7.0},
    {"weight_format": "2bit", "logic_node_nm": 28.0, "vdd": 0.8, "dram_technology": "DDR4"},
])
def test_evaluation_equals_the_report_models(digits_profile, changes):
    """Cycles, DRAM bytes and energy from the profile's statistics equal what the report
    computes from the weights themselves: ``ternhw.report.build.analyse`` called as
    ``build_report`` calls it (``price_gemm`` per layer, in the config's technology)."""
    from ternhw.quant.pipeline import quantize_model
    from ternhw.report.build import analyse, real_workload, technology_of
    from ternhw.weights import load_source

    cfg = load_config("small").replace(**changes)
    model = load_source("digits")
    _, layers, tokens = real_workload(cfg, model, quantize_model(model), 128)
    ref = analyse(cfg, layers, technology_of(cfg), cfg.clock_mhz)
    got = evaluate(cfg, digits_profile, area.shipped_model())
    assert got["cycles"] == ref["cycles"]
    assert got["dram_bytes"] == ref["dram_bytes"]
    assert got["energy_per_token_uj"] * tokens * 1e6 == pytest.approx(
        ref["energy"]["total_pj"], rel=1e-9)
    assert got["energy_per_mac_pj"] == pytest.approx(ref["energy"]["per_mac_pj"], rel=1e-9)
    assert got["utilization"] == pytest.approx(ref["utilization"], rel=1e-12)
    assert got["weight_reload_factor"] == pytest.approx(ref["weight_reload_factor"])
    assert got["tokens_per_s_roofline"] == pytest.approx(tokens / ref["roofline_time_s"])


BLOCKED_TOML = """
name = "blocked"
tokens = 40
[[layer]]
name = "wide"
m = 40
k = 15
n = 190
bias = true
requant = true
[[layer]]
name = "tie"
m = 40
k = 16
n = 160
count = 2
[[layer]]
name = "fits"
m = 40
k = 16
n = 60
"""


def test_evaluation_equals_the_report_models_n_blocked(tmp_path):
    """The same equality on a shape list the small config runs n-blocked, streamed (a tie)
    and resident: the sweep's replica of the schedule (N-tiles loaded, column blocks, bias
    words per block) moves the report's bytes and prices its energy."""
    from ternhw.report.build import analyse, technology_of
    from ternhw.workload import layer_schedule, load_workload

    p = tmp_path / "blocked.toml"
    p.write_text(BLOCKED_TOML)
    cfg = load_config("small")
    layers = load_workload(str(p)).layers
    assert [layer_schedule(cfg, la).policy for la in layers] == [
        "n-blocked", "streamed", "resident"]
    ref = analyse(cfg, layers, technology_of(cfg), cfg.clock_mhz)
    got = evaluate(cfg, build_profile(str(p), [cfg.cols]), area.shipped_model())
    assert got["cycles"] == ref["cycles"]
    assert got["dram_bytes"] == ref["dram_bytes"]
    assert got["energy_per_token_uj"] * 40 * 1e6 == pytest.approx(ref["energy"]["total_pj"],
                                                                   rel=1e-9)
    assert got["weight_reload_factor"] == pytest.approx(ref["weight_reload_factor"])
    assert got["commands"] == sum(la["commands"] * la["count"] for la in ref["layers"])


def test_flip_flop_counts_equal_the_elaborated_design():
    """The sweep prices clock tree, controller, requantizer registers and leakage with
    flip-flops counted in closed form; they equal the count on the elaborated design."""
    import random

    from ternhw.config import AcceleratorConfig
    from ternhw.energy.components import flip_flops
    from ternhw.sweep.energy import flip_flop_counts

    rng = random.Random(3)
    cfgs = [load_config("default"), load_config("small")]
    for _ in range(16):
        rows, cols = rng.choice([1, 2, 3, 5, 8]), rng.choice([1, 2, 3, 4, 7])
        fmt = rng.choice(["2bit", "base3", "int8"])
        act = rng.choice([2, 4, 6, 8])
        cfgs.append(AcceleratorConfig(
            rows=rows, cols=cols, act_bits=act, acc_bits=rng.choice([max(act + 1, 8), 16, 20, 32]),
            overflow=rng.choice(["wrap", "saturate"]), weight_format=fmt,
            weight_bits=8 if fmt == "int8" else 1.58,
            weight_buffer_depth=rng.choice([1, 2, 3, 7, 64, 100, 4096]),
            act_buffer_depth=rng.choice([1, 2, 5, 64, 1000]),
            requant_lanes=rng.randint(1, rows)))
    for cfg in cfgs:
        assert flip_flop_counts(cfg) == flip_flops(cfg), cfg


def test_technology_fields_are_axes(digits_profile):
    """dram_technology, logic_node_nm and vdd price the same events differently."""
    space = parse_space({"space": {"base": "small"},
                         "axes": {"dram_technology": ["LPDDR4", "HBM2"],
                                  "logic_node_nm": [45.0, 7.0]}}, source="tech.toml")
    got = [evaluate(space.config_of(ch, i), digits_profile, area.shipped_model())
           for i, ch in enumerate(space.points())]
    assert len({r["cycles"] for r in got}) == 1
    e = {(ch["dram_technology"], ch["logic_node_nm"]): r["energy_per_token_uj"]
         for ch, r in zip(space.points(), got, strict=True)}
    assert e["HBM2", 45.0] < e["LPDDR4", 45.0] and e["LPDDR4", 7.0] < e["LPDDR4", 45.0]


def test_workload_that_does_not_fit_is_an_invalid_point(digits_profile):
    cfg = load_config("small").replace(act_buffer_depth=2, cols=2)
    with pytest.raises(TernhwError, match="activation|weight"):
        evaluate(cfg, digits_profile, area.shipped_model())


# -- the area model ------------------------------------------------------------------------

def test_area_model_held_out_error_within_goal():
    records = load_calibration()["records"]
    assert len(records) == len(calibration_configs())
    train, test = area.held_out_split(records)
    errors = area.relative_errors(area.fit(train), test)
    assert max(abs(e) for e in errors) <= 0.10
    pred = area.shipped_model().predict(load_config("default"))
    assert set(pred) == set(area.COMPONENTS) and all(v >= 0 for v in pred.values())


def test_calibration_set_is_small_and_deterministic():
    a, b = calibration_configs(), calibration_configs()
    assert a == b and all(c.rows <= 8 and c.cols <= 8 for c in a)
    assert {c.weight_format for c in a} == {"2bit", "base3", "int8"}


# -- the front -----------------------------------------------------------------------------

def test_pareto_mask_matches_brute_force():
    rng = np.random.default_rng(7)
    for n, k in ((1, 2), (50, 2), (200, 3), (120, 4)):
        v = rng.integers(0, 12, size=(n, k)).astype(float)     # ties and duplicates
        mask = pareto_mask(v)
        for i in range(n):
            dom = np.any(np.all(v <= v[i], axis=1) & np.any(v < v[i], axis=1))
            assert mask[i] == (not dom)


def test_objectives_parse():
    assert [str(o) for o in parse_objectives("energy_per_token,gates:min")] == [
        "energy_per_token_uj:min", "gates:min"]
    for bad in ("gates:min", "nope:max,gates:min", "gates:up,cycles:min",
                "gates:min,gates:max"):
        with pytest.raises(TernhwError, match="--objectives"):
            parse_objectives(bad)


# -- whole sweeps --------------------------------------------------------------------------

def _strip(rows):
    return json.loads(json.dumps(rows))


def test_sweep_outputs_invalid_points_and_resume(tmp_path, capsys):
    p = _space(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(out),
                 "--jobs", "2", "--quiet", "--json", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    assert "Fmax not calibrated" in printed
    for f in ("results.csv", "results.json", "front.json", "index.html", "axes.png",
              "pareto_tokens_per_s_vs_gates.png"):
        assert (out / f).stat().st_size > 0
    doc = json.loads((out / "results.json").read_text())
    rows = doc["points"]
    assert len(rows) == 384 and [r["point"] for r in rows] == list(range(384))
    kinds = {r["reason_kind"] for r in rows if r["status"] != "ok"}
    assert kinds == {"config", "workload", "constraint"}       # none silently skipped
    bad = [r for r in rows if r["reason_kind"] == "config"]
    assert all(r["status"].startswith("invalid: ") for r in bad)
    assert any("acc_bits" in r["status"] for r in bad)
    assert any("requant_lanes" in r["status"] for r in bad)
    front = json.loads((out / "front.json").read_text())["front"]
    assert front and all(r["status"] == "ok" and r["on_front"] for r in front)
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 385 and csv_lines[0].startswith("point,status,")
    html = (out / "index.html").read_text()
    assert "Pareto front" in html and "not calibrated" in html and "small" in html

    # resume: a second run takes every point from the cache; a torn last line is ignored
    cache = next((tmp_path / "cache" / "sweep").glob("*.jsonl"))
    with open(cache, "a") as f:
        f.write('{"k": "torn')
    space = load_space(p)
    again = run_sweep(space, "digits", OBJ, jobs=1, progress=False, log=lambda m: None)
    assert _strip(again.rows) == rows                          # nothing evaluated again
    assert cache.read_text().count("\n") == 384
    # a new point after the torn line is appended on a line of its own and found again
    bigger = parse_space({"space": {"base": "small"}, "axes": {"rows": [2, 3]}},
                         source="b.toml")
    run_sweep(bigger, "digits", OBJ, jobs=1, progress=False, log=lambda m: None)
    [again_file] = (tmp_path / "cache" / "sweep").glob("*.jsonl")
    entries = [json.loads(x) for x in again_file.read_text().splitlines() if x.endswith("}")]
    assert again_file == cache and len(entries) == 384 + 2


def test_sweep_local_equals_inline(tmp_path):
    space = load_space(_space(tmp_path))
    a = run_sweep(space, "digits", OBJ, jobs=1, use_cache=False, progress=False,
                  log=lambda m: None)
    b = run_sweep(space, "digits", OBJ, jobs=2, use_cache=False, progress=False,
                  log=lambda m: None)
    assert _strip(a.rows) == _strip(b.rows) and a.front == b.front


def test_sweep_on_a_dask_cluster_equals_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    space = parse_space({"space": {"base": "small"},
                         "axes": {"rows": [2, 4], "cols": [2, 4, 8], "act_bits": [4, 8],
                                  "acc_bits": [8, 16], "requant_lanes": [1, 4]}},
                        source="dask.toml")
    local = run_sweep(space, "digits", OBJ, jobs=1, use_cache=False, progress=False,
                      log=lambda m: None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_sweep(space, "digits", OBJ, scheduler=cluster.scheduler_address,
                           use_cache=False, progress=False, log=lambda m: None)
    assert _strip(remote.rows) == _strip(local.rows) and remote.front == local.front


def test_unreachable_scheduler_is_one_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from ternhw.sweep import runner
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", "1s")
    space = parse_space({"axes": {"rows": [4]}}, source="x.toml")
    with pytest.raises(TernhwError, match="--scheduler"):
        run_sweep(space, "digits", OBJ, scheduler="tcp://127.0.0.1:9", use_cache=False,
                  progress=False, log=lambda m: None)


# -- --verify: co-simulation and synthesis of the best front points -------------------------

TINY = """
[space]
name = "tiny"
base = "small"

[axes]
rows = [2, 4]
cols = [2, 4]
act_buffer_depth = [64]
weight_buffer_depth = [64]
weight_format = ["2bit", "base3"]
"""


def _fake_flows(monkeypatch, *, cycles_off=0, mismatches=0, synth_error=None):
    """Replace the simulator and Yosys by stand-ins that answer like them (the real flows run
    in the slow test below)."""
    from ternhw.cosim import runner as cosim_runner
    from ternhw.model.cycles import gemm_cycles

    def run_cases(cfg, cases, **kw):
        rows = [{"name": c.name, "mismatches": mismatches, "outputs_checked": c.w.shape[0]
                 * len(c.x), "cycles_rtl": gemm_cycles(cfg, len(c.x), c.w.shape[1], c.w.shape[0],
                                                       bias=c.bias is not None,
                                                       resident=c.resident,
                                                       keep_weights=c.keep_weights).total
                 + cycles_off, "cycles_model": None, "first_mismatch": None} for c in cases]
        return cosim_runner.CosimReport(cfg.name, "fake", mismatches == 0, rows, 0.0, 0.0, 0.0)

    def synthesize(cfg, target="generic", **kw):
        if synth_error:
            raise TernhwError(synth_error)
        return {"gates": 10_000, "area_breakdown": {}, "cached": True}

    monkeypatch.setattr(cosim_runner, "run_cases", run_cases)
    monkeypatch.setattr("ternhw.synth.synthesize", synthesize)


def test_verify_marks_points_and_fails_loudly(tmp_path, monkeypatch, capsys):
    p = _space(tmp_path, TINY)
    out = tmp_path / "out"
    _fake_flows(monkeypatch)
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(out), "--jobs",
                 "1", "--quiet", "--verify", "2", "--json", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("PASS: cycles model") == 2
    doc = json.loads((out / "front.json").read_text())
    verified = [r for r in doc["front"] if "verified" in r]
    assert len(verified) == 2 and all(r["verified"]["passed"] for r in verified)
    v = doc["verification"][0]
    assert v["cycles_model"] == v["cycles_rtl"] > 0 and v["mismatches"] == 0
    assert v["gates_measured"] == 10_000 and v["gates_error"] == pytest.approx(
        v["gates_model"] / 10_000 - 1)
    # the best by the first objective (tokens_per_s:max) comes first
    best = max(doc["front"], key=lambda r: r["tokens_per_s"])
    assert v["point"] == best["point"]
    assert "Verification" in (out / "index.html").read_text()
    assert "PASS" in (out / "results.csv").read_text()

    # a cycle difference is a failed point: kept, FAILED on stderr, exit status 1
    _fake_flows(monkeypatch, cycles_off=1)
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(out), "--jobs",
                 "1", "--quiet", "--verify", "1"]) == 1
    err = capsys.readouterr().err
    assert "VERIFICATION FAILED: point" in err and "cycles: RTL" in err
    doc = json.loads((out / "results.json").read_text())
    assert [r["verified"]["passed"] for r in doc["points"] if "verified" in r] == [False]

    # mismatches and a broken synthesis flow are reported, not dropped
    _fake_flows(monkeypatch, mismatches=3, synth_error="yosys crashed")
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(out), "--jobs",
                 "1", "--quiet", "--verify", "1"]) == 1
    err = capsys.readouterr().err
    assert "3 of" in err and "synthesis failed: yosys crashed" in err


def test_verify_argument_errors(tmp_path, capsys):
    p = _space(tmp_path, TINY)
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(tmp_path / "o"),
                 "--verify", "-1"]) == 2
    assert "--verify" in capsys.readouterr().err
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(tmp_path / "o"),
                 "--verify", "1", "--verify-tokens", "0"]) == 2
    assert "--verify-tokens" in capsys.readouterr().err


@pytest.mark.slow
def test_verify_on_rtl_and_yosys(tmp_path, capsys):
    """The real flows: Verilator co-simulation of digits fc1 (4 images) and the generic Yosys
    synthesis of the best front point of a tiny space (a Verilator build: about a minute)."""
    pytest.importorskip("cocotb")
    p = _space(tmp_path, TINY)
    out = tmp_path / "out"
    assert main(["sweep", "--space", str(p), "--workload", "digits", "-o", str(out), "--jobs",
                 "1", "--quiet", "--verify", "1"]) == 0
    [v] = json.loads((out / "results.json").read_text())["verification"]
    assert v["passed"] and v["mismatches"] == 0 and v["outputs_checked"] == 4 * 256
    assert v["cycles_rtl"] == v["cycles_model"] > 0
    assert v["gates_measured"] > 0 and abs(v["gates_error"]) < 0.5
