"""Cycle-level reference model of the accelerator's control: the slow, obviously-step-by-step
twin of the closed form in :mod:`ternhw.model.cycles`.

It keeps the same registers as the generated controller (``ternhw.hdl.controller``) and the
output stage (``ternhw.hdl.output_stage``) and updates them once per clock with the same rules
(``docs/microarchitecture.md``), but no data: only counts, so it answers *when* things happen.
Three loaders run concurrently from the first busy cycle:

* activations: ``M x T`` words into the activation buffer, one per clock while offered;
* weights: a ring of ``weight_buffer_depth`` words; a word is accepted while the ring has a free
  word; an N-tile's ``T`` words are freed when its last array step issues (unless the command
  keeps the matrix resident for the next command);
* biases: one word per N-tile into two banks; the bias of tile ``j`` loads once tile ``j - 1``
  is issuing and no step of tile ``j - 2`` (same bank) is still before its accumulation.

The issue stage starts an array step (token ``i``, chunk ``t`` of tile ``nt``) when its
activation word and weight word have been written in an earlier clock, the tile's bias is
loaded, and the output stage is not holding the pipeline. A step then passes ``ARRAY_STAGES``
registers (buffer read, decoded weights, partial row sums, chunk sums) before its accumulator
update. Finished
tokens hand their ``rows`` accumulators to a snapshot register read by the shared requantizer,
``requant_lanes`` results per clock through ``REQUANT_STAGES`` pipeline registers into the
output word.

Input availability is a per-stream list of arrival cycles (word ``j`` can be accepted from cycle
``arrivals[j]``), or None for a stream that always offers a word: that is how a bandwidth model
(:func:`stream_arrivals`) predicts stall cycles exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import AcceleratorConfig

#: pipeline registers in the shared requantizer (the selected accumulator, partial products,
#: the product, the shifted value and rounding decision); the clamp writes the output word.
REQUANT_STAGES = 4
#: array pipeline registers from issue to the accumulator update: buffer read, decoded weights
#: and activations, partial row sums (lanes and the first adder-tree levels), chunk sums.
ARRAY_STAGES = 4

#: Cycles of a command the controller refuses at ``start`` (zero dimensions, a requantization
#: shift above 47, ``keep_weights`` with no matching resident matrix): it goes straight to
#: ``done`` with ``status.error``, one busy clock, and takes no input word.
REJECTED_COMMAND_CYCLES = 1


@dataclass(frozen=True)
class CommandTiming:
    """What the control model predicts for one command (cycles from the clock after ``start``
    to the one with ``status.done``, inclusive)."""

    cycles: int
    array_steps: int
    stall_cycles: int           # running cycles in which no array step issued
    hold_cycles: int            # of those, cycles the output stage held the pipeline
    first_issue: int
    last_issue: int


def stream_arrivals(words: int, word_bits: int, bytes_per_clock: float,
                    latency: int = 0) -> list[int]:
    """Arrival cycles of ``words`` stream words that memory delivers at ``bytes_per_clock``
    after ``latency`` clocks: word ``j`` is complete at ``latency + ceil((j + 1) * bytes /
    bytes_per_clock) - 1`` (so a full-rate stream, one word per clock, offers word ``j`` at
    cycle ``latency + j``)."""
    if not bytes_per_clock > 0:
        raise ValueError(f"bytes_per_clock must be positive, not {bytes_per_clock!r}")
    per_word = word_bits / 8 / bytes_per_clock
    return [latency + max(j, math.ceil((j + 1) * per_word - 1e-9) - 1) for j in range(words)]


def simulate_command(cfg: AcceleratorConfig, m: int, k: int, n: int, *, bias: bool = False,
                     resident: bool = False, keep_weights: bool = False,
                     act_arrivals: list[int] | None = None,
                     wgt_arrivals: list[int] | None = None,
                     bias_arrivals: list[int] | None = None,
                     max_cycles: int = 50_000_000) -> CommandTiming:
    """Step the control registers of one command clock by clock (output always ready)."""
    R, C, D = cfg.rows, cfg.cols, cfg.weight_buffer_depth
    T, NT = -(-k // C), -(-n // R)
    G, P = cfg.requant_groups, REQUANT_STAGES
    MT = m * T

    def offered(arrivals, j, c):
        return arrivals is None or arrivals[j] <= c

    a_cnt = 0
    w_next = 0                       # index of the next weight word to accept
    w_space, w_avail = D, 0
    w_done = keep_weights
    b_cnt = 0
    b_done = not bias
    i_tile = tok = t = addr = 0
    pipe = [None] * ARRAY_STAGES     # per array register: (bias bank, last chunk of a token)
    acc_done = False
    s_busy, g = False, 0
    rq = [None] * P                  # (last group,) per pipeline register
    o_full = o_valid = False
    phase = "RUN"
    steps = stalls = holds = 0
    first_issue = last_issue = -1
    c = 0
    while True:
        if c > max_cycles:
            raise RuntimeError(f"no done within {max_cycles} cycles: the model deadlocked")
        # ---- combinational ----------------------------------------------------------------
        feed = s_busy                                     # output always ready: no rq hold
        s_free = (not s_busy) or (feed and g == G - 1)
        hold = acc_done and not s_free
        running = phase == "RUN"
        issue = (running and (a_cnt == MT or a_cnt > addr)
                 and (keep_weights or w_avail > t)
                 and (not bias or b_cnt > i_tile) and not hold)
        a_take = running and a_cnt < MT and offered(act_arrivals, a_cnt, c)
        w_take = running and not w_done and w_space > 0 and offered(wgt_arrivals, w_next, c)
        b_take = (running and not b_done and b_cnt <= i_tile + 1
                  and not any(s is not None and s[0] == b_cnt % 2 for s in pipe[:-1])
                  and offered(bias_arrivals, b_cnt, c))
        pipe_empty = (all(s is None for s in pipe) and not acc_done and not s_busy
                      and all(r is None for r in rq) and not o_full and not o_valid)
        # ---- registers ----------------------------------------------------------------------
        if running:
            stalls += not issue
            holds += hold
        if issue:
            steps += 1
            last_issue = c
            if first_issue < 0:
                first_issue = c
        a_cnt += a_take
        if w_take:
            w_next += 1
            w_space -= 1
            w_avail += 1
            w_done = w_next == NT * T
        if b_take:
            b_cnt += 1
            b_done = b_cnt == NT
        step = None
        if issue:
            last_chunk = t == T - 1
            step = (i_tile % 2, last_chunk)
            addr += 1
            t += 1
            if last_chunk:
                t = 0
                tok += 1
                if tok == m:
                    tok = addr = 0
                    w_avail -= T
                    if not (resident or keep_weights):
                        w_space += T
                    i_tile += 1
                    if i_tile == NT:
                        phase = "DRAIN"
        # output stage (uses the values before this clock's pipeline update)
        handoff = acc_done and not hold
        out = rq[-1]
        rq = [(g == G - 1,) if feed else None] + rq[:-1]
        last_written = out is not None and out[0]
        if feed:
            g = 0 if g == G - 1 else g + 1
            if g == 0:
                s_busy = False
        if handoff:
            s_busy, g = True, 0
        transfer = o_full                                   # output register always free
        o_valid = transfer
        o_full = last_written
        if not hold:
            acc_done = pipe[-1] is not None and pipe[-1][1]
            pipe = [step] + pipe[:-1]
        if phase == "DRAIN" and not running and pipe_empty:
            phase = "DONE"
        elif phase == "DONE":
            return CommandTiming(c + 1, steps, stalls, holds, first_issue, last_issue)
        c += 1
