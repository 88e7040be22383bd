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

#: Mutations of the ``small`` netlist (Yosys 0.70 numbering; the key is the mutation without
#: its source locations) that no input can observe, each with the reason. Filled in by
#: examining the survivors of ``sim/mutation.py``; the numbering changes with the RTL, so each
#: RTL change re-opens the analysis.
UNOBSERVABLE: dict[str, str] = {
    "mutate -mode const0 -module ternhw_small -cell $flatten\\out.$procdff$3683 -port D "
    "-portbit 171 -wire out.$386 -wirebit 171":
        "bit 3 of the requantizer's fourth partial product, the sum of acc << 12 .. acc << 15 "
        "(multiplier bits 12-15): its low 12 bits are always 0",
    "mutate -mode const1 -module ternhw_small -cell "
    "$flatten\\decoder.\\byte2.$auto$mem.cc:351:emit$2163 -port DATA -portbit 1322":
        "sets a bit of the base-3 decoder table that is already 1 (entry 132, second trit "
        "+1 = 0b01)",
    "mutate -mode inv -module ternhw_small -cell $procmux$3438 -port B -portbit 6":
        "the reset value of the bias-word register: it takes the bias stream's payload every "
        "clock and is read only the clock after a bias load",
    "mutate -mode const0 -module ternhw_small -cell $flatten\\out.$procmux$2368 -port A "
    "-portbit 31 -wire out.$4 -wirebit 32":
        "bit 31 of the positive rounding threshold 2^(shift-1) - 1, set only for shifts >= 33: "
        "with 16-bit accumulators and a 16-bit multiplier a positive product is below 2^31, so "
        "its remainder stays below the threshold with or without that bit",
    "mutate -mode cnot0 -module ternhw_small -cell $flatten\\accs$156.$add$design.v:1733$878 "
    "-port Y -portbit 7 -ctrlbit 5 -wire accs$156.$35 -wirebit 7":
        "bit 7 of a copy of an accumulator sum that only feeds the overflow test, which reads "
        "bits 15-16 (a carry does not travel back from bit 7)",
    "mutate -mode const1 -module ternhw_small -cell $flatten\\ctrl.$procmux$3026 -port S "
    "-portbit 0":
        "selects the other arm of a multiplexer whose first arm is 'x (a don't-care the "
        "controller's FSM never reaches); choosing the defined arm is a valid refinement",
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
                   progress: Callable[[str], None] | None = None,
                   only: set[int] | None = None) -> dict:
    """Run ``count`` mutants of ``cfg`` against ``cases`` (default: the regression) on the
    bulk engine; returns the JSON document (per mutant: the mutation, killed or not, by which
    checks, and for survivors the reason they are unobservable, where known). ``only`` runs
    just the mutants with those ids of the same sample (a quick check of chosen ones)."""
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
            if only is not None and row["id"] not in only:
                rows.append(None)
                continue
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
    rows = [r for r in rows if r is not None]
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
