"""Mutation score of the co-simulation regression: how many broken netlists does it catch?

Yosys's ``mutate`` (the engine of YosysHQ's MCY) lists single-bit mutations of the design's
flattened netlist, spread over its cells: a signal bit inverted or tied to 0/1, or replaced by
its AND/OR with another bit of the same cell (``inv``, ``const0``, ``const1``, ``cnot0``,
``cnot1``). Each mutant is written back as Verilog, compiled with the bulk harness and run on
the regression (:func:`ternhw.cosim.regression.regression`); it is *killed* when any check
trips (an output, the cycles, a counter, a stream rule, a timeout) and *survives* otherwise.

A survivor is either a hole in the regression or a mutation no input can observe (an unused
bit, a reset value every command overwrites, a write the pipeline's own hold makes
unreachable). Each survivor we examined is in :data:`UNOBSERVABLE` with the reason; the score
is killed / (mutants - unobservable), and a survivor without a reason is a hole to close with
a directed case (:func:`ternhw.cosim.regression.directed_cases` holds those added so far).
(A SAT equivalence proof of the mutant against the original, Yosys ``miter`` + ``sat
-tempinduct``, does not close on this design in reasonable time: 4.6 M variables at depth 7.)
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..hdl.generate import to_verilog
from ..synth import run_yosys_script
from .bulk import HarnessTimeout, run_bulk
from .regression import regression
from .runner import CosimCase

_EVENTS = ("a bit of the overflow-event counter at or above bit 22: one command makes at most "
           "act_buffer_depth x 65536 = 2^22 accumulator updates (64 token-chunks x N <= 65535 "
           "lanes), so the counter never reaches it")
#: Mutations of the ``small`` netlist (Yosys 0.70 numbering; the key is the mutation without
#: its source locations) that no input can observe, each with the reason. Filled in by
#: examining the survivors of ``sim/mutation.py``.
UNOBSERVABLE: dict[str, str] = {
    "mutate -mode const0 -module ternhw_small -cell $procdff$3632 -port D -portbit 32 "
    "-wire \\$141 -wirebit 32": _EVENTS,
    "mutate -mode const0 -module ternhw_small -cell $procdff$3632 -port Q -portbit 24 "
    "-wire status__overflow_events -wirebit 24": _EVENTS,
    "mutate -mode const0 -module ternhw_small -cell $flatten\\out.$shl$design.v:12314$1608 "
    "-port Y -portbit 34 -wire out.$1 -wirebit 34":
        "the rounding mask at shift 34 becomes all ones instead of 2^34 - 1: with 16-bit "
        "accumulators |acc x multiplier| < 2^31, so both masks leave a positive product's "
        "remainder below the threshold 2^33 and a negative one's above it; same rounding",
    "mutate -mode const0 -module ternhw_small -cell $flatten\\out.$and$design.v:12570$1864 "
    "-port A -portbit 0 -wire out.$274 -wirebit 0":
        "lets lane group 3 write the output word while the requantizer is held; the hold "
        "stops the pipeline at group 0 of the next token whenever the word is full, so group "
        "3 is never in the last stage while it is (the other groups' copies of the hold are "
        "intact)",
    "mutate -mode const1 -module ternhw_small -cell "
    "$flatten\\decoder.\\byte1.$auto$mem.cc:351:emit$2090 -port DATA -portbit 1806":
        "sets a bit of the base-3 decoder table that is already 1 (entry 180, fourth trit "
        "-1 = 0b11)",
    "mutate -mode inv -module ternhw_small -cell $procmux$3526 -port B -portbit 4":
        "the reset value of the latched command field K: every start loads K before it is "
        "read",
    "mutate -mode cnot1 -module ternhw_small -cell $procmux$3247 -port Y -portbit 12 "
    "-ctrlbit 34 -wire \\$138 -wirebit 12":
        "depends on bit 34 of the stall counter: reachable only after 2^34 stalled clocks in "
        "one command (172 s at 100 MHz), beyond any simulation",
    "mutate -mode const1 -module ternhw_small -cell $flatten\\out.$sub$design.v:12315$1609 "
    "-port Y -portbit 82 -wire out.$2 -wirebit 82":
        "bit 82 of 2^shift - 1: the rounding mask keeps bits 0-47 only",
    "mutate -mode cnot0 -module ternhw_small -cell $flatten\\accs$148.$add$design.v:1651$847 "
    "-port Y -portbit 11 -ctrlbit 16 -wire accs$148.$21 -wirebit 11":
        "bit 11 of a copy of an accumulator sum that only feeds the overflow test, which "
        "reads bits 15-16",
}


class MutationRun:
    """The mutants of ``cfg``'s netlist, in a work directory, and what became of each."""

    def __init__(self, cfg: AcceleratorConfig, work: Path):
        self.cfg = cfg
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.top, text = to_verilog(cfg)
        (self.work / "design.v").write_text(text)
        run_yosys_script(f"read_verilog design.v; hierarchy -top {self.top}; proc; flatten; "
                         "opt_clean; write_rtlil base.il", self.work)

    def list_mutants(self, count: int, seed: int) -> list[str]:
        """``count`` ``mutate`` commands spread over the netlist (Yosys's own selection),
        leaving out memory initializers (``$meminit``: the buffers' power-up contents, which
        Yosys cannot write back mutated, and which every command overwrites before reading).
        A mutation Yosys cannot write as Verilog (a decoder ROM's contents made non-constant)
        is passed over for the next, and listed in the result's ``not_writable``."""
        run_yosys_script(f"read_rtlil base.il; mutate -list {2 * count} -seed {seed} "
                         "-o mutations.ys", self.work)
        lines = [ln.strip() for ln in (self.work / "mutations.ys").read_text().splitlines()]
        return [ln for ln in lines if ln.startswith("mutate ") and "$meminit" not in ln][:count]

    def verilog(self, mutation: str | None, name: str) -> str:
        """The netlist as Verilog, with ``mutation`` applied (None: the original netlist)."""
        run_yosys_script(f"read_rtlil base.il; {mutation or ''}; write_verilog -noattr {name}.v",
                         self.work)
        return (self.work / f"{name}.v").read_text()


def _kill_checks(report) -> list[str]:
    return sorted({c for case in report.cases for c in case["checks"]})


def mutation_score(cfg: AcceleratorConfig, *, count: int = 60, seed: int = 1,
                   cases: list[CosimCase] | None = None, work: Path | None = None,
                   progress: Callable[[str], None] | None = None) -> dict:
    """Run ``count`` mutants of ``cfg`` against ``cases`` (default: the regression) on the
    bulk engine; returns the JSON document (per mutant: the mutation, killed or not, by which
    checks, and for survivors the reason they are unobservable, where known)."""
    cases = regression(cfg) if cases is None else cases
    tmp = None
    if work is None:
        tmp = tempfile.mkdtemp(prefix="ternhw-mutation-")
        work = Path(tmp)
    try:
        run = MutationRun(cfg, work)
        base = run_bulk(cfg, cases, verilog=(run.top, run.verilog(None, "original")))
        if not base.passed:
            raise TernhwError("the unmutated netlist fails the regression: "
                              f"{_kill_checks(base)}; nothing to score")
        candidates = run.list_mutants(3 * count, seed)
        rows, skipped = [], []
        t0 = time.monotonic()
        for mutation in candidates:
            if len(rows) == count:
                break
            key = re.sub(r" -src \S+", "", mutation)
            try:
                text = run.verilog(mutation, f"mutant{len(rows)}")
            except TernhwError:          # e.g. a ROM's contents made non-constant
                skipped.append(key)
                continue
            row = {"id": len(rows), "mutation": key}
            try:
                report = run_bulk(cfg, cases, verilog=(run.top, text), timeout_s=120)
                row["killed"] = not report.passed
                row["checks"] = _kill_checks(report)
            except HarnessTimeout:
                row["killed"], row["checks"] = True, ["timeout"]
            if not row["killed"] and key in UNOBSERVABLE:
                row["reason"] = UNOBSERVABLE[key]
            rows.append(row)
            if progress:
                progress(f"mutant {len(rows)}/{count}: "
                         f"{'killed' if row['killed'] else 'SURVIVED'} "
                         f"({time.monotonic() - t0:.0f}s)")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    killed = sum(r["killed"] for r in rows)
    unobservable = sum("reason" in r for r in rows)
    scored = len(rows) - unobservable
    return {
        "config": cfg.name, "mutants": len(rows), "seed": seed, "killed": killed,
        "unobservable": unobservable, "score": killed / scored if scored else 1.0,
        "score_counting_every_mutant": killed / len(rows) if rows else 1.0,
        "holes": [r["id"] for r in rows if not r["killed"] and "reason" not in r],
        "survivors": [r for r in rows if not r["killed"]],
        "regression": [c.name for c in cases], "rows": rows,
        "not_writable": skipped,
        "method": "yosys mutate -list (flattened netlist, memory initializers left out), bulk "
                  "co-simulation of ternhw.cosim.regression; a mutant is killed when any "
                  "check trips; score = killed / (mutants - unobservable)",
    }
