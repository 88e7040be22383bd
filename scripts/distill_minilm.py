"""Distil the shipped ternary all-MiniLM-L6-v2 (issue 14, item 3) from the float model.

The shipped ``ternhw/data/minilm_ternary.npz`` is three stages (seed 0; about 25 + 40 + 30
minutes on 2 CPU cores; each resumes from its checkpoint if interrupted)::

    # 1: standard-library prose only, quantization ramped in; stopped at step 1000 of 3000
    python scripts/distill_minilm.py --out-dir runs/stage1 --generated 0 --random-words 0 \
        --stop-after 1000
    # 2: + generated everyday sentences and vocabulary sequences, fully ternary from the start
    python scripts/distill_minilm.py --out-dir runs/stage2 \
        --init-from runs/stage1/checkpoint.npz --ramp 0 --steps 2000 --warmup 50
    # 3: the same text, half the learning rates, the embedding cosine weighted 3x
    python scripts/distill_minilm.py --out-dir runs/stage3 \
        --init-from runs/stage2/checkpoint.npz --ramp 0 --steps 1500 --warmup 50 \
        --lr-weights 1.5e-4 --lr-other 5e-5 --cos-weight 3 \
        --export ternhw/data/minilm_ternary.npz

Stage 1 alone reached 0.86 mean cosine on held-out technical prose but 0.68 on everyday
sentences: the text, not the method, was the limit, so stage 2 adds everyday English
(:func:`ternhw.quant.methods.distill.training_text`) and reaches 0.912; stage 3 0.915, with the
Spearman correlation of pairwise similarities from 0.898 to 0.902 (held-out everyday set,
integer pipeline).

Trains with :func:`ternhw.quant.methods.distill.distill` (jax; CPU works, a GPU is faster);
every setting is on the command line and recorded in ``log.txt`` and ``export.json``.
``--export`` writes the ternary weights and the trained biases and LayerNorms as a ternhw
ternary ``.npz``, which ``ternhw`` loads as the ``minilm`` model. Needs the ``train`` extra
(``pip install -e '.[train]'``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

from ternhw.errors import TernhwError
from ternhw.fileio import atomic_write_json
from ternhw.formats.model_io import load_model, save_ternary_npz
from ternhw.infer.minilm import SENTENCES, read_sentences
from ternhw.infer.tokenizer import WordPieceTokenizer
from ternhw.quant.methods import distill as D
from ternhw.weights.sources import minilm_dir


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, required=True,
                    help="checkpoint and log directory (a run resumes from its checkpoint)")
    ap.add_argument("--export", type=Path, help="write the distilled model .npz here at the end")
    ap.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                    help="start from another run's checkpoint.npz (a second stage) instead of "
                         "the float model")
    ap.add_argument("--stop-after", type=int, metavar="STEP",
                    help="stop at this step (the schedule stays the one of --steps)")
    ap.add_argument("--export-only", action="store_true",
                    help="export the checkpoint in --out-dir as it stands, without training")
    ap.add_argument("--eval-sentences", type=Path, default=D.EVAL_SENTENCES_FILE,
                    help="held-out sentences (one a line), removed from the training text")
    for f in dataclasses.fields(D.DistillSettings):
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                        help=f"(default {f.default})")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except TernhwError as e:
        print(f"distill_minilm: error: {e}", file=sys.stderr)
        return 2


def run(args) -> int:
    settings = D.DistillSettings(**{f.name: getattr(args, f.name)
                                    for f in dataclasses.fields(D.DistillSettings)})
    if args.export_only and not args.export:
        raise TernhwError("--export-only needs --export PATH")
    if args.export and not os.access(args.export.resolve().parent, os.W_OK):
        # checked now, not after an hour of training
        raise TernhwError(f"--export {args.export}: its folder does not exist or is not "
                          "writable")
    eval_text = read_sentences(args.eval_sentences)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(args.out_dir / "log.txt", "a", encoding="utf-8")

    def log(msg: str) -> None:
        print(msg, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    d = minilm_dir()
    model = load_model(d / "model.safetensors")
    config = json.loads((d / "config.json").read_text())
    tok = WordPieceTokenizer(d / "vocab.txt")
    train_text = D.training_text(list(eval_text) + list(SENTENCES), list(tok.vocab),
                                 settings.generated, settings.random_words, settings.seed)
    log(f"{len(train_text)} training sentences, {len(eval_text)} held-out; {settings}")
    ckpt = args.out_dir / "checkpoint.npz"
    if args.export_only:
        params = D.load_checkpoint(ckpt, settings).params
    else:
        init = None
        if args.init_from:
            init = D.read_checkpoint(args.init_from)[0].params
            log(f"initial parameters: {args.init_from}")
        params = D.distill(model.tensors, config, tok, train_text, eval_text, settings,
                           args.out_dir, log=log, init=init, stop_after=args.stop_after)
    step = D.read_checkpoint(ckpt)[0].step
    if args.export:
        ternary, floats = D.export_student(params, config["num_hidden_layers"])
        save_ternary_npz(args.export, ternary, floats)
        atomic_write_json(args.out_dir / "export.json", {
            "export": str(args.export), "settings": dataclasses.asdict(settings),
            "step": step, "init_from": str(args.init_from) if args.init_from else None,
            "training_sentences": len(train_text),
            "training_text_sha256": D.text_digest(train_text),
            "python": sys.version.split()[0], "eval_sentences": len(eval_text),
            "zero_fraction": float(np.mean([np.mean(t.trits == 0) for t in ternary.values()])),
        })
        log(f"wrote {args.export} (step {step})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
