"""``ternhw sweep --verify N``: prove the best front points on real RTL.

For each of the ``N`` best front points by the first objective:

1. **Co-simulation.** Its Verilog is generated and co-simulated (``ternhw.cosim.runner``,
   Verilator by default) bit-exactly against the golden model on a small slice of the workload:
   the first layer of the workload (``ternhw.workload.load_workload``) for ``tokens`` tokens,
   with its real weights and activations where the workload has them
   (``ternhw.cosim.workloads.layer_cases``: digits' test images, MiniLM's sentences), run as the
   commands of its schedule at full stream rate. Every output must match, and the RTL's cycle
   count of every command must equal the exact cycle model's (``ternhw.model.cycles.gemm_cycles``)
   -- the model the sweep's cycle figures come from.
2. **Synthesis.** The design goes through the generic Yosys flow
   (``ternhw.synth.synthesize(cfg, "generic", place_route=False)``, cached by RTL hash) and its
   gates are put beside the area model's prediction (relative error ``(model - measured) /
   measured``). The gate error is reported, not judged: the area model's goal (10 %) is stated
   beside it.

A point whose co-simulation mismatches, whose cycles differ, or whose flow fails is kept with
``passed = False`` and its reasons; the command prints a ``VERIFICATION FAILED`` line for it and
exits non-zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..config import config_from_dict
from ..errors import TernhwError
from .pareto import Objective

#: Tokens of the workload slice a point is co-simulated on (``--verify-tokens``).
DEFAULT_TOKENS = 4
#: The area model's goal on generic gates (issue 12), printed beside each error.
GATES_GOAL = 0.10


def pick(rows: list[dict], front: list[int], objective: Objective, n: int) -> list[int]:
    """The ``n`` best front points (indices into ``rows``) by ``objective``."""
    sign = -1 if objective.sense == "max" else 1
    return sorted(front, key=lambda i: (sign * rows[i][objective.metric], i))[:n]


def verify_point(row: dict, workload: str, *, seq_len: int = 128, tokens: int = DEFAULT_TOKENS,
                 simulator: str = "verilator", log: Callable[[str], None] = print) -> dict:
    """Co-simulate and synthesize one evaluated point; never raises for a failing design: the
    result has ``passed`` and ``notes`` (see the module docstring)."""
    from ..cosim.runner import run_cases
    from ..cosim.workloads import layer_cases
    from ..model.cycles import gemm_cycles
    from ..synth import synthesize
    from ..workload import load_workload

    p = row["point"]
    cfg = config_from_dict({**row["config"], "name": f"sweep_p{p}"}, source=f"point {p}")
    out: dict = {"point": p, "config": row["config"], "passed": False, "notes": [],
                 "cycles_model": None, "cycles_rtl": None, "mismatches": None,
                 "outputs_checked": None, "gates_model": row.get("gates"),
                 "gates_measured": None, "gates_error": None, "gates_goal": GATES_GOAL}
    notes = out["notes"]
    ok = True
    # -- co-simulation on a slice of the workload -----------------------------------------
    try:
        layer = load_workload(workload, seq_len=seq_len).layers[0]
        cases, note = layer_cases(cfg, layer, tokens)
        # an n-blocked layer runs every token once per column block (each block loaded by
        # one command), a resident or streamed one once
        blocks = max(1, sum(c.resident and not c.keep_weights for c in cases))
        out["slice"] = (f"layer {layer.label} ({layer.k} -> {layer.n}), "
                        f"{sum(len(c.x) for c in cases) // blocks} tokens in {len(cases)} "
                        f"command(s){f' ({blocks} column blocks)' if blocks > 1 else ''}: "
                        f"{note}")
        log(f"point {p}: co-simulating {out['slice']} ({simulator})...")
        t0 = time.monotonic()
        # the compiled bulk harness (every word and counter checked, ~6x the cocotb rate);
        # the cocotb testbench where the simulator is Icarus
        rep = run_cases(cfg, cases, simulator=simulator,
                        engine="bulk" if simulator == "verilator" else "cocotb")
        out["cosim_s"] = time.monotonic() - t0
        model = [gemm_cycles(cfg, len(c.x), c.w.shape[1], c.w.shape[0],
                             bias=c.bias is not None, resident=c.resident,
                             keep_weights=c.keep_weights).total for c in cases]
        rtl = [c["cycles_rtl"] for c in rep.cases]
        out.update(cycles_model=sum(model), cycles_rtl=sum(rtl), mismatches=rep.mismatches,
                   outputs_checked=rep.outputs_checked,
                   cycles_by_command=[{"model": a, "rtl": b} for a, b in zip(model, rtl,
                                                                             strict=True)])
        if rep.mismatches or not rep.passed:
            ok = False
            first = rep.first_mismatch
            notes.append(f"{rep.mismatches} of {rep.outputs_checked} outputs differ from the "
                         "golden model" + (f" (first: {first})" if first else "")
                         if rep.mismatches else "the testbench failed")
        if model != rtl:
            ok = False
            notes.append(f"cycles: RTL {rtl} != model {model} per command")
    except Exception as e:  # noqa: BLE001 - a failing flow is a failed point, reported
        ok = False
        notes.append(f"co-simulation failed: {_one_line(e)}")
    # -- generic synthesis vs the area model ----------------------------------------------
    try:
        log(f"point {p}: generic synthesis (Yosys, cached by RTL hash)...")
        t0 = time.monotonic()
        r = synthesize(cfg, "generic", place_route=False, log=lambda _m: None)
        out["synth_s"] = time.monotonic() - t0
        out["synth_cached"] = bool(r.get("cached"))
        out["gates_measured"] = r["gates"]
        out["area_measured"] = r.get("area_breakdown")
        if out["gates_model"] is not None and r["gates"]:
            out["gates_error"] = (out["gates_model"] - r["gates"]) / r["gates"]
            if abs(out["gates_error"]) > GATES_GOAL:
                notes.append(f"area model off by {out['gates_error']:+.1%} (goal "
                             f"{GATES_GOAL:.0%})")
    except Exception as e:  # noqa: BLE001
        ok = False
        notes.append(f"synthesis failed: {_one_line(e)}")
    out["passed"] = ok
    return out


def _one_line(e: BaseException) -> str:
    text = str(e) if isinstance(e, TernhwError) else f"{type(e).__name__}: {e}"
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def verify_front(rows: list[dict], front: list[int], objectives: list[Objective], n: int,
                 workload: str, *, seq_len: int = 128, tokens: int = DEFAULT_TOKENS,
                 simulator: str = "verilator",
                 log: Callable[[str], None] = print) -> list[dict]:
    """Verify the ``n`` best front points (marks each row with ``verified``); one result per
    point, failures included."""
    if n < 0:
        raise TernhwError(f"--verify must be a non-negative integer, not {n}")
    if not isinstance(tokens, int) or tokens < 1:
        raise TernhwError(f"--verify-tokens must be a positive integer, not {tokens!r}")
    out = []
    for i in pick(rows, front, objectives[0], n):
        v = verify_point(rows[i], workload, seq_len=seq_len, tokens=tokens,
                         simulator=simulator, log=log)
        rows[i]["verified"] = {k: v[k] for k in ("passed", "cycles_model", "cycles_rtl",
                                                 "mismatches", "gates_model",
                                                 "gates_measured", "gates_error")}
        out.append(v)
    return out
