"""The MiniLM distillation (issue 14, item 3): its jax encoder against the NumPy reference, the
exported student against the integer pipeline, resumable determinism on a tiny BERT, held-out
text."""

import json
from importlib import resources

import numpy as np
import pytest

from ternhw.config import load_config
from ternhw.errors import TernhwError
from ternhw.formats.model_io import LoadedModel
from ternhw.infer.minilm import SENTENCES, MiniLM, ternary_linears
from ternhw.infer.tokenizer import WordPieceTokenizer
from ternhw.weights import load_source, minilm_dir

pytest.importorskip("jax")
from ternhw.quant.methods import distill as D  # noqa: E402


def tiny_bert(seed=0, vocab=30522, hidden=32, layers=2, inter=64, positions=64):
    rng = np.random.default_rng(seed)
    t = {"embeddings.word_embeddings.weight": rng.normal(0, 0.5, (vocab, hidden)),
         "embeddings.position_embeddings.weight": rng.normal(0, 0.1, (positions, hidden)),
         "embeddings.token_type_embeddings.weight": rng.normal(0, 0.1, (2, hidden)),
         "embeddings.LayerNorm.weight": np.ones(hidden), "embeddings.LayerNorm.bias":
         np.zeros(hidden)}
    shapes = {"attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
              "attention.self.value": (hidden, hidden), "attention.output.dense":
              (hidden, hidden), "intermediate.dense": (inter, hidden), "output.dense":
              (hidden, inter)}
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for s, shape in shapes.items():
            t[p + s + ".weight"] = rng.normal(0, 1 / np.sqrt(shape[1]), shape)
            t[p + s + ".bias"] = rng.normal(0, 0.02, shape[0])
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + ln + ".weight"] = np.ones(hidden)
            t[p + ln + ".bias"] = np.zeros(hidden)
    config = {"hidden_size": hidden, "num_attention_heads": 4, "num_hidden_layers": layers,
              "layer_norm_eps": 1e-12}
    return {k: v.astype(np.float32) for k, v in t.items()}, config


@pytest.fixture(scope="module")
def tok():
    return WordPieceTokenizer(minilm_dir() / "vocab.txt")


def test_training_text_holds_out_the_evaluation_sentences():
    from ternhw.infer.minilm import read_sentences

    held_out = read_sentences(D.EVAL_SENTENCES_FILE)
    some = D.training_sentences()[:50]
    text = D.training_sentences(exclude=some + held_out)
    assert len(text) > 5000
    assert not set(text) & set(some + held_out)


def test_generated_training_text_is_seeded_and_holds_out(tok):
    gen = D.generated_sentences(500, seed=3)
    assert gen == D.generated_sentences(500, seed=3) and len(set(gen)) == 500
    assert gen != D.generated_sentences(500, seed=4)
    vocab = list(tok.vocab)
    words = D.vocabulary_sentences(vocab, 50, seed=3)
    assert all(6 <= len(w.split()) <= 16 for w in words)
    text = D.training_text(gen[:5] + words[:5], vocab, generated=500, random_words=50, seed=3)
    assert not set(text) & set(gen[:5] + words[:5])
    assert set(gen[5:]) <= set(text) and set(words[5:]) <= set(text)


def test_jax_encoder_matches_the_numpy_reference(tok):
    """The jax float encoder (padded batch, masked) equals the NumPy MiniLM sentence by
    sentence: the student trains on the network the pipeline runs."""
    d = minilm_dir()
    model = load_source("minilm-ptq")
    config = json.loads((d / "config.json").read_text())
    net = MiniLM(model, config)
    train, frozen = D.split_params(model.tensors, 6)
    ids, lengths = D.tokenize_corpus(SENTENCES[:3], tok, 32)
    b, mask = D.batch_arrays(ids, lengths, np.arange(3))
    _, pooled = D.encoder(train, frozen, b, mask, heads=12, layers=6, eps=1e-12,
                          linear=D.float_linear)
    for i, s in enumerate(SENTENCES[:3]):
        ref = net.encode(tok.encode(s), net.float_linear)
        np.testing.assert_allclose(np.asarray(pooled[i]), ref, rtol=2e-3, atol=2e-4)


def test_exported_student_is_what_the_integer_pipeline_runs(tok):
    """The fully quantized jax student (lam = 1) and the exported trits + trained floats on
    the bit-exact integer pipeline give the same sentence embeddings."""
    tensors, config = tiny_bert()
    train, frozen = D.split_params(tensors, 2)
    rng = np.random.default_rng(1)
    train = {k: v + rng.normal(0, 0.01, v.shape).astype(np.float32) for k, v in train.items()}
    ternary, floats = D.export_student(train, 2)
    assert all(set(np.unique(t.trits)) <= {-1, 0, 1} for t in ternary.values())
    assert set(floats) == {k for k in train if not k.endswith(".weight")
                           or "LayerNorm" in k}
    model = LoadedModel("tiny", tensors, ternary, floats)
    cfg = load_config("default")
    student = MiniLM(model, config, ternary=True)
    linears = ternary_linears(model, 2)
    ids, lengths = D.tokenize_corpus(SENTENCES[:2], tok, 32)
    b, mask = D.batch_arrays(ids, lengths, np.arange(2))
    _, pooled = D.encoder(train, frozen, b, mask, heads=4, layers=2, eps=1e-12,
                          linear=D.ternary_linear(cfg.act_bits, 1.0))
    for i, s in enumerate(SENTENCES[:2]):
        ref = student.encode(tok.encode(s, max_length=32), lambda n, x: linears[n](cfg, x))
        cos = float(ref @ np.asarray(pooled[i]) / np.linalg.norm(ref)
                    / np.linalg.norm(pooled[i]))
        assert cos > 0.999


def test_distillation_lowers_the_loss_and_resumes_identically(tok, tmp_path):
    tensors, config = tiny_bert()
    text = D.training_sentences()[:64]
    s = D.DistillSettings(steps=16, batch=8, max_len=32, warmup=1, ramp=0.0, lr_weights=3e-3,
                          lr_other=1e-3)
    logs = []
    whole = D.distill(tensors, config, tok, text, SENTENCES[:4], s, log=logs.append,
                      eval_every=16)
    losses = [float(line.split("loss ")[1].split()[0]) for line in logs if "loss" in line]
    assert len(losses) == 3 and losses[-1] < 0.8 * losses[0]
    assert "held-out cosine" in logs[-1]
    # interrupted after 8 steps (checkpoint), resumed: the same parameters as one run
    D.distill(tensors, config, tok, text, SENTENCES[:4], s, tmp_path, log=lambda m: None,
              checkpoint_every=8, eval_every=100, stop_after=8)
    assert D.load_checkpoint(tmp_path / "checkpoint.npz", s).step == 8
    resumed = D.distill(tensors, config, tok, text, SENTENCES[:4], s, tmp_path,
                        log=lambda m: None, eval_every=100)
    for k in whole:
        np.testing.assert_array_equal(whole[k], resumed[k])
    with pytest.raises(TernhwError, match="other settings"):
        D.load_checkpoint(tmp_path / "checkpoint.npz", D.DistillSettings(steps=9))


def test_bad_settings_checkpoints_and_shipped_file_are_clear_errors(tmp_path, monkeypatch):
    from ternhw.errors import ConfigError, FormatError, ToolMissingError
    from ternhw.formats.model_io import load_model, save_ternary_npz
    from ternhw.weights import sources

    with pytest.raises(ConfigError, match="batch must be an integer"):
        D.DistillSettings(batch=0)
    with pytest.raises(ConfigError, match="ramp is a fraction"):
        D.DistillSettings(ramp=2.0)
    not_ckpt = tmp_path / "x.npz"
    np.savez(not_ckpt, a=np.zeros(3))
    for path in (not_ckpt, tmp_path / "missing.npz"):
        with pytest.raises(FormatError, match="checkpoint"):
            D.read_checkpoint(path)
    # the shipped model file: missing, or not the distilled MiniLM
    monkeypatch.setattr(sources, "distilled_minilm_path", lambda: tmp_path / "gone.npz")
    with pytest.raises(ToolMissingError, match="minilm-ptq"):
        load_source("minilm")
    with resources.as_file(resources.files("ternhw") / "data" / sources.DISTILLED_MINILM) as p:
        student = load_model(p)
    one = dict(list(student.ternary.items())[:35])               # one matrix missing
    save_ternary_npz(tmp_path / "partial.npz", one, student.tensors)
    monkeypatch.setattr(sources, "distilled_minilm_path", lambda: tmp_path / "partial.npz")
    with pytest.raises(TernhwError, match="not the distilled all-MiniLM-L6-v2: ternary tensors"):
        load_source("minilm")
    assert len(load_source("minilm-ptq").ternary) == 0
