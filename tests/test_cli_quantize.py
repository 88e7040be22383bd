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
