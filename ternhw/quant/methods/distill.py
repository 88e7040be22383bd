"""A ternary all-MiniLM-L6-v2 distilled from the float model (issue 14, item 3).

Post-training ternarization keeps a mean cosine of ~0.40 between the ternary and the float
sentence embeddings, so the model has to be trained. This module fine-tunes a ternary *student*
against the float *teacher* (knowledge distillation, as BitNet b1.58 fine-tunes and as
"An Extra RMSNorm is all you need" does for a float checkpoint), on CPU or GPU through jax:

- **Student = what the accelerator runs.** Every encoder linear layer uses BitNet b1.58 absmean
  ternary weights with one scale per tensor (:func:`ternhw.quant.ternarize.ternarize`'s
  ``absmean``/``tensor``) and its input quantized per token to ``act_bits`` by absmax
  (:func:`ternhw.quant.activations.quantize_activations`), both with straight-through
  gradients; the latent float weights, the biases and the LayerNorm gains/offsets train, the
  embeddings stay the float model's (so they need not ship). Exported, the student's trits and
  floats are what :func:`ternhw.infer.minilm.evaluate_minilm` runs on the integer pipeline
  (float64 and exact integer GEMMs where training used float32: cosine > 0.999, tested).
- **Gradual quantization** (the Extra-RMSNorm paper's schedule, simplified to one global ramp):
  for the first ``ramp`` fraction of the steps the forward pass blends ``w + lam (Q(w) - w)``
  with ``lam`` rising linearly from 0 to 1, so the network adapts while it still computes.
- **Loss** = mean over the six blocks of the hidden-state MSE (intermediate-layer
  distillation, as TinyBERT/MiniLM distil) + ``cos_weight x (1 - cos)`` of the mean-pooled
  sentence embeddings, the figure the issue's goal is stated in. Padding is masked.
- **Text** that ships with every Python: the docstrings of the standard library's own source
  (parsed with :mod:`ast`, nothing imported) and the language-reference topics of
  ``pydoc_data``, split into sentences (:func:`training_sentences`). Held-out evaluation text
  never appears in it (:func:`training_sentences` drops any evaluation sentence).

Simplifications: one global quantization ramp rather than the paper's layer-by-layer one;
no data augmentation; sequences truncated to ``max_len`` tokens.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sysconfig
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError, FormatError, TernhwError
from ...fileio import atomic_write
from ...infer.minilm import LINEAR_SUFFIXES
from ..ternarize import ABSMEAN_EPS, TernaryTensor
from .training import absmean_q, adam_update, require_jax, ste

#: Held-out evaluation sentences (general English, written for ternhw; never trained on).
EVAL_SENTENCES_FILE = Path(__file__).resolve().parents[2] / "data" / "minilm_eval_sentences.txt"
#: Parts of the standard library left out of the corpus: tests (code fragments, not prose),
#: GUI and demo packages, vendored packages.
SKIPPED_DIRS = ("test", "tests", "idlelib", "tkinter", "turtledemo", "lib2to3", "site-packages",
                "ensurepip", "__phello__", "distutils")


def prose_sentences(text: str, words: tuple[int, int] = (5, 48),
                    letters: float = 0.88) -> list[str]:
    """The sentences of ``text`` that read as English prose: ``words`` (min, max) words,
    capitalised, more than ``letters`` of their characters letters or spaces (no code, tables
    or doctest lines)."""
    text = re.sub(r"\s+", " ", text)
    out = []
    for s in re.split(r"(?<=[.!?])\s+", text):
        share = sum(c.isalpha() or c == " " for c in s) / max(len(s), 1)
        if words[0] <= len(s.split()) <= words[1] and share > letters and s[:1].isupper():
            out.append(s)
    return out


def docstrings(paths) -> list[str]:
    """The docstrings of every module, class and function in the Python files ``paths``, in
    order (parsed with :mod:`ast`: nothing is imported; unreadable files are skipped)."""
    texts: list[str] = []
    for path in paths:
        try:
            tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, OSError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    texts.append(doc)
    return texts


def training_sentences(exclude: Sequence[str] = ()) -> list[str]:
    """English sentences from the standard library's docstrings and ``pydoc_data`` topics.

    Deterministic for a Python version (sorted files, first occurrence kept); every sentence of
    ``exclude`` (the evaluation text) is removed, so evaluation is held out.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    texts = docstrings(p for p in sorted(root.rglob("*.py"))
                       if not any(part in SKIPPED_DIRS for part in p.relative_to(root).parts[:-1]))
    from pydoc_data.topics import topics  # the language reference's prose (stdlib)

    texts += [topics[k] for k in sorted(topics)]
    skip = set(exclude)
    seen: set[str] = set()
    out = []
    for t in texts:
        for s in prose_sentences(t):
            if s not in seen and s not in skip:
                seen.add(s)
                out.append(s)
    return out


@dataclass(frozen=True)
class DistillSettings:
    """Hyper-parameters of a distillation run (all of them; saved with the result)."""

    steps: int = 3000
    batch: int = 32
    max_len: int = 64
    lr_weights: float = 3e-4
    lr_other: float = 1e-4
    warmup: int = 100
    ramp: float = 0.3
    cos_weight: float = 1.0
    act_bits: int = 8
    seed: int = 0
    #: template-generated everyday sentences and random-vocabulary sequences added to the
    #: standard-library prose (:func:`training_text`)
    generated: int = 20000
    random_words: int = 8000

    def __post_init__(self):
        ints = {"steps": (1, None), "batch": (1, None), "max_len": (8, 512), "warmup": (0, None),
                "act_bits": (2, 16), "seed": (0, None), "generated": (0, None),
                "random_words": (0, None)}
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi and v > hi):
                raise ConfigError(f"distillation setting {name} must be an integer in "
                                  f"[{lo}, {hi or 'inf'}], not {v!r}")
        for name in ("lr_weights", "lr_other", "cos_weight", "ramp"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise ConfigError(f"distillation setting {name} must be a finite number >= 0, "
                                  f"not {v!r}")
        if self.ramp > 1:
            raise ConfigError(f"distillation setting ramp is a fraction of the steps, in "
                              f"[0, 1], not {self.ramp}")


# --- the encoder in jax ------------------------------------------------------------------------

def linear_names(layers: int = 6) -> list[str]:
    return [f"encoder.layer.{i}.{s}" for i in range(layers) for s in LINEAR_SUFFIXES]


def split_params(tensors: dict[str, np.ndarray], layers: int = 6):
    """``(trainable, frozen)``: encoder weights, biases and LayerNorms train; embeddings (and
    the embedding LayerNorm, which sees no quantized layer before it) stay frozen."""
    train, frozen = {}, {}
    for k, v in tensors.items():
        (train if k.startswith("encoder.layer.") and int(k.split(".")[2]) < layers
         else frozen)[k] = np.asarray(v, dtype=np.float32)
    return train, frozen


def act_dequant(x, bits: int):
    """Per-token absmax quantization to ``bits`` bits, dequantized (the pipeline's
    :func:`quantize_activations`; an all-zero token stays zero)."""
    _, jnp = require_jax()
    qb = (1 << (bits - 1)) - 1
    amax = jnp.max(jnp.abs(x), axis=-1, keepdims=True)
    scale = jnp.where(amax > 0, amax / qb, 1.0)
    return jnp.clip(jnp.round(x / scale), -qb - 1, qb) * scale


def encoder(params, frozen, ids, mask, *, heads: int, layers: int, eps: float,
            linear: Callable):
    """Hidden states after each block (list) and the mean-pooled sentence embeddings.

    ``ids``/``mask``: (batch, length) int32 / float32; ``linear(name, x, w, b)``.
    """
    jax, jnp = require_jax()

    def ln(x, prefix):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        g = params.get(prefix + ".weight", frozen.get(prefix + ".weight"))
        b = params.get(prefix + ".bias", frozen.get(prefix + ".bias"))
        return (x - mu) / jnp.sqrt(var + eps) * g + b

    n = ids.shape[1]
    h = (frozen["embeddings.word_embeddings.weight"][ids]
         + frozen["embeddings.position_embeddings.weight"][:n]
         + frozen["embeddings.token_type_embeddings.weight"][0])
    h = ln(h, "embeddings.LayerNorm")
    bsz, hidden = h.shape[0], h.shape[2]
    d = hidden // heads
    key_bias = (1.0 - mask)[:, None, None, :] * -1e9
    hiddens = []

    def lin(name, x):
        return linear(name, x, params[name + ".weight"], params[name + ".bias"])

    for i in range(layers):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(p + f"attention.self.{w}", h).reshape(bsz, n, heads, d)
                   .transpose(0, 2, 1, 3) for w in ("query", "key", "value"))
        scores = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + key_bias, axis=-1)
        ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(bsz, n, hidden)
        h = ln(lin(p + "attention.output.dense", ctx) + h, p + "attention.output.LayerNorm")
        inter = jax.nn.gelu(lin(p + "intermediate.dense", h), approximate=False)
        h = ln(lin(p + "output.dense", inter) + h, p + "output.LayerNorm")
        hiddens.append(h)
    m = mask[:, :, None]
    pooled = (h * m).sum(1) / m.sum(1)
    return hiddens, pooled


def float_linear(name, x, w, b):
    return x @ w.T + b


def ternary_linear(act_bits: int, lam):
    """The student's linear layer: ternary weights blended in by ``lam``, quantized inputs."""
    def lin(name, x, w, b):
        wq = w + lam * (ste(w, absmean_q(w)) - w)
        xq = x + lam * (ste(x, act_dequant(x, act_bits)) - x)
        return xq @ wq.T + b
    return lin


def distill_loss(student_hiddens, student_pooled, teacher_hiddens, teacher_pooled, mask,
                 cos_weight: float):
    """Mean hidden-state MSE over blocks (valid tokens) + ``cos_weight (1 - cos)``."""
    _, jnp = require_jax()
    m = mask[:, :, None]
    tokens = m.sum()
    mse = sum(((s - t) ** 2 * m).sum() / (tokens * s.shape[-1])
              for s, t in zip(student_hiddens, teacher_hiddens, strict=True))
    mse = mse / len(student_hiddens)
    cos = (student_pooled * teacher_pooled).sum(-1) / (
        jnp.linalg.norm(student_pooled, axis=-1) * jnp.linalg.norm(teacher_pooled, axis=-1))
    return mse + cos_weight * (1.0 - cos.mean()), (mse, cos.mean())


# --- data ---------------------------------------------------------------------------------------

def tokenize_corpus(sentences: Sequence[str], tokenizer, max_len: int):
    """``(ids, lengths)``: int32 ``(n, max_len)`` zero-padded ids and the true lengths."""
    ids = np.zeros((len(sentences), max_len), dtype=np.int32)
    lengths = np.zeros(len(sentences), dtype=np.int32)
    for i, s in enumerate(sentences):
        t = tokenizer.encode(s, max_length=max_len)
        ids[i, :len(t)] = t
        lengths[i] = len(t)
    return ids, lengths


def batch_arrays(ids, lengths, idx):
    """One batch, trimmed to a bucket length (a multiple of 16) so short batches run fast
    with few compiled shapes."""
    n = int(lengths[idx].max())
    n = min(ids.shape[1], -(-n // 16) * 16)
    b = ids[idx, :n]
    mask = (np.arange(n)[None, :] < lengths[idx][:, None]).astype(np.float32)
    return b, mask


# --- training -----------------------------------------------------------------------------------

@dataclass
class DistillState:
    """What a checkpoint holds: step, parameters, Adam moments (NumPy) and the SHA-256 of the
    training text (a resume on other text would replay other batches)."""

    step: int
    params: dict[str, np.ndarray]
    m: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    text_sha: str = ""


def text_digest(text: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(text).encode("utf-8")).hexdigest()


def save_checkpoint(path: Path, state: DistillState, settings: DistillSettings) -> None:
    arrays = {f"p/{k}": v for k, v in state.params.items()}
    arrays.update({f"m/{k}": v for k, v in state.m.items()})
    arrays.update({f"v/{k}": v for k, v in state.v.items()})
    arrays["step"] = np.asarray(state.step)
    arrays["settings"] = np.frombuffer(json.dumps(asdict(settings)).encode(), dtype=np.uint8)
    arrays["text_sha256"] = np.frombuffer(state.text_sha.encode(), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_checkpoint(path: Path) -> tuple[DistillState, dict]:
    """``(state, settings as saved)`` of a checkpoint written by :func:`save_checkpoint`; any
    other file is a :class:`FormatError` naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            saved = json.loads(z["settings"].tobytes().decode())
            sha = z["text_sha256"].tobytes().decode() if "text_sha256" in z.files else ""
            groups: dict[str, dict[str, np.ndarray]] = {"p": {}, "m": {}, "v": {}}
            for k in z.files:
                if "/" in k:
                    g, name = k.split("/", 1)
                    groups[g][name] = z[k]
            step = int(z["step"])
    except FileNotFoundError:
        raise FormatError(f"{path}: no such checkpoint") from None
    except ValueError:      # numpy's word for a file that is no .npz (it suggests pickle)
        raise FormatError(f"{path}: not a distillation checkpoint (not an .npz archive)"
                          ) from None
    except (OSError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise FormatError(f"{path}: not a distillation checkpoint (scripts/distill_minilm.py "
                          f"writes checkpoint.npz in its --out-dir): {e}") from None
    if not groups["p"] or set(groups["p"]) != set(groups["m"]) or \
            set(groups["p"]) != set(groups["v"]):
        raise FormatError(f"{path}: not a distillation checkpoint (parameters or Adam moments "
                          "missing)")
    return DistillState(step, groups["p"], groups["m"], groups["v"], sha), saved


def load_checkpoint(path: Path, settings: DistillSettings) -> DistillState:
    """A checkpoint to resume with ``settings`` (an error if it was made with others)."""
    state, saved = read_checkpoint(path)
    if saved != asdict(settings):
        raise TernhwError(f"{path}: checkpoint was made with other settings ({saved}); "
                          "use the same settings or another output directory")
    return state


def distill(tensors: dict[str, np.ndarray], config: dict, tokenizer,
            train_text: Sequence[str], eval_text: Sequence[str], settings: DistillSettings,
            out_dir: Path | None = None, *, log: Callable[[str], None] = print,
            eval_every: int = 250, checkpoint_every: int = 100,
            stop_after: int | None = None,
            init: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Train the ternary student; returns its trained (latent float) parameters.

    With ``out_dir`` the run checkpoints there every ``checkpoint_every`` steps and resumes
    from the checkpoint it finds (same settings required). ``eval_text`` is scored (mean
    cosine of the fully quantized student vs the teacher) every ``eval_every`` steps.
    ``stop_after`` ends the run early at that step (a time-boxed slice of a long run; the
    schedule stays the one of ``settings.steps``). ``init`` starts the student from trained
    parameters (a previous run's; a second stage) instead of the float model's.
    """
    jax, jnp = require_jax()
    s = settings
    if stop_after is not None and (not isinstance(stop_after, int) or stop_after < 1):
        raise ConfigError(f"stop_after must be a positive step number, not {stop_after!r}")
    layers, heads = config["num_hidden_layers"], config["num_attention_heads"]
    eps = config["layer_norm_eps"]
    train0, frozen_np = split_params(tensors, layers)
    frozen = {k: jnp.asarray(v) for k, v in frozen_np.items()}
    teacher = {k: jnp.asarray(v) for k, v in train0.items()}
    weight_names = {n + ".weight" for n in linear_names(layers)}
    if len(train_text) < s.batch:
        raise ConfigError(f"{len(train_text)} training sentences are fewer than one batch "
                          f"({s.batch})")
    text_sha = text_digest(train_text)
    ids, lengths = tokenize_corpus(train_text, tokenizer, s.max_len)
    eval_ids, eval_len = tokenize_corpus(eval_text, tokenizer, s.max_len)
    kw = dict(heads=heads, layers=layers, eps=eps)

    def loss_fn(p, b, mask, lam):
        th, tp = encoder(teacher, frozen, b, mask, linear=float_linear, **kw)
        th = [jax.lax.stop_gradient(x) for x in th]
        sh, sp = encoder(p, frozen, b, mask, linear=ternary_linear(s.act_bits, lam), **kw)
        return distill_loss(sh, sp, th, jax.lax.stop_gradient(tp), mask, s.cos_weight)

    grad = jax.value_and_grad(loss_fn, has_aux=True)
    rates = {k: (s.lr_weights if k in weight_names else s.lr_other) for k in train0}

    @jax.jit
    def step(p, m, v, t, b, mask, lam, scale):
        (loss, aux), g = grad(p, b, mask, lam)
        p, m, v = adam_update(p, g, m, v, t, {k: r * scale for k, r in rates.items()})
        return p, m, v, loss, aux

    @jax.jit
    def eval_cos(p, b, mask):
        _, tp = encoder(teacher, frozen, b, mask, linear=float_linear, **kw)
        _, sp = encoder(p, frozen, b, mask, linear=ternary_linear(s.act_bits, 1.0), **kw)
        return (sp * tp).sum(-1) / (jnp.linalg.norm(sp, axis=-1) * jnp.linalg.norm(tp, axis=-1))

    def evaluate(p) -> float:
        cos = []
        for i in range(0, len(eval_ids), 64):
            idx = np.arange(i, min(i + 64, len(eval_ids)))
            b, mask = batch_arrays(eval_ids, eval_len, idx)
            cos.append(np.asarray(eval_cos(p, b, mask)))
        return float(np.concatenate(cos).mean())

    ckpt = None if out_dir is None else Path(out_dir) / "checkpoint.npz"
    if ckpt is not None and ckpt.exists():
        st = load_checkpoint(ckpt, s)
        if st.text_sha != text_sha:
            raise TernhwError(f"{ckpt}: checkpoint was trained on other text (another Python's "
                              "standard library or other settings); use another output "
                              "directory")
        log(f"resuming from {ckpt} at step {st.step}"
            + (" (the run's own checkpoint: the initial parameters given are not used)"
               if init is not None else ""))
    else:
        if init is not None:
            bad = sorted(k for k in train0 if k not in init or
                         np.shape(init[k]) != train0[k].shape)
            if bad:
                raise FormatError(f"initial parameters do not fit the model: {bad[:3]} "
                                  "missing or of another shape")
        start = train0 if init is None else {k: np.asarray(init[k], dtype=np.float32)
                                              for k in train0}
        st = DistillState(0, start, {k: np.zeros_like(v) for k, v in train0.items()},
                          {k: np.zeros_like(v) for k, v in train0.items()}, text_sha)
    p = {k: jnp.asarray(v) for k, v in st.params.items()}
    m = {k: jnp.asarray(v) for k, v in st.m.items()}
    v = {k: jnp.asarray(x) for k, x in st.v.items()}
    rng = np.random.default_rng(s.seed)
    per_epoch = len(ids) // s.batch
    # The same permutation stream on resume: replay the draws of the steps already done.
    orders = [rng.permutation(len(ids)) for _ in range(st.step // per_epoch + 1)]
    t0 = time.monotonic()
    end = min(s.steps, stop_after or s.steps)
    done = st.step

    def checkpoint():
        if ckpt is not None:
            save_checkpoint(ckpt, DistillState(done, {k: np.asarray(x) for k, x in p.items()},
                                               {k: np.asarray(x) for k, x in m.items()},
                                               {k: np.asarray(x) for k, x in v.items()},
                                               text_sha), s)

    for t in range(st.step, end):
        epoch, k = divmod(t, per_epoch)
        while len(orders) <= epoch:
            orders.append(rng.permutation(len(ids)))
        idx = orders[epoch][k * s.batch:(k + 1) * s.batch]
        b, mask = batch_arrays(ids, lengths, idx)
        lam = min(1.0, (t + 1) / max(1.0, s.ramp * s.steps))
        warm = min(1.0, (t + 1) / max(1, s.warmup))
        scale = warm * 0.5 * (1 + np.cos(np.pi * t / s.steps))
        p, m, v, loss, (mse, cos) = step(p, m, v, float(t + 1), b, mask, lam, scale)
        done = t + 1
        if not np.isfinite(float(loss)):
            raise TernhwError(f"distillation diverged at step {done} (loss {float(loss)}); "
                              "lower the learning rates")
        if done % 10 == 0 or done == s.steps or t == st.step:
            rate = (done - st.step) / (time.monotonic() - t0)
            log(f"step {done}/{s.steps} loss {float(loss):.4f} mse {float(mse):.4f} "
                f"cos {float(cos):.4f} lam {lam:.2f} ({rate:.2f} steps/s, "
                f"ETA {(end - done) / rate / 60:.1f} min)")
        if done % eval_every == 0 or done == s.steps:
            log(f"step {done}: held-out cosine (ternary, fake-quantized) {evaluate(p):.4f}")
        if done % checkpoint_every == 0 and done != end:
            checkpoint()
    checkpoint()
    return {k: np.asarray(x, dtype=np.float32) for k, x in p.items()}


def export_student(params: dict[str, np.ndarray], layers: int = 6,
                   ) -> tuple[dict[str, TernaryTensor], dict[str, np.ndarray]]:
    """``(ternary, floats)``: the 36 absmean per-tensor ternary weights (what the student's
    forward pass used) and the trained biases and LayerNorm parameters. Computed in float32,
    as the student was, rather than by :func:`ternhw.quant.ternarize.ternarize` (float64): a
    weight on a rounding edge must land on the trit the student trained with."""
    ternary = {}
    for name in linear_names(layers):
        w = np.asarray(params[name + ".weight"], dtype=np.float32)
        scale = np.float32(np.mean(np.abs(w)))
        trits = np.clip(np.round(w / (scale + np.float32(ABSMEAN_EPS))), -1, 1).astype(np.int8)
        sc = np.full((1, 1), scale, dtype=np.float32)
        # the dead zone's edge, as ternarize states it for absmean: 0.5 (s + eps)
        threshold = np.full((1, 1), 0.5 * (float(scale) + ABSMEAN_EPS))
        ternary[name + ".weight"] = TernaryTensor(trits, sc, sc.copy(), threshold, w.shape[1],
                                                  "distilled-absmean", "tensor")
    floats = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()
              if k not in ternary}
    return ternary, floats


# --- generated everyday English ------------------------------------------------------------------
# Docstrings are technical prose: a student distilled on them alone matches the teacher on held-out
# technical text (0.86 mean cosine at 1,000 steps) but not on everyday sentences (0.68). These
# lists (written for ternhw, spanning people, animals, food, places, weather, sport, work, travel,
# health, money, nature, home, media) generate grammatical everyday sentences from templates.
PEOPLE = ("a man", "a woman", "a boy", "a girl", "the teacher", "my neighbour", "the doctor",
          "a farmer", "the driver", "an old man", "a young woman", "the children", "two friends",
          "the students", "my brother", "her sister", "the president", "a nurse", "the police",
          "the workers", "a tourist", "the chef", "our team", "the players", "a scientist",
          "the manager", "his parents", "a musician", "the pilot", "the baby", "a journalist",
          "the engineers", "a small group of people", "the mayor", "a soldier", "the waiter",
          "my grandmother", "the customers", "a painter", "the audience")
ANIMALS = ("a dog", "a cat", "the horse", "a bird", "two ducks", "the cows", "a small puppy",
           "the lion", "a monkey", "the sheep", "a fish", "the kitten", "an elephant", "a rabbit")
THINGS = ("the car", "a letter", "the window", "a cup of coffee", "the bread", "an apple",
          "the newspaper", "a book", "the phone", "the door", "a bicycle", "the guitar",
          "a piano", "the ball", "a cake", "the soup", "the computer", "a photo", "the keys",
          "the bill", "a ticket", "the map", "a song", "the garden", "the house", "a bag of rice",
          "the television", "a pair of shoes", "the tomatoes", "an umbrella", "the camera",
          "the medicine", "a bottle of water", "the report", "the painting", "the train ticket",
          "a birthday present", "the laundry", "the dishes", "a new jacket", "the onions")
PLACES = ("in the park", "at the station", "in the kitchen", "on the beach", "at the market",
          "in the office", "at school", "in the hospital", "on the stage", "in the garden",
          "at the airport", "in the city centre", "by the river", "in the mountains",
          "at the restaurant", "in the library", "on the street", "in a small village",
          "at the stadium", "in the forest", "at home", "in the museum", "on the bus",
          "near the lake", "at the bank", "in the shop", "on the farm", "at the hotel")
TIMES = ("this morning", "yesterday", "last week", "every Sunday", "in the evening",
         "after lunch", "on Monday", "at night", "during the summer", "in winter",
         "two days ago", "next year", "every day", "before dinner", "last night", "today")
VERBS = (("eats", "ate", "eating"), ("reads", "read", "reading"), ("buys", "bought", "buying"),
         ("cleans", "cleaned", "cleaning"), ("paints", "painted", "painting"),
         ("finds", "found", "finding"), ("carries", "carried", "carrying"),
         ("sells", "sold", "selling"), ("watches", "watched", "watching"),
         ("fixes", "fixed", "fixing"), ("opens", "opened", "opening"),
         ("cooks", "cooked", "cooking"), ("plays", "played", "playing"),
         ("loses", "lost", "losing"), ("brings", "brought", "bringing"),
         ("washes", "washed", "washing"), ("drops", "dropped", "dropping"),
         ("orders", "ordered", "ordering"), ("sends", "sent", "sending"),
         ("cuts", "cut", "cutting"), ("holds", "held", "holding"),
         ("checks", "checked", "checking"), ("forgets", "forgot", "forgetting"))
ACTIONS = (("walks", "walked", "walking"), ("runs", "ran", "running"),
           ("sleeps", "slept", "sleeping"), ("sings", "sang", "singing"),
           ("dances", "danced", "dancing"), ("waits", "waited", "waiting"),
           ("works", "worked", "working"), ("laughs", "laughed", "laughing"),
           ("swims", "swam", "swimming"), ("cries", "cried", "crying"),
           ("arrives", "arrived", "arriving"), ("studies", "studied", "studying"),
           ("travels", "travelled", "travelling"), ("rests", "rested", "resting"))
ADJECTIVES = ("beautiful", "old", "new", "small", "large", "expensive", "cheap", "quiet",
              "busy", "crowded", "empty", "warm", "cold", "dirty", "clean", "famous", "strange",
              "delicious", "boring", "exciting", "dangerous", "safe", "modern", "ancient",
              "bright", "dark", "wet", "dry", "heavy", "friendly", "angry", "tired", "happy")
NEWS = ("the government announced new taxes", "prices rose again", "the storm closed the roads",
        "the team won the final", "the factory closed", "the company hired more staff",
        "the river flooded the town", "the election was postponed", "the bridge was repaired",
        "the hospital opened a new ward", "the school changed its timetable",
        "the film broke box-office records", "the festival was cancelled",
        "scientists found a new planet", "the train drivers went on strike",
        "the bank cut interest rates", "the museum reopened after two years",
        "the airline added more flights", "a fire destroyed the old barn",
        "the price of bread doubled", "the city planted a thousand trees")
FEELINGS = ("was happy", "felt tired", "was surprised", "got angry", "was worried",
            "felt much better", "was disappointed", "was very excited", "felt nervous")
QUESTIONS = ("How do I", "Where can I", "Why do people", "When should we", "Is it safe to",
             "What is the best way to", "Can you help me")
Q_ACTS = ("cook rice", "learn French", "fix a flat tyre", "grow tomatoes", "save money",
          "find a cheap hotel", "clean a carpet", "train a puppy", "book a flight",
          "lose weight", "write a cover letter", "paint a room", "bake bread at home",
          "get to the airport", "start a small business", "stay warm in winter")


def generated_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct everyday English sentences from templates over the word lists above
    (seeded). They may coincide with evaluation text only by chance; :func:`training_text`
    removes any that do."""
    rng = np.random.default_rng(seed)

    def pick(xs):
        return xs[int(rng.integers(len(xs)))]

    def cap(s):
        return s[0].upper() + s[1:]

    subjects = PEOPLE + ANIMALS
    templates = (
        lambda: f"{cap(pick(PEOPLE))} {pick(VERBS)[1]} {pick(THINGS)} {pick(PLACES)} "
                f"{pick(TIMES)}.",
        lambda: f"{cap(pick(subjects))} is {pick(ACTIONS)[2]} {pick(PLACES)}.",
        lambda: f"{cap(pick(PEOPLE))} is {pick(VERBS)[2]} {pick(THINGS)}.",
        lambda: f"{cap(pick(subjects))} {pick(ACTIONS)[0]} {pick(PLACES)} {pick(TIMES)}.",
        lambda: f"{cap(pick(TIMES))}, {pick(NEWS)}.",
        lambda: f"{cap(pick(PEOPLE))} {pick(FEELINGS)} because {pick(NEWS)}.",
        lambda: f"The {pick(ADJECTIVES)} {pick(THINGS).split()[-1]} {pick(PLACES)} was "
                f"{pick(ADJECTIVES)}.",
        lambda: f"{pick(QUESTIONS)} {pick(Q_ACTS)}?",
        lambda: f"{cap(pick(PEOPLE))} {pick(ACTIONS)[1]} {pick(PLACES)}, and then "
                f"{pick(PEOPLE)} {pick(VERBS)[1]} {pick(THINGS)}.",
        lambda: f"{cap(pick(PEOPLE))} said that {pick(NEWS)} {pick(TIMES)}.",
    )
    out: dict[str, None] = {}
    while len(out) < n:
        out[pick(templates)()] = None
    return list(out)


def vocabulary_sentences(tokenizer_vocab: Sequence[str], n: int, seed: int = 0) -> list[str]:
    """``n`` sequences of 6-16 random whole words of the model's vocabulary (seeded): they cover
    the tokens the prose never uses, so the student matches the teacher on every embedding."""
    words = [w for w in tokenizer_vocab if w.isalpha() and w.isascii() and len(w) > 2]
    rng = np.random.default_rng(seed)
    return [" ".join(words[int(i)] for i in rng.integers(len(words), size=int(k))) + "."
            for k in rng.integers(6, 17, size=n)]


def training_text(exclude: Sequence[str], vocab: Sequence[str], generated: int = 20000,
                  random_words: int = 8000, seed: int = 0) -> list[str]:
    """The distillation text: :func:`training_sentences` (standard-library prose), then
    ``generated`` template sentences and ``random_words`` vocabulary sequences, with every
    ``exclude`` sentence removed."""
    skip = set(exclude)
    text = training_sentences(exclude)
    text += [s for s in generated_sentences(generated, seed) if s not in skip]
    text += [s for s in vocabulary_sentences(vocab, random_words, seed) if s not in skip]
    return text
