"""``ternhw quantize`` and ``ternhw train-digits`` as a user runs them."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ternhw.cli import main
from ternhw.formats import load_model
from ternhw.weights import load_source
from ternhw.weights.digits import accuracy, load_digits_split, train_digits


def test_quantize_minilm_json(tmp_path, capsys):
    out = tmp_path / "q.json"
    assert main(["quantize", "minilm", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["layers"]) == 37
    assert doc["total_weights"] == 10_764_288
    for layer in doc["layers"]:
        assert 0.30 <= layer["zero_fraction"] <= 0.37, layer["name"]
        assert set(layer) >= {"name", "shape", "zero_fraction", "rel_error", "bits_per_weight"}
        assert layer["bits_per_weight"]["base3"] == pytest.approx(1.6, abs=1e-3)
    assert "encoder.layer.0.intermediate.dense.weight" in capsys.readouterr().out


def test_quantize_writes_models_that_load_back(tmp_path):
    for suffix in ("gguf", "npz"):
        path = tmp_path / f"d.{suffix}"
        assert main(["quantize", "digits", "-o", str(path)]) == 0
        original = {n: t for n, t in load_source("digits").tensors.items()}
        model = load_model(path)
        assert set(model.ternary) == {"fc1.weight", "fc2.weight", "fc3.weight"}
        np.testing.assert_array_equal(model.tensors["fc1.bias"], original["fc1.bias"])
        # quantizing the quantized file keeps the trits
        again = tmp_path / f"again.{suffix}.json"
        assert main(["quantize", str(path), "--json", str(again)]) == 0


def test_quantize_methods_and_granularities(tmp_path):
    for args in (["--method", "twn"], ["--method", "ttq", "--granularity", "channel"],
                 ["--granularity", "group", "--group-size", "32"]):
        out = tmp_path / "q.json"
        assert main(["quantize", "digits", *args, "--json", str(out)]) == 0
        assert json.loads(out.read_text())["total_weights"] == 64 * 256 + 256 * 128 + 128 * 10


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "bad.gguf").write_bytes(b"GGUF" + b"\0" * 5)
    cases = [
        (["quantize", str(tmp_path / "bad.gguf")], "bad.gguf: not a readable GGUF file"),
        (["quantize", "nosuchmodel"], "unknown model source 'nosuchmodel'"),
        (["quantize", "digits", "-o", str(tmp_path / "x.txt")], "must end in .gguf or .npz"),
        (["quantize", "digits", "--layer", "fc9.weight"], "no linear layer named 'fc9.weight'"),
        (["quantize", "digits", "--method", "ttq", "-o", str(tmp_path / "t.gguf")],
         "separate positive and negative"),
    ]
    for argv, words in cases:
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("ternhw: error:") and words in err and "\n" not in err, err
    assert not (tmp_path / "t.gguf").exists()


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "ternhw.cli", "quantize", "--help"],
                       capture_output=True, text=True, check=True)
    assert "--granularity" in r.stdout and "boundary mass" in r.stdout


def test_shipped_digits_weights_reach_97_percent():
    model = load_source("digits")
    _, _, x_te, y_te = load_digits_split()
    assert accuracy(model.tensors, x_te, y_te) >= 0.97


def test_train_digits_reproduces_shipped_weights():
    params, acc = train_digits(seed=0)
    shipped = load_source("digits").tensors
    for k, v in params.items():
        np.testing.assert_array_equal(v, shipped[k], err_msg=k)
    assert acc >= 0.97


def test_train_digits_cli(tmp_path):
    out = tmp_path / "t.json"
    assert main(["train-digits", "--seed", "3", "--epochs", "3", "--json", str(out),
                 "-o", str(tmp_path / "w.npz")]) == 0
    doc = json.loads(out.read_text())
    assert 0.5 < doc["test_accuracy"] <= 1.0
    assert load_model(tmp_path / "w.npz").linear_names() == ["fc1.weight", "fc2.weight",
                                                             "fc3.weight"]


# ---- issue 13: no silent data loss, every failure a clear message -------------------------

def _scaled_npz(tmp_path, factor, name="s.npz"):
    w = np.random.default_rng(11).normal(size=(8, 256)).astype(np.float32)
    path = tmp_path / name
    np.savez(path, **{"fc.weight": w * np.float32(factor)})
    return path


@pytest.mark.parametrize("factor, method, words", [
    (2e5, "absmean", "tensor 'fc.weight': scale {} exceeds the fp16 range of TQ1_0 (max 65504)"),
    (1e-9, "twn", "tensor 'fc.weight': scale {} is below the smallest normal fp16 value of "
                  "TQ1_0 (6.10352e-05) and would be stored as 0"),
])
def test_quantize_refuses_gguf_scales_outside_fp16(tmp_path, capsys, factor, method, words):
    src = _scaled_npz(tmp_path, factor)
    out = tmp_path / "o.gguf"
    capsys.readouterr()
    assert main(["quantize", str(src), "--method", method, "-o", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    scale = err.split("scale ")[1].split()[0]
    assert err == f"ternhw: error: {out}: {words.format(scale)}; save it as .npz (float32 " \
        "scales) or rescale the weights"
    assert not out.exists()
    assert "n/a" in captured.out                           # the table quotes no TQ size either
    assert main(["quantize", str(src), "--method", method, "-o", str(tmp_path / "o.npz")]) == 0


def test_quantize_warns_about_all_zero_tensors(tmp_path, capsys):
    src = _scaled_npz(tmp_path, 1e-9)
    out = tmp_path / "q.json"
    capsys.readouterr()
    assert main(["quantize", str(src), "--json", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"ternhw: warning: {src}: tensor 'fc.weight': all 2,048 weights quantized to 0" in err
    doc = json.loads(out.read_text())
    assert len(doc["warnings"]) == 1 and "'fc.weight'" in doc["warnings"][0]
    assert main(["quantize", "digits", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["warnings"] == []


def test_quantize_reports_no_size_for_formats_that_cannot_hold_a_layer(tmp_path, capsys):
    out = tmp_path / "q.json"
    capsys.readouterr()
    assert main(["quantize", "digits", "--granularity", "channel", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["bytes"]["i2_s"] is None and doc["bits_per_weight"]["i2_s"] is None
    assert all(la["bytes"]["i2_s"] is None for la in doc["layers"])
    assert "I2_S holds one scale per tensor" in doc["unsupported_formats"]["i2_s"]
    assert "n/a i2_s: tensor 'fc1.weight' (and 2 more layer(s)): I2_S holds one scale" in text
    assert main(["quantize", "digits", "--method", "ttq", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert {f for f, b in doc["bytes"].items() if b is None} == {"tq1_0", "tq2_0", "i2_s"}


def test_sim_names_the_file_with_nan(tmp_path, capsys):
    w = np.ones((16, 16), np.float32)
    w[3, 4] = np.nan
    src = tmp_path / "nan.npz"
    np.savez(src, **{"fc.weight": w})
    capsys.readouterr()
    assert main(["sim", "--config", "small", "--weights", str(src)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"ternhw: error: {src}: tensor 'fc.weight': 1 non-finite weight(s), "
                   "first NaN at [3, 4]")


def test_help_texts(capsys):
    from ternhw.cli import build_parser
    from ternhw.config import shipped_config_names

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for name, p in sub.items():
        text = p.format_help()
        assert "%%" not in text and "%(" not in text, name
        if any(a.dest == "config" for a in p._actions):
            for cfg in shipped_config_names():
                assert cfg in text, (name, cfg)
    assert "within 5% of" in sub["quantize"].format_help()
    out_action = next(a for a in sub["report"]._actions if a.dest == "output")
    assert out_action.help and "directory" in out_action.help
