"""The one workload definition (``ternhw.workload``): shape-list parsers, model workloads, their
errors, and the report and the co-simulation reading the same layers (issue 10, item 3)."""

import json

import numpy as np
import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.cosim.workloads import layer_cases, workload_cases
from ternhw.errors import TernhwError
from ternhw.model.cycles import command_tokens, fits_resident, gemm_cycles
from ternhw.model.schedule import block_tiles, schedule_gemm
from ternhw.quant.pipeline import quantize_model
from ternhw.weights import load_source
from ternhw.workload import (
    BITNET_2B_BLOCK,
    Layer,
    bitnet_2b,
    bitnet_layers,
    layer_events,
    layer_schedule,
    load_scalesim_csv,
    load_toml,
    load_workload,
    model_workload,
    real_workload,
    shipped_workloads,
    synthetic_trits,
    weights_for,
)

SMALL = load_config("small")

TINY_TOML = """
name = "tiny"
tokens = 4
zero_fraction = 0.5
[[layer]]
name = "a"
m = 4
k = 20
n = 9
count = 3
[[layer]]
name = "b"
m = 12
k = 13
n = 6
bias = true
requant = true
zero_fraction = 0.25
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- TOML ----------------------------------------------------------------------------------
def test_toml_shape_list(tmp_path):
    w = load_toml(write(tmp_path, "tiny.toml", TINY_TOML))
    assert w.name == "tiny (projected)" and w.tokens == 4 and not w.real
    a, b = w.layers
    assert (a.shape, a.count, a.bias, a.requant) == ((4, 20, 9), 3, False, False)
    assert (b.shape, b.count, b.bias, b.requant) == ((12, 13, 6), 1, True, True)
    assert (a.zero_fraction, b.zero_fraction) == (0.5, 0.25)      # file default, own value
    assert a.weights.shape == (9, 20) and a.weights.ternary
    assert w.macs == 3 * 4 * 20 * 9 + 12 * 13 * 6
    assert "projected" in w.notes[0] and "seeded random" in w.notes[0]
    assert w.find("b") is b


def test_shipped_examples_parse():
    shipped = shipped_workloads()
    assert {"bert-base-seq128", "transformer-gemm", "lenet-conv"} <= set(shipped)
    bert = load_workload("bert-base-seq128")
    assert [la.name for la in bert.layers] == ["attention.qkv", "attention.output", "ffn.up",
                                              "ffn.down"]
    assert bert.tokens == 128 and all(la.count == 12 for la in bert.layers)
    # the synthetic trits have the stated zero fraction
    z = bert.find("attention.output").weights.counts()[2] / (768 * 768)
    assert z == pytest.approx(0.331, abs=0.01)


@pytest.mark.parametrize("body, message", [
    ("[[layer]]\nname = 'x'\nm = 0\nk = 4\nn = 4\n",
     "layer 1 ('x'): m must be a positive integer, not 0"),
    ("[[layer]]\nname = 'x'\nm = 2\nk = 'wide'\nn = 4\n",
     "layer 1 ('x'): k must be a positive integer, not 'wide'"),
    ("[[layer]]\nname = 'x'\nm = 2\nk = 4\nn = 1.5\n",
     "layer 1 ('x'): n must be a positive integer, not 1.5"),
    ("[[layer]]\nm = 2\nk = 4\nn = 4\n[[layer]]\nname = 'y'\nm = 2\nk = 4\n",
     "layer 2 ('y'): missing n"),
    ("[[layer]]\nname = 'x'\nm = 2\nk = 4\nn = 4\nrows = 3\n",
     "layer 1 ('x'): unknown key 'rows'"),
    ("[[layer]]\nname = 'x'\nm = 2\nk = 4\nn = 4\n[[layer]]\nname = 'x'\nm = 2\nk = 4\nn = 4\n",
     "layer 2 ('x'): a second layer named 'x'"),
    ("zero_fraction = 1.0\n[[layer]]\nm = 2\nk = 4\nn = 4\n",
     "zero_fraction must be a number in [0, 1), not 1.0"),
    ("[[layer]]\nname = 'x'\nm = 2\nk = 4\nn = 4\nbias = 1\n",
     "layer 1 ('x'): bias must be true or false, not 1"),
    ("name = 'nothing'\n", "no [[layer]] tables"),
    ("[[layer]\nm = 2\n", "not valid TOML"),
    ("layers = []\n", "unknown key 'layers'"),
])
def test_toml_errors_name_file_layer_and_key(tmp_path, body, message):
    p = write(tmp_path, "bad.toml", body)
    with pytest.raises(TernhwError) as e:
        load_toml(p)
    assert str(e.value).startswith(f"{p}: ") and message in str(e.value)


# ---- SCALE-Sim CSV -------------------------------------------------------------------------
def test_scalesim_gemm_csv(tmp_path):
    """SCALE-Sim's GEMM format: Layer, M, N, K (its files end every line with a comma)."""
    p = write(tmp_path, "gpt.csv", "Layer,M,N,K,\nQKT,1024,1024,64,\n\n"
                                   "Linear1, 1024, 4800, 1600 ,\nLinear1,8,16,32\n")
    w = load_scalesim_csv(p)
    assert [(la.name, la.m, la.k, la.n) for la in w.layers] == [
        ("QKT", 1024, 64, 1024), ("Linear1", 1024, 1600, 4800), ("Linear1#2", 8, 32, 16)]
    assert w.name == "gpt (SCALE-Sim GEMM, projected)" and w.tokens == 1 and not w.real


def test_scalesim_conv_csv_by_im2col(tmp_path):
    """M = output pixels, K = Fh x Fw x C, N = filters; SCALE-Sim's ceil((H - Fh + S) / S)."""
    p = write(tmp_path, "net.csv",
              "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
              "Num Filter, Strides,\n"
              "Conv1,224,224,11,11,3,96,4,\n"
              "Conv2,27,27,5,5,96,256,1,\n"
              "DP1,14,14,3,3,32,1,2,\n")
    w = load_workload(str(p))
    c1, c2, dp = w.layers
    assert (c1.m, c1.k, c1.n) == (55 * 55, 11 * 11 * 3, 96)
    assert (c2.m, c2.k, c2.n) == (23 * 23, 5 * 5 * 96, 256)
    assert (dp.m, dp.k, dp.n, dp.count) == (7 * 7, 9, 1, 32)      # depthwise: one per channel
    assert "im2col" in w.notes[0]
    # the write_topo_file header: separate stride height and width
    p2 = write(tmp_path, "hw.csv", "Layer name,IFMAP height,IFMAP width,Filter height,"
                                   "Filter width,Channels,Num filter,Stride height,Stride width,\n"
                                   "c,10,20,3,5,2,4,1,3,\n")
    (c,) = load_scalesim_csv(p2).layers
    assert (c.m, c.k, c.n) == (8 * 6, 3 * 5 * 2, 4)


@pytest.mark.parametrize("text, message", [
    ("Layer,M,N,\nx,1,2,\n", "missing column(s) 'K' of SCALE-Sim's GEMM format"),
    ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Channels,Num Filter,Strides\n",
     "missing column(s) 'Filter Width' of SCALE-Sim's convolution format"),
    ("name,rows,cols\nx,1,2\n", "is neither SCALE-Sim's GEMM format"),
    ("Layer,M,N,K\nQKV,128,x,384\n", "row 2 ('QKV'), column 'N': must be a positive integer, "
                                     "not 'x'"),
    ("Layer,M,N,K\nQKV,128,64,384\nFFN,128,64,-3\n",
     "row 3 ('FFN'), column 'K': must be a positive integer, not -3"),
    ("Layer,M,N,K\nQKV,128,64,38.5\n", "row 2 ('QKV'), column 'K': must be a positive integer, "
                                       "not '38.5'"),
    ("Layer,M,N,K\nQKV,128\n", "row 2: 2 values, the header has 4 columns"),
    ("Layer,M,N,K\n", "no layers after the header"),
    ("", "empty"),
    ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,"
     "Strides\nc,4,4,5,5,1,1,1\n", "row 2 ('c'): the 5x5 filter is larger than the 4x4 IFMAP"),
])
def test_csv_errors_name_file_row_and_column(tmp_path, text, message):
    p = write(tmp_path, "topo.csv", text)
    with pytest.raises(TernhwError) as e:
        load_scalesim_csv(p)
    assert str(e.value).startswith(f"{p}: ") and message in str(e.value)


def test_unknown_spec_and_missing_file(tmp_path):
    with pytest.raises(TernhwError, match="unknown workload 'nope'"):
        load_workload("nope")
    with pytest.raises(TernhwError, match="no such workload file"):
        load_workload(str(tmp_path / "absent.toml"))


# ---- model workloads -----------------------------------------------------------------------
def test_minilm_seq_len_bound():
    model = load_source("minilm")
    assert model_workload(model, seq_len=512).layers[0].m == 512
    with pytest.raises(TernhwError, match=r"minilm: --seq-len 513 is beyond the model's 512 "
                                          r"positions \(embeddings.position_embeddings.weight"):
        model_workload(model, seq_len=513)
    w = model_workload(model, seq_len=64, batch=3)
    assert w.name == "MiniLM (seq 64, batch 3)" and w.tokens == 192
    assert len(w.layers) == 36 and all(la.m == 192 for la in w.layers)


def test_model_file_workload(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "toy.npz"
    np.savez(p, **{"wpe.weight": rng.normal(size=(64, 32)).astype(np.float32),
                   "h.0.attn.weight": rng.normal(size=(96, 32)).astype(np.float32),
                   "h.0.mlp.weight": rng.normal(size=(32, 128)).astype(np.float32)})
    w = load_workload(str(p), seq_len=16, batch=2)
    assert [(la.name, la.m, la.k, la.n) for la in w.layers] == [
        ("h.0.attn", 32, 32, 96), ("h.0.mlp", 32, 128, 32)]
    assert w.real and w.find("h.0.mlp.weight") is w.layers[1]
    with pytest.raises(TernhwError, match=r"toy.npz: --seq-len 65 is beyond the model's 64 "
                                          r"positions \(wpe.weight has 64 rows\)"):
        load_workload(str(p), seq_len=65)
    with pytest.raises(TernhwError, match=r"toy.npz: no linear layer named 'h.0.mpl'; did you"):
        w.find("h.0.mpl")
    with pytest.raises(TernhwError, match="--batch must be a positive integer, not 0"):
        load_workload(str(p), batch=0)


def test_digits_workload_matches_former_report_workload():
    model = load_source("digits")
    q = quantize_model(model)
    name, layers, tokens = real_workload(SMALL, model, q, 128)
    assert (name, tokens) == ("digits (1 image)", 1)
    assert [(la.name, la.m, la.k, la.n, la.requant, la.bias) for la in layers] == [
        ("fc1", 1, 64, 256, True, True), ("fc2", 1, 256, 128, True, True),
        ("fc3", 1, 128, 10, False, True)]
    assert np.array_equal(layers[0].weights.w, q.ternary["fc1.weight"].trits)
    assert model_workload(model, q, batch=4).name == "digits (4 images)"


def test_bitnet_shapes_and_projected_trits():
    w = bitnet_2b()
    assert [(la.name, la.k, la.n) for la in w.layers] == list(BITNET_2B_BLOCK)
    assert all(la.m == 1 and la.count == 30 and not la.real for la in w.layers)
    assert bitnet_2b(128, prefill=True).tokens == 128
    # the former bitnet_layers(cfg, m, zf): same shapes, same seeded trits (seed = index)
    k_proj = bitnet_layers(SMALL, 1, 0.3)[1]
    assert np.array_equal(k_proj.weights.w, synthetic_trits(2560, 640, 0.3, seed=1))
    with pytest.raises(TernhwError, match="beyond the model's 4096 positions"):
        bitnet_2b(5000, prefill=True)


def test_one_layer_object_serves_every_design():
    """A layer gives the int8 baseline an int8 view of its trits (zeros kept), built once."""
    layer = Layer("x", 8, 16, 8, synthetic_trits(16, 8, 0.4, seed=3))
    i8 = load_config("int8-baseline")
    v = layer.weights_on(i8)
    assert not v.ternary and v is layer.weights_on(i8)
    assert np.array_equal(v.w != 0, layer.weights.w != 0)
    assert layer.weights_on(SMALL) is layer.weights
    # the same events as the former per-design layer holding weights_for(cfg, trits)
    former = Layer("x", 8, 16, 8, weights_for(i8, layer.weights.w))
    assert layer_events(i8, layer) == layer_events(i8, former)
    assert layer_events(i8, layer).lane_mul == 8 * 16 * 8


# ---- one definition for report and co-simulation -------------------------------------------
def test_schedule_error_names_the_layer(tmp_path):
    p = write(tmp_path, "big.toml", "[[layer]]\nname = 'wide'\nm = 70000\nk = 64\nn = 8\n"
                                    "[[layer]]\nname = 'deep'\nm = 2\nk = 4096\nn = 8\n")
    wide, deep = load_toml(p).layers
    assert sum(c.m for c in layer_schedule(SMALL, wide).commands) == 70000   # split, fine
    with pytest.raises(TernhwError, match=rf"{p}: layer 2 \('deep'\) \(2x4096x8\): K = 4096 "
                                          r"needs 1024 weight words per tile but config 'small'"):
        layer_schedule(SMALL, deep)


def test_report_and_cosim_share_layers_digits():
    """The co-simulation of a digits layer runs the report's Layer: its weights, and (with the
    layer's own token count) the commands of the report's schedule."""
    model = load_source("digits")
    _, layers, _ = real_workload(SMALL, model, quantize_model(model), 128, batch=8)
    for layer in layers:
        cases, note = layer_cases(SMALL, layer, tokens=layer.m, p_ready=0.5)
        plan = layer_schedule(SMALL, layer)
        assert [(c.x.shape[0], c.resident, c.keep_weights) for c in cases] == [
            (cmd.m, cmd.resident, cmd.keep_weights) for cmd in plan.commands]
        assert all(np.array_equal(c.w, layer.weights.w[cmd.n_start:cmd.n_stop])
                   for c, cmd in zip(cases, plan.commands, strict=True))
        assert all(c.x.shape[1] == layer.k and c.bias is not None for c in cases)
        assert "real activations" in note


def test_report_and_cosim_share_layers_minilm():
    cfg = load_config("default")
    model = load_source("minilm")
    w = model_workload(model, seq_len=48)
    layer = w.find("encoder.layer.0.attention.output.dense.weight")
    cases, note = layer_cases(cfg, layer, tokens=48)
    plan = layer_schedule(cfg, layer)
    assert [c.x.shape[0] for c in cases] == [cmd.m for cmd in plan.commands] == [42, 6]
    assert (cases[0].resident, cases[1].keep_weights) == (True, True)
    assert "real activations: the first 48 tokens" in note
    # the lazily ternarized weights are those quantize_model (the report's) gives
    q = quantize_model(model, layers=[layer.tensor])
    assert np.array_equal(cases[0].w, q.ternary[layer.tensor].trits)


def test_shape_list_cosim_cases_are_seeded(tmp_path):
    w = load_toml(write(tmp_path, "tiny.toml", TINY_TOML))
    cases, note = workload_cases(SMALL, w, "b", seed=5)
    again, _ = workload_cases(SMALL, w, "b", seed=5)
    assert len(cases) == 1 and cases[0].x.shape == (12, 13)       # default: min(16, m)
    assert np.array_equal(cases[0].x, again[0].x) and cases[0].requant is not None
    assert cases[0].bias is not None and "seeded random activations (seed 5)" in note
    assert "zero fraction 0.25" in note
    with pytest.raises(TernhwError, match=r"no layer named 'c'"):
        workload_cases(SMALL, w, "c")


# ---- command line --------------------------------------------------------------------------
def test_report_rejects_bad_workload_before_modelling(tmp_path, capsys):
    bad = write(tmp_path, "bad.csv", "Layer,M,N\nx,1,2\n")
    assert main(["report", "--config", "small", "--weights", "digits", "--synth", "skip",
                 "--workload", str(bad), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"ternhw: error: {bad}: missing column(s) 'K' of SCALE-Sim's GEMM format "
                   "(Layer, M, N, K)")
    assert main(["report", "--config", "small", "--weights", "digits", "--synth", "skip",
                 "--workload", "lenet-conv", "-o", str(tmp_path / "r")]) == 2
    assert "row 4 ('Conv3') (1x400x120): K = 400 needs 100 weight words" in \
        capsys.readouterr().err
    assert main(["report", "--config", "small", "--weights", "minilm", "--seq-len", "600",
                 "-o", str(tmp_path / "r")]) == 2
    assert "--seq-len 600 is beyond the model's 512 positions" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_sim_needs_one_source(capsys):
    assert main(["sim", "--config", "small"]) == 2
    assert "one of --weights SOURCE" in capsys.readouterr().err


def test_sim_workload_layer(tmp_path, capsys):
    """``ternhw sim --workload FILE --layer NAME``: bit-exact and cycle-exact on a shape-list
    layer with bias and requantization (a one-time Verilator build of 'small')."""
    toml = write(tmp_path, "tiny.toml", TINY_TOML)
    out = tmp_path / "r.json"
    assert main(["sim", "--config", "small", "--workload", str(toml), "--layer", "b",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["mismatches"] == 0 and doc["outputs_checked"] == 12 * 6
    assert doc["cycles_rtl"] == doc["cycles_model"]
    assert doc["workload"] == str(toml) and "layer 'b'" in doc["note"]


def test_events_from_real_data_match_statistics_but_count_overflow():
    """Issue 11, item 4: a layer with real activations gets its events from the golden model
    on them (``measured_events``); every weight- and shape-determined count equals the
    statistics, and the data-dependent overflow count is measured (a 10-bit wrapping
    accumulator overflows on the digits images)."""
    from ternhw.workload import MEASURED, STATISTICS, measured_events

    narrow = SMALL.replace(name="small-narrow", acc_bits=10)
    layer = model_workload(load_source("digits"), batch=64).find("fc1.weight")
    ev, basis = measured_events(narrow, layer)
    stats = layer_events(narrow, layer)
    assert basis == MEASURED
    measured, estimated = ev.to_dict(), stats.to_dict()
    assert estimated.pop("overflow_events") == 0 and measured.pop("overflow_events") > 0
    for data_dependent in ("overflowed_outputs", "output_saturations"):
        assert estimated.pop(data_dependent) == 0
        measured.pop(data_dependent)
    assert measured == estimated
    projected = Layer("p", 4, 16, 8, zero_fraction=0.3)
    assert measured_events(narrow, projected)[1].startswith(STATISTICS)


def test_minilm_layers_write_int8_with_calibrated_requantizers():
    """As deployed, every MiniLM linear layer writes int8: its requantizer maps the largest
    accumulator of the real tokens to 127, so no output saturates and the largest reaches
    close to full scale; the schedule then moves 8-bit outputs off chip."""
    from ternhw.model.gemm import gemm

    cfg = load_config("default")
    w = model_workload(load_source("minilm"), seq_len=16)
    assert all(lay.requant for lay in w.layers)
    layer = w.find("encoder.layer.0.attention.self.query.weight")
    ops = layer.operands(cfg, 16)
    assert ops.requant is not None and "int8 outputs" in ops.note
    out = gemm(cfg, ops.x, layer.weights_on(cfg), None, ops.requant).out
    assert 110 <= np.abs(out).max() <= 127
    plan = layer_schedule(cfg, layer, m=16)
    assert plan.out_bytes == 16 * layer.n


# ---- the schedule: resident, n-blocked, streamed -------------------------------------------
def _streamed_read_bytes(cfg, m, k, n, bias=False):
    """Off-chip bytes read if every command streamed the whole matrix (the former schedule)."""
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    C = len(command_tokens(cfg, m, k))
    return (round(C * NT * T * cfg.weight_word_bits / 8) + round(m * T * cfg.act_word_bits / 8)
            + (round(C * NT * cfg.rows * cfg.acc_bits / 8) if bias else 0))


@pytest.mark.parametrize("cfg, m, k, n, bias", [
    (load_config("default"), 128, 2560, 2560, False),      # BitNet q_proj prefill: 7 blocks
    (load_config("default"), 128, 6912, 2560, False),      # down_proj: T = 432, 18 blocks
    (load_config("default").replace(weight_buffer_depth=1024), 128, 384, 1530, True),
    (SMALL, 40, 15, 190, True),                            # ragged K, N and last block
])
def test_n_blocked_schedule_reads_weights_once(cfg, m, k, n, bias):
    """A matrix that does not fit the weight buffer runs in column blocks of the most N-tiles
    that fit resident, each loaded once and kept for all the tokens' commands: weight reload
    factor exactly 1, activation reload factor = blocks, every (token, output) computed
    exactly once, cycles the sum of the commands' exact cycles, fewer bytes than streaming."""
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    assert not fits_resident(cfg, k, n)
    plan = schedule_gemm(cfg, m, k, n, bias=bias)
    parts = command_tokens(cfg, m, k)
    assert plan.policy == "n-blocked" and plan.blocks >= 2 and len(parts) >= 2
    assert plan.weight_reload_factor == 1.0
    assert plan.act_reload_factor == plan.blocks
    assert plan.offchip_read_bytes < _streamed_read_bytes(cfg, m, k, n, bias)
    assert plan.to_dict()["policy"] == "n-blocked" and plan.to_dict()["blocks"] == plan.blocks
    assert not plan.to_dict()["resident"]
    hits = np.zeros((m, n), dtype=int)
    starts = sorted({c.n_start for c in plan.commands})
    assert len(starts) == plan.blocks
    for c in plan.commands:
        hits[c.token_start:c.token_stop, c.n_start:c.n_stop] += 1
        assert c.k == k and c.bias == bias
    assert (hits == 1).all()
    for i, s in enumerate(starts):
        block = [c for c in plan.commands if c.n_start == s]
        assert [c.m for c in block] == parts                      # the token commands
        assert [(c.resident, c.keep_weights) for c in block] == [
            (True, j > 0) for j in range(len(parts))]
        width = block[0].n
        assert fits_resident(cfg, k, width)                       # what the RTL enforces
        if i < len(starts) - 1:                                   # the most tiles that fit
            assert width == block_tiles(cfg, k, n) * cfg.rows
            assert not fits_resident(cfg, k, width + cfg.rows)
    assert plan.total_cycles == sum(
        gemm_cycles(cfg, c.m, k, c.n, bias, resident=c.resident,
                    keep_weights=c.keep_weights).total for c in plan.commands)
    assert plan.weight_bytes == round(NT * T * cfg.weight_word_bits / 8)
    assert plan.bias_bytes == (round(len(parts) * NT * cfg.rows * cfg.acc_bits / 8)
                               if bias else 0)


@pytest.mark.parametrize("cfg, m, k, n, why", [
    (load_config("default"), 1, 2560, 6912, "decode: one command, nothing to reuse"),
    (load_config("default"), 6, 2560, 2560, "the tokens fit one command"),
    (SMALL, 4, 16, 16, "fits whole, but one command"),
    (SMALL.replace(weight_buffer_depth=8, act_buffer_depth=4096), 2000, 16, 64,
     "a small weight buffer beside a large activation buffer: 8 blocks of 2000 tokens cost "
     "more than reading the matrix twice"),
    (SMALL, 40, 16, 160, "a tie (2 extra matrix reads = 2 extra activation reads): streamed"),
])
def test_streaming_stays_where_it_is_cheaper(cfg, m, k, n, why):
    plan = schedule_gemm(cfg, m, k, n)
    assert plan.policy == "streamed" and plan.blocks == 1, why
    assert all(c.n_start == 0 and c.n == n and not c.resident and not c.keep_weights
               for c in plan.commands)
    assert plan.act_reload_factor == 1.0
    assert plan.weight_reload_factor == len(plan.commands)
    if block_tiles(cfg, k, n) and len(plan.commands) > 1:            # blocking was possible
        T, NT, nb = -(-k // cfg.cols), -(-n // cfg.rows), block_tiles(cfg, k, n)
        blocked = (round(NT * T * cfg.weight_word_bits / 8)
                   + round(-(-NT // nb) * m * T * cfg.act_word_bits / 8))
        assert plan.offchip_read_bytes <= blocked


def test_blocking_that_saves_less_than_it_costs_in_cycles_streams():
    """A token over one tile per command (``small``, K = 256 fills the 64-word ring): blocking
    would read 0.6 % fewer bytes for about 25 % more cycles, so the schedule streams."""
    from ternhw.model.schedule import _blocking_pays

    plan = schedule_gemm(SMALL, 40, 256, 128)
    assert plan.policy == "streamed" and len(plan.commands) == 40
    assert not _blocking_pays(348_160, 346_112, 83_880, 104_960)
    assert _blocking_pays(17_121_607_680, 1_529_610_240, 1_042_198_800, 1_044_128_400)


def test_whole_matrix_resident_is_the_one_block_case():
    cfg = load_config("default")
    plan = schedule_gemm(cfg, 128, 384, 1536)
    assert (plan.policy, plan.blocks, len(plan.commands)) == ("resident", 1, 4)
    assert plan.to_dict()["resident"] and plan.weight_reload_factor == 1.0
    assert [(c.resident, c.keep_weights, c.n_start, c.n) for c in plan.commands] == [
        (True, False, 0, 1536)] + [(True, True, 0, 1536)] * 3


@pytest.mark.parametrize("cfg, shapes", [
    (load_config("default"), [(128, 2560, 640, False, True), (128, 6912, 2560, True, False),
                              (1, 2560, 2560, False, True), (128, 384, 1536, True, True)]),
    (load_config("default").replace(weight_buffer_depth=1024),
     [(128, 1536, 384, True, True), (48, 384, 1536, False, False), (1, 384, 1536, True, False)]),
    (SMALL, [(40, 15, 190, True, True), (2000, 16, 64, False, True), (8, 64, 10, True, False),
             (40, 16, 160, True, True)]),
])
def test_sweep_replica_equals_the_schedule(cfg, shapes):
    """``ternhw.sweep.evaluate`` rebuilds a group's schedule from memoized numbers (cycles,
    N-tiles loaded, commands, blocks): its bytes, cycles and events equal the schedule's and
    ``layer_events``' on blocked and unblocked shapes."""
    from ternhw.sweep.evaluate import _plan, group_events, group_plan
    from ternhw.sweep.workload import LayerGroup

    policies = set()
    for i, (m, k, n, bias, requant) in enumerate(shapes):
        layer = Layer(f"l{i}", m, k, n, count=2, bias=bias, requant=requant,
                      zero_fraction=0.4, seed=i)
        pos, neg, zero = layer.weights.counts()
        g = LayerGroup(f"{m}x{k}x{n}", m, k, n, 2, requant, bias, 2 * pos, 2 * neg, 2 * zero,
                       {cfg.cols: 2 * layer.weights.zero_chunks(cfg.cols)})
        s = layer_schedule(cfg, layer)
        policies.add(s.policy)
        cycles, tile_loads, ncmd, blocks = _plan(cfg, g)
        assert (cycles, ncmd, blocks) == (s.total_cycles, len(s.commands), s.blocks)
        p = group_plan(cfg, g, cycles, tile_loads, ncmd, blocks)
        for f in ("weight_bytes", "act_bytes", "bias_bytes", "out_bytes",
                  "unique_weight_bytes", "total_cycles"):
            assert getattr(p, f) == getattr(s, f), (f, s.policy)
        assert group_events(cfg, g, tile_loads, blocks) == layer_events(cfg, layer, s)
    assert len(policies) >= 2


def test_cosim_of_an_n_blocked_gemm():
    """A real co-simulation of an n-blocked GEMM on the small config (64-word weight and
    activation buffers): 190 outputs of K = 15 in 3 column blocks (64, 64, 62) x 3 token
    commands (16, 16, 8), with bias and requantization: each case holds its block's rows of W
    and of the bias, the first of each block loads it resident and the others reuse it;
    0 mismatches, and the RTL's cycles equal the model's for every command."""
    from ternhw.cosim.runner import run_cases

    layer = Layer("blk", 40, 15, 190, bias=True, requant=True, zero_fraction=0.3, seed=3)
    plan = layer_schedule(SMALL, layer)
    assert plan.policy == "n-blocked" and plan.blocks == 3 and len(plan.commands) == 9
    cases, _ = layer_cases(SMALL, layer, tokens=40, seed=3)
    ops = layer.operands(SMALL, 40, seed=3)
    for c, cmd in zip(cases, plan.commands, strict=True):
        assert np.array_equal(c.x, ops.x[cmd.token_start:cmd.token_stop])
        assert np.array_equal(c.w, ops.w[cmd.n_start:cmd.n_stop])
        assert np.array_equal(c.bias, ops.bias[cmd.n_start:cmd.n_stop])
        assert (c.resident, c.keep_weights) == (cmd.resident, cmd.keep_weights)
    report = run_cases(SMALL, cases, engine="bulk")
    assert report.passed and report.mismatches == 0
    assert report.outputs_checked == 40 * 190
    assert [r["cycles_rtl"] for r in report.cases] == [r["cycles_model"] for r in report.cases]
    assert [r["cycles_rtl"] for r in report.cases] == [cb.total for cb in plan.cycles]
