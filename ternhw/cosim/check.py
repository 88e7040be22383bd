"""What one co-simulated command must show, shared by the cocotb testbench and the bulk path.

Both paths observe the same things of a command (its result words, the cycle ``done`` rose,
``status.error``, the status counters, the input words left unconsumed) and turn them into the
same result record here, so a check cannot be stricter on one path than on the other.
"""

from __future__ import annotations

from ..config import AcceleratorConfig
from ..model.cycles import gemm_cycles
from ..model.timing import REJECTED_COMMAND_CYCLES, simulate_command, stream_arrivals

#: Status counters read after every command (``status.<name>``).
COUNTERS = ("cycles", "busy_cycles", "stall_cycles", "hold_cycles", "zero_skips",
            "overflow_events")
#: The o_res stream rules both testbenches watch on every stalled word (a word offered with
#: ``ready`` low must be offered again, unchanged, the next clock).
PROTOCOL_CHECKS = ("valid held until ready", "payload stable while stalled")
#: Every check a command can trip, by name (a result's ``checks`` lists those that tripped;
#: each fault of ``ternhw.hdl.faults`` names the one it must trip).
CHECKS = (("output value", "output overflow", "output saturated", "output extra word",
           "result words", "cycles", "timeout", "error flag", "input not consumed")
          + tuple(f"counter {c}" for c in COUNTERS if c != "cycles")
          + tuple(f"protocol {p}" for p in PROTOCOL_CHECKS))


class CommandTiming:
    """The cycle figures a command is held to: the full-rate count (a lower bound for any
    stream behaviour), the model's ``(cycles, stall_cycles, hold_cycles)`` where it predicts
    the streams
    (full rate, or the weight stream throttled to ``wgt_bytes_per_clock`` after
    ``wgt_latency`` clocks: ``wgt_arrivals`` is each word's first cycle), None where the
    handshakes are random, and the timeout after which a testbench gives up waiting for
    ``done``."""

    def __init__(self, cfg: AcceleratorConfig, tx, case: dict, has_bias: bool):
        flags = {"bias": has_bias, "resident": tx.resident, "keep_weights": tx.keep_weights}
        full_rate = gemm_cycles(cfg, tx.m, tx.k, tx.n, **flags)
        self.ideal = full_rate.total
        self.wgt_arrivals = None
        if case.get("wgt_bytes_per_clock"):
            self.wgt_arrivals = stream_arrivals(len(tx.weight_words), cfg.weight_word_bits,
                                                case["wgt_bytes_per_clock"],
                                                case.get("wgt_latency", 0))
        if case.get("p_ready", 1.0) < 1.0 or case.get("p_valid", 1.0) < 1.0:
            self.predicted = None
        elif self.wgt_arrivals is not None:
            t = simulate_command(cfg, tx.m, tx.k, tx.n, wgt_arrivals=self.wgt_arrivals, **flags)
            self.predicted = (t.cycles, t.stall_cycles, t.hold_cycles)
        else:
            self.predicted = (full_rate.total, full_rate.wait, full_rate.hold)
        model_cycles = self.ideal if self.predicted is None else self.predicted[0]
        self.timeout_cycles = 20 * model_cycles + 10_000


def case_result(name: str, tx, expected, timing: CommandTiming, scoreboard, *,
                counters: dict[str, int], cycles_measured: int | None, error: bool,
                words_left: dict[str, int], protocol: list[dict], wall_s: float,
                overrun: int = 0, expect_error: bool = False, rejected: bool = False) -> dict:
    """The result record of one command: every disagreement with the model as a mismatch
    (outputs), a counter mismatch (cycles and events) or a problem (timeout, error flag,
    missing words, input words left other than the ``overrun`` offered beyond the command's
    on each stream, a broken stream rule: ``protocol`` holds the violations seen, ``{"check",
    "cycle"}``, the first few); ``checks`` names each check that tripped.

    ``expect_error``: the command must end with ``status.error`` (an invalid weight code or a
    refused command); ``rejected``: the design must refuse it at ``start``, so no result word,
    every offered input word left, no event and ``REJECTED_COMMAND_CYCLES`` cycles."""
    problems, checks = [], set()
    if cycles_measured is None:
        problems.append(f"timeout: no done within {timing.timeout_cycles} cycles")
        checks.add("timeout")
    if error != expect_error:
        problems.append("the design raised status.error" if error
                        else "the design did not raise status.error")
        checks.add("error flag")
    want_words = 0 if rejected else scoreboard.expected_words
    if scoreboard.words != want_words:
        problems.append(f"{scoreboard.words} result words, expected {want_words}")
        checks.add("result words")
    left = {"act": overrun, "weight": overrun, "bias": overrun}
    if rejected:
        left = {"act": len(tx.act_words) + overrun, "weight": len(tx.weight_words) + overrun,
                "bias": len(tx.bias_words) + overrun}
    if words_left != left:
        problems.append(f"input words left: {words_left}, expected {left}")
        checks.add("input not consumed")
    for v in protocol:
        problems.append(f"protocol: {v['check']} (cycle {v['cycle']})")
        checks.add(f"protocol {v['check']}")
    checks |= {f"output {f}" for f, n in scoreboard.field_counts.items() if n}
    ev = expected.events
    want = {"busy_cycles": ev.array_steps, "zero_skips": ev.lane_skip,
            "overflow_events": ev.overflow_events}
    predicted = timing.predicted
    if rejected:
        want = dict.fromkeys(want, 0)
        predicted = (REJECTED_COMMAND_CYCLES, 0, 0)
    if predicted is not None:
        want.update(cycles=predicted[0], stall_cycles=predicted[1], hold_cycles=predicted[2])
    counter_mismatch = {k: {"rtl": counters[k], "model": v} for k, v in want.items()
                        if counters[k] != v}
    if counters["cycles"] < timing.ideal and not rejected:
        counter_mismatch["cycles_below_full_rate"] = {"rtl": counters["cycles"],
                                                      "model": timing.ideal}
    if cycles_measured is not None and cycles_measured != counters["cycles"]:
        counter_mismatch["cycles_measured"] = {"rtl": cycles_measured,
                                               "model": counters["cycles"]}
    for k in counter_mismatch:
        checks.add("cycles" if k.startswith("cycles") else f"counter {k}")
    first = scoreboard.mismatches[0] if scoreboard.mismatches else None
    return {
        "name": name,
        "m": tx.m, "k": tx.k, "n": tx.n,
        "outputs_checked": scoreboard.checked,
        "mismatches": scoreboard.mismatch_count,
        "first_mismatch": None if first is None else vars(first),
        "cycles_rtl": counters["cycles"],
        "cycles_model": None if predicted is None else predicted[0],
        "cycles_full_rate": REJECTED_COMMAND_CYCLES if rejected else timing.ideal,
        "stall_cycles": counters["stall_cycles"],
        "stall_cycles_model": None if predicted is None else predicted[1],
        "resident": tx.resident, "keep_weights": tx.keep_weights,
        "counters": counters,
        "counter_mismatches": counter_mismatch,
        "problems": problems,
        "checks": sorted(checks),
        "wall_s": wall_s,
    }


def failed_cases(results: list[dict]) -> list[str]:
    """Names of the commands with any mismatch, problem or counter mismatch."""
    return [r["name"] for r in results
            if r["mismatches"] or r["problems"] or r["counter_mismatches"]]
