"""cocotb co-simulation of the generated Verilog against ternhw.model (Verilator; Icarus
where installed). Builds are cached under $TERNHW_CACHE_DIR."""

import json
import shutil

import numpy as np
import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.cosim.bfm import Scoreboard
from ternhw.cosim.bulk import raw_rate
from ternhw.cosim.check import CHECKS
from ternhw.cosim.runner import ENGINES, CosimCase, run_cases
from ternhw.cosim.workloads import _batched, digits_cases, minilm_activations
from ternhw.errors import TernhwError, ToolMissingError
from ternhw.hdl.faults import FAULTS
from ternhw.model import Requant
from ternhw.weights import load_source

pytestmark = pytest.mark.rtl

SMALL = load_config("small")                       # 4x4, base-3 weights, 16-bit wrap
SMALL_SAT = SMALL.replace(name="small-sat", overflow="saturate", weight_format="2bit")


def random_and_corner_cases(cfg, seed=0):
    """Constrained random (shapes, sparsity 0-100%, extremes, back-pressure) and corners."""
    rng = np.random.default_rng(seed)
    lo, hi = cfg.act_min, cfg.act_max
    cases = []
    for i in range(6):
        M, K, N = int(rng.integers(1, 5)), int(rng.integers(1, 19)), int(rng.integers(1, 11))
        p_zero = [0.0, 0.3, 0.7, 1.0, 0.5, 0.1][i]
        w = rng.choice([-1, 1], size=(N, K)) * (rng.random((N, K)) >= p_zero)
        x = rng.integers(lo, hi + 1, size=(M, K))
        if i == 4:
            x = rng.choice([lo, hi], size=(M, K))                 # activation extremes
        bias = rng.integers(-3000, 3000, size=N) if i % 2 else None
        rq = Requant(int(rng.integers(1, 1 << 16)), int(rng.integers(0, 24)),
                     relu=bool(i % 3 == 0)) if i != 1 else None
        cases.append(CosimCase(f"random{i}", x, w, bias, rq, p_valid=[1, .7, .5][i % 3],
                               p_ready=[1, .4, .8][i % 3], seed=seed + i))
    K = 37
    cases += [
        CosimCase("all_zero_weights", rng.integers(lo, hi + 1, (2, K)), np.zeros((6, K), int)),
        CosimCase("all_plus_one", rng.integers(lo, hi + 1, (2, K)), np.ones((5, K), int)),
        CosimCase("all_minus_one", rng.integers(lo, hi + 1, (2, K)), -np.ones((7, K), int),
                  requant=Requant(1, 1)),
        # 200 x 127 plus a bias of 30000 leaves a 16-bit accumulator on the last chunks
        CosimCase("overflow_max", np.full((1, 200), hi), np.ones((3, 200), int),
                  bias=np.full(3, 30000)),
        CosimCase("overflow_min", np.full((1, 200), lo), np.ones((3, 200), int),
                  bias=np.full(3, -30000), p_ready=0.3, seed=5),
        CosimCase("m1_odd", rng.integers(lo, hi + 1, (1, 5)), rng.integers(-1, 2, (9, 5)),
                  bias=rng.integers(-99, 99, 9), requant=Requant(40000, 12)),
    ]
    return cases


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


def fault_stimulus():
    """Full-rate streams: every output checked, cycles and counters predicted."""
    rng = np.random.default_rng(42)
    return [
        # K = 13 = 1 mod 4 exercises the last partial chunk; Requant(1, 1) makes ties
        CosimCase("mixed", rng.integers(-128, 128, (3, 13)), rng.integers(-1, 2, (9, 13)),
                  bias=rng.integers(-500, 500, 9), requant=Requant(1, 1)),
        # 200 x 127 = 25400 fits 16 bits but not 15
        CosimCase("near_top", np.full((1, 200), 127), np.ones((4, 200), int)),
    ]


def back_pressure_stimulus():
    """The result stream stalled at random (and the inputs gapped): the array holds while
    the output stage waits, so faults in the stream rules and the stall paths show."""
    rng = np.random.default_rng(43)
    w = rng.integers(-1, 2, (10, 14)) * (rng.random((10, 14)) < 0.6)     # many zero lanes
    return [CosimCase("bp_stalled", rng.integers(-128, 128, (12, 14)), w,
                      requant=Requant(3, 2), p_ready=0.25, p_valid=0.8, seed=11)]


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
