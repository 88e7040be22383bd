"""cocotb co-simulation of the generated Verilog against ternhw.model (Verilator; Icarus
where installed). Builds are cached under $TERNHW_CACHE_DIR."""

import json
import shutil

import numpy as np
import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.cosim.bfm import GemmModel, Scoreboard
from ternhw.cosim.bulk import raw_rate
from ternhw.cosim.check import CHECKS
from ternhw.cosim.coverage import Coverage
from ternhw.cosim.mutation import mutation_score
from ternhw.cosim.random_configs import random_cases, random_config
from ternhw.cosim.regression import (
    back_pressure_stimulus,
    directed_cases,
    fault_stimulus,
    random_and_corner_cases,
    regression,
)
from ternhw.cosim.runner import ENGINES, CosimCase, run_cases
from ternhw.cosim.workloads import _batched, digits_cases, minilm_activations
from ternhw.errors import TernhwError, ToolMissingError
from ternhw.hdl.faults import FAULTS
from ternhw.model import Requant
from ternhw.weights import load_source

pytestmark = pytest.mark.rtl

SMALL = load_config("small")                       # 4x4, base-3 weights, 16-bit wrap
SMALL_SAT = SMALL.replace(name="small-sat", overflow="saturate", weight_format="2bit")


def assert_clean(report):
    bad = [(c["name"], c["mismatches"], c["problems"], c["counter_mismatches"])
           for c in report.cases if c["mismatches"] or c["problems"] or c["counter_mismatches"]]
    assert report.passed and not bad, bad
    assert report.mismatches == 0 and report.cycles_rtl_predicted == report.cycles_model
    for c in report.cases:
        if c["cycles_model"] is not None:
            assert (c["cycles_rtl"], c["stall_cycles"]) == (c["cycles_model"],
                                                            c["stall_cycles_model"])
        assert c["cycles_rtl"] >= c["cycles_full_rate"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("cfg", [SMALL, SMALL_SAT], ids=lambda c: c.name)
def test_random_and_corner_cases(cfg, engine):
    report = run_cases(cfg, random_and_corner_cases(cfg), engine=engine)
    assert_clean(report)
    names = {c["name"]: c for c in report.cases}
    assert names["overflow_max"]["counters"]["overflow_events"] > 0
    # random handshakes happened, and were counted rather than predicted
    assert any(c["cycles_model"] is None and c["cycles_rtl"] > c["cycles_full_rate"]
               for c in report.cases)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("cfg", [SMALL, SMALL_SAT], ids=lambda c: c.name)
def test_directed_cases(cfg, engine):
    """Every shift, every rounding threshold, every weight byte, long back-pressure, a bias
    stream running ahead, 32,768 overflow events in a command (each added for a mutant that
    survived the random cases, ``sim/mutation.py``)."""
    report = run_cases(cfg, directed_cases(cfg), engine=engine)
    assert_clean(report)
    names = {c["name"]: c for c in report.cases}
    assert names["many_overflows"]["counters"]["overflow_events"] == 64 * 512
    assert names["bp_heavy"]["counters"]["hold_cycles"] > 100


def test_regression_hits_every_coverage_bin(tmp_path):
    """The regression on ``small`` hits 100 % of the functional-coverage bins (issue 13,
    item 5), and ``ternhw sim --coverage`` writes cocotb-coverage's report file."""
    cov = Coverage(SMALL)
    report = run_cases(SMALL, regression(SMALL), engine="bulk", coverage=cov)
    summary = cov.report()
    assert report.passed
    assert summary["percent"] == 100.0, {k: v["missing"] for k, v in summary["points"].items()
                                         if v["missing"]}
    assert summary["points"]["weights.code"]["bins"] == 243
    out, json_out = tmp_path / "cov.yml", tmp_path / "r.json"
    assert main(["sim", "--config", "small", "--weights", "digits", "--tokens", "4",
                 "--coverage", str(out), "--json", str(json_out)]) == 0
    assert "ternhw.shape.k_mod_cols" in out.read_text()
    assert json.loads(json_out.read_text())["coverage"]["bins"] == summary["bins"]


def test_minilm_ffn_on_default_config(tmp_path):
    """The acceptance command: a full all-MiniLM-L6-v2 FFN matrix (1536x384) with 16 real
    tokens on the default 16x16 array (2-bit weights)."""
    out = tmp_path / "r.json"
    rc = main(["sim", "--config", "default", "--weights", "minilm", "--layer",
               "encoder.layer.0.intermediate.dense.weight", "--tokens", "16",
               "--json", str(out)])
    doc = json.loads(out.read_text())
    assert rc == 0
    assert doc["mismatches"] == 0 and doc["outputs_checked"] == 16 * 1536
    # T = 24 chunks, 96 tiles: the first step in cycle 1, then back to back, then the drain
    # (4 array registers, hand-off, G = 16 feeds, 4 requantizer registers, 3) and done
    assert doc["cycles_rtl"] == doc["cycles_model"] == 1 + 96 * 16 * 24 + 16 + 4 + 8 + 1
    assert doc["sim_cycles_per_s"] > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_minilm_throttled_weight_stream_and_resident_weights(engine):
    """Weights from memory at 16 bytes per clock (a quarter of a weight word) after 20 clocks:
    the model predicts every stall; then tokens beyond one command reuse a resident matrix."""
    cfg = load_config("default")
    model = load_source("minilm")
    layer = "encoder.layer.0.attention.output.dense.weight"
    x, w = minilm_activations(cfg, model, layer, 48)
    cases = [CosimCase("throttled", x[:2], w, wgt_bytes_per_clock=16.0, wgt_latency=20)]
    cases += _batched(cfg, "resident", x, w)              # 42 + 6 tokens: two commands
    report = run_cases(cfg, cases, engine=engine)
    assert_clean(report)
    throttled, first, second = report.cases
    assert throttled["stall_cycles"] > 1000 and throttled["cycles_model"] is not None
    assert (first["resident"], second["keep_weights"]) == (True, True)


@pytest.mark.slow
def test_minilm_ffn_base3_and_down_projection():
    cfg = load_config("default-base3")
    model = load_source("minilm")
    cases = []
    for layer in ("encoder.layer.0.intermediate.dense.weight",
                  "encoder.layer.3.output.dense.weight"):
        x, w = minilm_activations(cfg, model, layer, 16)
        cases.append(CosimCase(layer, x, w))
    assert_clean(run_cases(cfg, cases))


def test_digits_mlp_end_to_end_on_default():
    """All 359 held-out images through the three layers (bulk engine)."""
    cfg = load_config("default")
    report = run_cases(cfg, digits_cases(cfg, load_source("digits")), engine="bulk")
    assert_clean(report)
    assert report.outputs_checked == 359 * (256 + 128 + 10)


MINILM_OUTPUTS_PER_TOKEN = 6 * (4 * 384 + 1536 + 384)     # 36 matrices


def _whole_minilm(tmp_path, tokens):
    out = tmp_path / "minilm.json"
    rc = main(["sim", "--workload", "minilm", "--tokens", str(tokens), "--json", str(out)])
    doc = json.loads(out.read_text())
    assert rc == 0 and doc["passed"] and doc["engine"] == "bulk"
    assert len(doc["layers"]) == 36 and {lay["m"] for lay in doc["layers"]} == {tokens}
    for lay in doc["layers"]:
        assert lay["passed"] and lay["mismatches"] == 0, lay
        assert lay["cycles_rtl"] == lay["cycles_model"], lay
    assert doc["mismatches"] == 0
    assert doc["outputs_checked"] == tokens * MINILM_OUTPUTS_PER_TOKEN
    assert doc["cycles_rtl"] == doc["cycles_model"] == sum(c["cycles_model"]
                                                           for c in doc["cases"])
    return doc


def test_whole_minilm_slice(tmp_path):
    """Every one of MiniLM's 36 encoder matrices on the first 8 tokens of the sentence batch,
    each fed the int8 activations the integer pipeline computes before it (issue 13, item 2;
    the full 128 tokens run in the slow suite)."""
    _whole_minilm(tmp_path, 8)


@pytest.mark.slow
def test_whole_minilm_128_tokens(tmp_path):
    doc = _whole_minilm(tmp_path, 128)
    assert sum(lay["commands"] for lay in doc["layers"]) == 198


def test_digits_mlp_on_small_config():
    """The whole digits MLP (three layers, bias, requantization, ReLU) on 8 test images."""
    report = run_cases(SMALL, digits_cases(SMALL, load_source("digits"), tokens=8,
                                           p_ready=0.6, seed=3))
    assert_clean(report)
    assert report.outputs_checked == 8 * (256 + 128 + 10)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_injected_fault_trips_its_named_check(fault, engine):
    """Each fault must trip the check it names (issue 13, item 6); a fault of the stream
    rules or the stall paths must also go unnoticed at full rate, so the test shows it is the
    back-pressure that exposes it."""
    f = FAULTS[fault]
    stimulus = fault_stimulus() + (back_pressure_stimulus() if f.back_pressure else [])
    report = run_cases(SMALL, stimulus, fault=fault, engine=engine)
    tripped = {check for c in report.cases for check in c["checks"]}
    assert f.check in CHECKS
    assert not report.passed and f.check in tripped, (
        f"fault {fault!r} ({f.description}) should trip {f.check!r}; tripped {tripped}")
    if f.back_pressure:
        assert [c["checks"] for c in report.cases[:len(fault_stimulus())]] == [[], []]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("cfg", [SMALL, SMALL_SAT], ids=lambda c: c.name)
def test_invalid_weight_code_raises_the_error_flag(cfg, engine):
    """Issue 13, item 8: a weight word with an invalid code (base-3 byte 243, 2-bit code 3)
    raises ``status.error`` for its command and nothing else (the lane still reads 0: same
    outputs, cycles and counters), the next command is clean again, a resident matrix with an
    invalid code is not kept (a later ``keep_weights`` command is refused), and the model
    refuses the same word with the formats' error."""
    from ternhw.cosim.runner import corrupt_zero_weight
    from ternhw.errors import FormatError
    from ternhw.hdl.transactions import decode_weight_word

    rng = np.random.default_rng(3)
    x = rng.integers(-100, 101, size=(3, 9))
    w = rng.integers(-1, 2, size=(6, 9))
    w[:, :5] = 0                                  # an all-zero base-3 byte in every word
    cases = [CosimCase("bad", x, w, invalid_weight_code=True), CosimCase("next", x, w),
             CosimCase("bad_resident", x, w, resident=True, invalid_weight_code=True),
             CosimCase("keep_after_bad", x, w, keep_weights=True, rejected=True)]
    report = run_cases(cfg, cases, engine=engine)
    assert report.passed, [(c["name"], c["problems"]) for c in report.cases]
    assert [c["counters"]["cycles"] for c in report.cases][-1] == 1
    assert [c["outputs_checked"] for c in report.cases] == [18, 18, 18, 0]
    tx = GemmModel(cfg).prepare(x, w)[0]
    bad = corrupt_zero_weight(cfg, tx.weight_words)
    decode_weight_word(cfg, tx.weight_words[0])
    with pytest.raises(FormatError, match="invalid"):
        decode_weight_word(cfg, next(b for b, g in zip(bad, tx.weight_words, strict=True)
                                     if b != g))


def test_the_back_pressure_stimulus_passes_without_a_fault():
    for engine in ENGINES:
        report = run_cases(SMALL, back_pressure_stimulus(), engine=engine)
        assert report.passed and report.cases[0]["counters"]["hold_cycles"] > 0, report.cases


def test_vectorized_scoreboard_matches_the_reference():
    """The bulk path's whole-command check finds the same mismatches, in the same order, as
    the word-by-word reference: clean words, corrupted values and flags, and extra words."""
    from ternhw.cosim.bfm import GemmModel

    rng = np.random.default_rng(7)
    for cfg, (m, k, n) in ((SMALL, (3, 9, 10)), (load_config("default"), (2, 40, 33))):
        x = rng.integers(cfg.act_min, cfg.act_max + 1, (m, k))
        w = rng.integers(-1, 2, (n, k))
        tx, expected = GemmModel(cfg).prepare(x, w, requant=Requant(3, 1))
        ref = Scoreboard(cfg, tx, expected)
        R, ab = cfg.rows, cfg.acc_bits
        words = []
        for idx in range(ref.expected_words + 2):          # two extra words at the end
            nt, i = divmod(idx, m)
            word = 0
            for r in range(R):
                j = nt * R + r
                if j < n:
                    word |= (int(expected.out[i, j]) & ((1 << ab) - 1)) << (r * ab)
                    word |= int(expected.overflow[i, j]) << (R * ab + r)
                    word |= int(expected.saturated[i, j]) << (R * ab + R + r)
            if idx % 3 == 1:
                word ^= 1 << int(rng.integers(0, R * ab + 2 * R))     # one corrupted bit
            words.append(word)
        for cyc, word in enumerate(words):
            ref.receive(word, cyc)
        fast = Scoreboard(cfg, tx, expected)
        nch = -(-(R * ab + 2 * R) // 32)
        chunks = np.array([[(wd >> (32 * c)) & 0xFFFFFFFF for c in range(nch)] for wd in words],
                          dtype=np.uint32)
        half = len(words) // 2                             # in two calls, as words arrive
        fast.receive_all(chunks[:half], np.arange(half))
        fast.receive_all(chunks[half:], np.arange(half, len(words)))
        assert (fast.checked, fast.words, fast.mismatch_count) == (
            ref.checked, ref.words, ref.mismatch_count)
        assert ref.mismatch_count > 2
        assert [vars(a) for a in fast.mismatches] == [vars(b) for b in ref.mismatches]
        assert fast.field_counts == ref.field_counts


def test_bulk_harness_runs_near_free_running_verilator():
    """The bulk harness and free-running Verilator on the same executable: the harness's rate
    is reported (benchmarks/bench_cosim.py holds it to >= 0.5 of the free-running rate)."""
    case = fault_stimulus()[0]
    raw = raw_rate(SMALL, case, 20_000)
    report = run_cases(SMALL, [case], engine="bulk")
    assert raw["raw_cycles"] == 20_000 and raw["raw_cycles_per_s"] > 0
    assert report.summary()["engine"] == "bulk" and report.sim_cycles_per_s > 0


def test_the_same_stimulus_passes_without_a_fault():
    assert_clean(run_cases(SMALL, fault_stimulus()))


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_icarus_agrees():
    assert_clean(run_cases(SMALL, random_and_corner_cases(SMALL, seed=9)[:4],
                           simulator="icarus"))


def test_missing_simulator_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("ternhw.cosim.runner.icarus", lambda: None)
    with pytest.raises(ToolMissingError, match="apt-get install iverilog"):
        run_cases(SMALL, fault_stimulus()[:1], simulator="icarus")
    with pytest.raises(TernhwError, match="simulator must be one of"):
        run_cases(SMALL, fault_stimulus()[:1], simulator="xsim")


def test_sim_cli_errors(capsys):
    assert main(["sim", "--config", "int8-baseline", "--weights", "digits"]) == 2
    assert main(["sim", "--config", "small", "--weights", "minilm", "--layer", "nope"]) == 2
    assert "no linear layer named 'nope'" in capsys.readouterr().err


def _random_config_run(seed):
    cfg = random_config(seed)
    print(f"random config seed {seed} (replay: python sim/random_config.py {seed}): {cfg}")
    assert_clean(run_cases(cfg, random_cases(cfg, seed), engine="bulk"))


@pytest.mark.parametrize("seed", [0, 1], ids=lambda s: f"seed{s}")
def test_random_config(seed):
    """Random valid configurations (array 2-16 per side, 2-8-bit activations, accumulators
    near the overflow edge, both overflow modes, every weight format) on random shapes
    (issue 13, item 7): two per default run, 200 more in the slow suite."""
    _random_config_run(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 202), ids=lambda s: f"seed{s}")
def test_random_config_slow(seed):
    _random_config_run(seed)


def test_mutation_run_kills_and_explains(tmp_path):
    """The mutation machinery on two mutants of ``sim/mutation.py``'s run (ids 4 and 5 of its
    sample): one the regression kills, one no input can observe, with its reason (the full
    run: ``reports/verification/mutation_small.json``)."""
    doc = mutation_score(SMALL, count=6, seed=1, work=tmp_path, only={4, 5})
    rows = doc["rows"]
    assert [(r["id"], r["killed"]) for r in rows] == [(4, True), (5, False)], rows
    assert rows[0]["checks"] and rows[1].get("reason")
    assert doc["score"] == 1.0 and doc["holes"] == [] and doc["unobservable"] == 1


def test_waveform_goes_where_asked(tmp_path, capsys):
    """``--waves vcd --waves-out FILE`` leaves the waveform at FILE (not in a temporary or
    cache folder), and --waves-out alone is refused with one line (issue 13, item 9)."""
    out = tmp_path / "w" / "run.vcd"
    out.parent.mkdir()
    argv = ["sim", "--config", "small", "--weights", "digits", "--layer", "fc3.weight",
            "--tokens", "1"]
    assert main([*argv, "--waves", "vcd", "--waves-out", str(out)]) == 0
    assert out.read_text().startswith("$") and f"waveform: {out}" in capsys.readouterr().out
    assert main([*argv, "--waves-out", str(out)]) == 2
    assert "add --waves" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_icarus_waveform_builds(tmp_path, capsys):
    """Icarus with --waves builds (cocotb's dump module needs SystemVerilog's ``string``;
    ours is Verilog-2005) and writes FST, said on the console; a .vcd name is refused."""
    argv = ["sim", "--config", "small", "--weights", "digits", "--layer", "fc3.weight",
            "--tokens", "1", "--simulator", "icarus", "--waves", "vcd"]
    assert main([*argv, "--waves-out", str(tmp_path / "w.vcd")]) == 2
    assert "name it *.fst" in capsys.readouterr().err
    out = tmp_path / "w.fst"
    assert main([*argv, "--waves-out", str(out)]) == 0
    assert "writes FST waveforms" in capsys.readouterr().out
    assert out.stat().st_size > 1000


def test_sim_throttled_weight_stream_cli(tmp_path, capsys):
    """``--wgt-bandwidth 16 --wgt-latency 20``: the weight stream delivers a quarter of a
    weight word per clock; the model predicts every stall and the RTL matches it."""
    out = tmp_path / "t.json"
    argv = ["sim", "--weights", "minilm", "--layer",
            "encoder.layer.0.attention.output.dense.weight", "--tokens", "2"]
    assert main([*argv, "--wgt-bandwidth", "16", "--wgt-latency", "20",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    (case,) = doc["cases"]
    assert case["stall_cycles"] == case["stall_cycles_model"] > 1000
    assert doc["cycles_rtl"] == doc["cycles_model"]
    for bad in (["--wgt-bandwidth", "0"], ["--wgt-bandwidth", "fast"], ["--wgt-latency", "5"]):
        capsys.readouterr()
        assert main([*argv, *bad]) == 2
        assert "--wgt-" in capsys.readouterr().err


def test_waveform_window_on_the_bulk_engine(tmp_path, capsys):
    """``--waves vcd --waves-window 100:300``: the bulk engine dumps only cycles 100-300
    (10 time units a cycle), so a long run's waveform stays small; bad windows are refused."""
    out = tmp_path / "win.vcd"
    argv = ["sim", "--config", "small", "--weights", "digits", "--layer", "fc3.weight",
            "--tokens", "4"]
    assert main([*argv, "--waves", "vcd", "--waves-window", "100:300",
                 "--waves-out", str(out)]) == 0
    times = [int(line[1:]) for line in out.read_text().splitlines() if line.startswith("#")]
    assert times[0] == 1000 and times[-1] == 3005 and len(times) == 2 * 201
    for bad in (["--waves", "vcd", "--waves-window", "9:3"], ["--waves-window", "1:2"],
                ["--waves", "vcd", "--waves-window", "1:2", "--engine", "cocotb"]):
        capsys.readouterr()
        assert main([*argv, *bad]) == 2
        assert "--waves-window" in capsys.readouterr().err
