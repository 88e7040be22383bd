"""End-to-end integer inference on the real weights."""

import json

import numpy as np
import pytest

from ternhw.cli import main
from ternhw.config import load_config
from ternhw.errors import TernhwError
from ternhw.infer.digits import build_integer_mlp, run_digits
from ternhw.infer.minilm import MiniLM
from ternhw.infer.tokenizer import WordPieceTokenizer
from ternhw.model import reference
from ternhw.weights import load_source, minilm_dir


def test_infer_digits_within_one_point(tmp_path):
    out = tmp_path / "d.json"
    assert main(["infer", "digits", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["accuracy"] >= 0.97
    assert abs(doc["accuracy"] - doc["float_ternary_accuracy"]) <= 0.01
    fc1 = doc["layers"]["fc1"]
    assert fc1["lane_add"] + fc1["lane_sub"] + fc1["lane_skip"] == 359 * 256 * 64


def test_digits_integer_layers_match_reference():
    """The first images through every layer: fast path == slow reference, outputs and events."""
    cfg = load_config("default")
    layers = build_integer_mlp(cfg, load_source("digits"))
    from ternhw.model import gemm
    from ternhw.weights.digits import load_digits_split
    x = np.round(load_digits_split()[2][:3] / 16 * cfg.act_max).astype(np.int64)
    for layer in layers:
        fast = gemm(cfg, x, layer.weights, layer.bias, layer.requant)
        slow = reference.gemm(cfg, x, layer.weights.w, layer.bias, layer.requant)
        np.testing.assert_array_equal(fast.out, slow.out)
        assert fast.events == slow.events
        x = fast.out


def test_digits_needs_8_bit_activations():
    with pytest.raises(TernhwError, match="needs act_bits >= 8"):
        run_digits(load_config("default").replace(act_bits=4, acc_bits=16),
                   load_source("digits"))


def test_infer_minilm_cosine(tmp_path):
    out = tmp_path / "m.json"
    assert main(["infer", "minilm-ptq", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["per_sentence"]) == doc["sentences"] == 8
    # post-training absmean ternarization keeps the embedding correlated, but far from exact
    assert 0.2 < doc["cosine_similarity"] < 0.9
    assert doc["weights"] == "absmean ternary, tensor scales (post-training)"
    assert len(doc["layers"]) == 36
    ffn = doc["layers"]["encoder.layer.0.intermediate.dense"]
    assert ffn["lane_add"] + ffn["lane_sub"] + ffn["lane_skip"] == doc["tokens"] * 1536 * 384


def test_infer_distilled_minilm(tmp_path):
    """The shipped distilled model on 40 of the held-out everyday sentences (none trained on):
    far above post-training ternarization (0.40). The issue's goal (>= 0.90 on the whole set)
    is measured by benchmarks/bench_minilm_distilled.py; this guards against a regression."""
    from ternhw.quant.methods.distill import EVAL_SENTENCES_FILE

    lines = EVAL_SENTENCES_FILE.read_text(encoding="utf-8").splitlines()[:40]
    (tmp_path / "s.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "m.json"
    assert main(["infer", "minilm", "--sentences", str(tmp_path / "s.txt"), "--json",
                 str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["weights"].startswith("distilled-absmean ternary, tensor scales")
    assert doc["sentences"] == 40
    assert doc["cosine_similarity"] >= 0.89 and doc["spearman_pairwise"] >= 0.85
    assert main(["infer", "minilm", "--granularity", "channel"]) == 2


def test_minilm_float_path_is_a_sentence_encoder():
    """Sanity of the float reference: a paraphrase is far closer than an unrelated sentence."""
    d = minilm_dir()
    net = MiniLM(load_source("minilm"), json.loads((d / "config.json").read_text()))
    tok = WordPieceTokenizer(d / "vocab.txt")

    def embed(s):
        v = net.encode(tok.encode(s), net.float_linear)
        return v / np.linalg.norm(v)

    a, b, c = (embed(s) for s in ("A man is playing a guitar.", "A man plays the guitar.",
                                  "Stock markets fell sharply."))
    assert a @ b > 0.6 and abs(a @ c) < 0.3


def test_tokenizer_known_ids():
    tok = WordPieceTokenizer(minilm_dir() / "vocab.txt")
    assert tok.encode("Hello world!") == [101, 7592, 2088, 999, 102]
    # accents stripped, word pieces, punctuation split
    assert tok.encode("Café naïvely")[1:-1] == tok.encode("cafe naively")[1:-1]
    assert len(tok.encode("word " * 500)) == 128


def test_infer_errors(capsys):
    assert main(["infer", "digits", "--config", "int8-baseline"]) == 2
    assert "int8 baseline" in capsys.readouterr().err
