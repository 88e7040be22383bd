"""The bulk co-simulation path: the whole job in a C++ loop, every word checked in Python after.

The cocotb testbench (:mod:`ternhw.cosim.tb_gemm`) wakes Python on every handshake, which caps
it at a tenth of what the compiled model can do. Here Verilator compiles the design together
with a small C++ harness (``harness.cpp``) that reads the whole job (command fields, stream
words, handshake options) from a binary file, drives the streams with the cocotb testbench's
cycle discipline, and writes back every accepted result word with its cycle, each command's
measured cycle count, ``status.error`` and the status counters. Python then holds all of it to
``ternhw.model`` with the same checks as the cocotb path (:mod:`ternhw.cosim.check`): every
output word (value, overflow and saturation flags), cycles == model, counters == events.

Job file (little-endian uint32): magic ``TRNB``, version, the chunk counts of the act/weight/
bias/result words and the number of command fields (a harness built for another layout refuses
the job), the number of commands; per command the field values, ``p_valid`` and ``p_ready`` in
units of 2^-16, a seed, the timeout in cycles, the act/weight/bias word counts, the number of
weight arrival times, the arrival times, then the words. Result file: magic, commands; per
command the header described in ``harness.cpp`` then ``(cycle, chunks...)`` per result word.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..hdl.generate import ports_of, to_verilog, top_name
from ..hdl.transactions import result_word_count
from ..toolchain import verilator_env
from .bfm import GemmModel, Scoreboard
from .check import COUNTERS, PROTOCOL_CHECKS, CommandTiming, case_result, failed_cases
from .runner import (
    VERILATOR_BUILD_ARGS,
    VERILATOR_MAKEFLAGS,
    CosimCase,
    CosimReport,
    cache_dir,
    check_cases_fit,
    deliver_waves,
)

MAGIC = 0x424E5254
VERSION = 1
STREAM_NAMES = ("act", "weight", "bias", "result")
HEADER_WORDS = 6 + 2 * len(COUNTERS) + 3 + 4 * len(STREAM_NAMES) + 1
STREAMS = (("act", "i_act"), ("weight", "i_wgt"), ("bias", "i_bias"))
#: Verilator options of the toggle-counting harness: a counter on every bit of every signal,
#: the ``_NNN_`` nets Yosys names included, however wide (the default stops at 256 bits).
TOGGLE_ARGS = ["--coverage-toggle", "--coverage-underscore", "--coverage-max-width", "1048576"]


def _chunks(width: int) -> int:
    """uint32 words Verilator uses for a port of ``width`` bits (CData..QData, VlWide)."""
    return max(1, -(-width // 32))


@dataclass(frozen=True)
class PortLayout:
    """The top's port widths in uint32 chunks, and its command fields in harness order."""

    act: int
    weight: int
    bias: int
    result: int
    cmd_fields: tuple[str, ...]

    @classmethod
    def of(cls, verilog: str, top: str) -> PortLayout:
        ports = {p["name"]: p for p in ports_of(verilog, top)}
        fields = tuple(sorted(n.removeprefix("cmd__") for n in ports
                              if n.startswith("cmd__") and n != "cmd__start"))
        wide = [f for f in fields if ports[f"cmd__{f}"]["width"] > 32]
        if wide:
            raise TernhwError(f"command fields wider than 32 bits are not supported: {wide}")
        return cls(*(_chunks(ports[f"{p}__payload"]["width"])
                     for p in ("i_act", "i_wgt", "i_bias", "o_res")), fields)

    def header(self) -> str:
        """``harness_ports.h``: the chunk counts and the function that sets the command."""
        lines = [f"#define ACT_CHUNKS {self.act}u", f"#define WGT_CHUNKS {self.weight}u",
                 f"#define BIAS_CHUNKS {self.bias}u", f"#define RES_CHUNKS {self.result}u",
                 f"#define N_CMD_FIELDS {len(self.cmd_fields)}u",
                 "static void set_command(Vtop* t, const uint32_t* f) {"]
        lines += [f"    t->cmd___05F{name} = f[{i}];" for i, name in enumerate(self.cmd_fields)]
        return "\n".join(lines + ["}", ""])


def _harness_source() -> str:
    return resources.files("ternhw.cosim").joinpath("harness.cpp").read_text()


def _toggle_fix_source() -> str:
    return resources.files("ternhw.cosim").joinpath("toggle_fix.h").read_text()


def build_bulk(cfg: AcceleratorConfig, fault: str | None = None, *,
               verilog: tuple[str, str] | None = None,
               trace: bool = False, toggles: bool = False) -> tuple[Path, PortLayout, float]:
    """Compile the design (``cfg``'s, or ``verilog = (top, text)``, e.g. a mutant) and the
    harness into one executable, cached by the SHA-256 of the Verilog and the harness; returns
    ``(executable, layout, seconds spent building)``. ``trace`` builds the variant that can
    dump a VCD window (Verilator ``--trace``), ``toggles`` the one that counts every signal
    bit's toggles (:data:`TOGGLE_ARGS`; builds take about ten times longer, so only when
    asked)."""
    if trace and toggles:
        raise TernhwError("a bulk harness either dumps waves or counts toggles, not both")
    top, text = verilog or to_verilog(cfg, fault=fault)
    layout = PortLayout.of(text, top)
    harness = _harness_source()
    fix = _toggle_fix_source() if toggles else ""
    variant = ["--trace"] if trace else TOGGLE_ARGS if toggles else []
    key = hashlib.sha256(f"bulk|{variant}|{VERILATOR_BUILD_ARGS}|{harness}|{fix}|{text}"
                         .encode()).hexdigest()[:16]
    bdir = cache_dir() / "bulk" / f"{top}-{key}"
    exe = bdir / "obj" / "harness"
    if (bdir / ".built").exists() and exe.exists():
        return exe, layout, 0.0
    if bdir.exists():
        shutil.rmtree(bdir)
    bdir.mkdir(parents=True)
    (bdir / f"{top}.v").write_text(text)
    (bdir / "harness.cpp").write_text(harness)
    (bdir / "harness_ports.h").write_text(layout.header())
    if toggles:
        (bdir / "toggle_fix.h").write_text(fix)
    env = verilator_env()
    env["MAKEFLAGS"] = f"{VERILATOR_MAKEFLAGS} OPT_FAST=-O2"
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", str(min(4, os.cpu_count() or 1)),
           *VERILATOR_BUILD_ARGS, "--prefix", "Vtop", "--top-module", top, "--Mdir", "obj",
           "-CFLAGS", f"-O2 -I{bdir}{' -DTERNHW_TRACE' if trace else ''}"
                      f"{' -DTERNHW_TOGGLE -include toggle_fix.h' if toggles else ''}",
           *variant, "-o", "harness", f"{top}.v", "harness.cpp"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=bdir, env=env, capture_output=True, text=True)
    (bdir / "build.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not exe.exists():
        raise TernhwError(f"Verilator failed to build the bulk harness for {top} "
                          f"(log: {bdir / 'build.log'}):\n{(proc.stdout + proc.stderr)[-2000:]}")
    (bdir / ".built").touch()
    return exe, layout, time.monotonic() - t0


def _word_chunks(words: list[int], chunks: int) -> np.ndarray:
    nbytes = 4 * chunks
    return np.frombuffer(b"".join(w.to_bytes(nbytes, "little") for w in words),
                         dtype="<u4")


@dataclass
class _Prepared:
    case: CosimCase
    tx: object
    expected: object
    timing: CommandTiming


def _prepare(cfg: AcceleratorConfig, cases: list[CosimCase]) -> list[_Prepared]:
    model = GemmModel(cfg)
    out = []
    for c in cases:
        tx, expected = model.prepare(c.x, c.w, c.bias, c.requant, resident=c.resident,
                                     keep_weights=c.keep_weights)
        timing = CommandTiming(cfg, tx, vars(c), c.bias is not None)
        out.append(_Prepared(c, tx, expected, timing))
    return out


def write_job(path: Path, layout: PortLayout, prepared: list[_Prepared],
              cfg: AcceleratorConfig) -> None:
    """The binary job file the harness reads (format in the module docstring)."""
    parts = [np.array([MAGIC, VERSION, layout.act, layout.weight, layout.bias, layout.result,
                       len(layout.cmd_fields), len(prepared)], dtype="<u4")]
    for p in prepared:
        tx, c = p.tx, p.case
        cmd = tx.command()
        if set(cmd) != set(layout.cmd_fields):
            raise TernhwError(f"the design's command fields {sorted(layout.cmd_fields)} differ "
                              f"from the transaction's {sorted(cmd)}")
        arrivals = p.timing.wgt_arrivals or []
        acts, weights, biases = c.offered(cfg, tx)
        head = [cmd[f] for f in layout.cmd_fields] + [
            min(65536, round(c.p_valid * 65536)), min(65536, round(c.p_ready * 65536)),
            c.seed & 0xFFFFFFFF, p.timing.timeout_cycles, len(acts), len(weights), len(biases),
            len(arrivals), *arrivals]
        parts.append(np.array(head, dtype="<u4"))
        for words, n in ((acts, layout.act), (weights, layout.weight), (biases, layout.bias)):
            parts.append(_word_chunks(words, n))
    with open(path, "wb") as f:                  # inside the run's private job folder
        for a in parts:
            f.write(a.astype("<u4").tobytes())


def read_results(path: Path, layout: PortLayout, prepared: list[_Prepared],
                 cfg: AcceleratorConfig, wall_s: float) -> list[dict]:
    """Check every command's result words, cycles and counters (:func:`case_result`)."""
    data = np.fromfile(path, dtype="<u4")
    if len(data) < 2 or data[0] != MAGIC or data[1] != len(prepared):
        raise TernhwError(f"the bulk harness wrote an unreadable result file {path}")
    pos, results = 2, []
    total = sum(p.timing.ideal for p in prepared) or 1
    for p in prepared:
        h = data[pos:pos + HEADER_WORDS].astype(np.int64)
        pos += HEADER_WORDS
        n_words = int(h[-1])
        body = data[pos:pos + n_words * (1 + layout.result)].reshape(n_words, 1 + layout.result)
        pos += body.size
        sb = Scoreboard(cfg, p.tx, p.expected)
        if n_words:
            sb.receive_all(body[:, 1:], body[:, 0])
        counters = {name: int(h[6 + 2 * i]) | (int(h[7 + 2 * i]) << 32)
                    for i, name in enumerate(COUNTERS)}
        cycles = int(np.int32(np.uint32(h[0])))
        base = 6 + 2 * len(COUNTERS)
        n_violations, kind, at = (int(v) for v in h[base:base + 3])
        streams = {name: {"waits": [int(v) for v in h[base + 3 + 4 * i:base + 6 + 4 * i]],
                          "starved": int(h[base + 6 + 4 * i])}
                   for i, name in enumerate(STREAM_NAMES)}
        # the harness keeps the first violation; the count says how many more there were
        protocol = [{"check": PROTOCOL_CHECKS[kind - 1], "cycle": at,
                     **({"more": n_violations - 1} if n_violations > 1 else {})}
                    ] if n_violations else []
        results.append(case_result(
            p.case.name, p.tx, p.expected, p.timing, sb, counters=counters,
            cycles_measured=None if h[1] else cycles, error=bool(h[2]),
            words_left=dict(zip(("act", "weight", "bias"), map(int, h[3:6]), strict=True)),
            protocol=protocol, overrun=p.case.overrun, expect_error=p.case.expect_error,
            rejected=p.case.rejected,
            wall_s=wall_s * p.timing.ideal / total))
        results[-1]["streams"] = streams
    return results


class HarnessTimeout(TernhwError):
    """The harness did not finish in the time allowed."""


def _run_harness(cfg: AcceleratorConfig, exe: Path, job_dir: Path, prepared: list[_Prepared],
                 progress: Callable[[dict], None] | None, timeout_s: float | None = None,
                 extra_args: tuple[str, ...] = ()) -> str:
    """Run the harness on ``job_dir/job.bin``, relaying its per-command lines to ``progress``;
    returns its standard output. Past ``timeout_s`` seconds the harness is killed and a
    :class:`HarnessTimeout` raised (a broken design can hang the loop between timeouts)."""
    proc = subprocess.Popen([str(exe), str(job_dir / "job.bin"), str(job_dir / "result.bin"),
                             *extra_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = threading.Event()

    def kill():
        killed.set()
        proc.kill()

    timer = threading.Timer(timeout_s, kill) if timeout_s is not None else None
    lines = []
    try:
        if timer:
            timer.start()
        if progress:
            progress({"started": True, "cases": len(prepared)})
        for line in proc.stdout:
            lines.append(line)
            if progress and line.startswith("done "):
                c, words = map(int, line.split()[1:])
                progress({"case": c, "cases": len(prepared), "words": words,
                          "expected_words": result_word_count(cfg, prepared[c].tx.m,
                                                              prepared[c].tx.n)})
        err = proc.stderr.read()
        code = proc.wait()
    finally:
        if timer:
            timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if killed.is_set():
        raise HarnessTimeout(f"the bulk harness ran past {timeout_s:g} s")
    if code != 0:
        raise TernhwError(f"the bulk harness failed (exit {code}): "
                          f"{(err or ''.join(lines))[-2000:]}")
    return "".join(lines)


def run_bulk(cfg: AcceleratorConfig, cases: list[CosimCase], *, fault: str | None = None,
             verilog: tuple[str, str] | None = None, keep_dir: Path | None = None,
             progress: Callable[[dict], None] | None = None,
             timeout_s: float | None = None, coverage=None,
             waves_window: tuple[int, int] | None = None,
             waves_out: Path | None = None,
             toggles_out: Path | None = None) -> CosimReport:
    """Co-simulate ``cases`` through the bulk harness (Verilator only) and check everything.

    ``sim_cycles_per_s`` is the harness's own rate (simulated clocks over its loop's wall
    time); ``run_s`` also counts preparing the words and checking them in Python.
    ``coverage`` (a :class:`ternhw.cosim.coverage.Coverage`) samples every command.
    ``waves_window = (first, last)`` dumps those cycles (from reset, ``last`` excluded) to the
    VCD ``waves_out`` (default ``<top>.vcd`` in the current directory). ``toggles_out``
    receives every signal bit's toggle count over the job (Verilator's coverage file, read by
    :func:`ternhw.cosim.toggles.read_toggles`).
    ``progress`` gets ``{"started": True, "cases"}`` when the harness starts (the stimulus is
    prepared), then ``{"case", "cases", "words", "expected_words"}`` after each command."""
    check_cases_fit(cfg, cases)
    exe, layout, build_s = build_bulk(cfg, fault, verilog=verilog,
                                      trace=waves_window is not None,
                                      toggles=toggles_out is not None)
    t0 = time.monotonic()
    prepared = _prepare(cfg, cases)
    job_dir = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="ternhw-bulk-"))
    job_dir.mkdir(parents=True, exist_ok=True)
    try:
        write_job(job_dir / "job.bin", layout, prepared, cfg)
        extra_args: tuple[str, ...] = ()
        if waves_window is not None:
            vcd_tmp = job_dir / "window.vcd"
            extra_args = ("--trace", str(vcd_tmp), *map(str, waves_window))
        elif toggles_out is not None:
            extra_args = ("--toggles", str(Path(toggles_out).resolve()))
        stdout = _run_harness(cfg, exe, job_dir, prepared, progress, timeout_s, extra_args)
        if waves_window is not None:
            dest = deliver_waves(vcd_tmp, Path(waves_out) if waves_out
                                 else Path.cwd() / f"{top_name(cfg)}.vcd")
        stats = json.loads(stdout.strip().splitlines()[-1])
        results = read_results(job_dir / "result.bin", layout, prepared, cfg, stats["wall_s"])
        if coverage is not None:
            for p, r in zip(prepared, results, strict=True):
                coverage.sample(p.case, p.tx, p.expected, r)
    finally:
        if keep_dir is None:
            shutil.rmtree(job_dir, ignore_errors=True)
    run_s = time.monotonic() - t0

    rate = stats["simulated_cycles"] / stats["wall_s"] if stats["wall_s"] > 0 else 0.0
    return CosimReport(cfg.name, "verilator-bulk", not failed_cases(results), results, rate,
                       build_s, run_s, stdout,
                       {"engine": "bulk", "harness_s": stats["wall_s"],
                        "simulated_cycles": stats["simulated_cycles"],
                        **({"waves": str(dest)} if waves_window is not None else {})})


def raw_rate(cfg: AcceleratorConfig, case: CosimCase, cycles: int) -> dict:
    """Free-running Verilator on the same executable: ``cycles`` clocks at full rate on
    ``case``'s command, with constant stream words and no bookkeeping; the ceiling any harness
    on this model can reach."""
    exe, layout, _ = build_bulk(cfg)
    with tempfile.TemporaryDirectory(prefix="ternhw-raw-") as d:
        write_job(Path(d) / "job.bin", layout, _prepare(cfg, [case]), cfg)
        proc = subprocess.run([str(exe), str(Path(d) / "job.bin"), "-", "--raw", str(cycles)],
                              capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])
