"""Reusable cocotb testbench parts for the accelerator's valid/ready streams.

Each part does one job, as in cocotb's ``matrix_multiplier`` example: a :class:`StreamDriver`
offers words on an input stream (optionally withholding ``valid`` at random), a
:class:`ResultMonitor` drives ``o_res.ready`` (optionally withholding it at random) and reports
every accepted word, :class:`GemmModel` predicts the words from ``ternhw.model``, and a
:class:`Scoreboard` compares them in order.

Timing discipline: signals are driven right after a rising edge and sampled in the ``ReadOnly``
phase of the same cycle; a handshake sampled there happens at the next rising edge. Parts that
have nothing to do sleep on a value-change trigger instead of waking every cycle, so the
simulator runs free between transactions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cocotb.triggers import ReadOnly, RisingEdge

from ..config import AcceleratorConfig
from ..hdl.transactions import GemmTransaction, build_transaction, decode_word
from ..model import Requant, gemm


class StreamDriver:
    """Offers a list of words on one input stream until all are accepted.

    Either at random (``p_valid``: the probability of offering in a cycle) or by a bandwidth
    model: ``arrivals[j]`` is the first cycle, counted from the command's first cycle
    (``epoch``, set by the test when it pulses ``start``), in which word ``j`` can be offered
    (``ternhw.model.timing.stream_arrivals``), so the model can predict the stalls exactly.
    """

    def __init__(self, clk, valid, ready, payload, *, p_valid: float = 1.0, seed: int = 0,
                 arrivals: list[int] | None = None, cycle_of=None):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.p_valid = p_valid
        self.rng = random.Random(seed)
        self.sent = 0
        self.arrivals = arrivals
        self.cycle_of = cycle_of
        self.epoch: int | None = None

    def _offer(self) -> bool:
        if self.arrivals is None:
            return self.rng.random() < self.p_valid
        if self.epoch is None:
            return False
        return self.arrivals[self.sent] <= self.cycle_of() - self.epoch

    async def send(self, words: list[int]) -> None:
        queue = list(words)
        while queue:
            offer = self._offer()
            self.valid.value = int(offer)
            if offer:
                self.payload.value = queue[0]
            await ReadOnly()
            ready = int(self.ready.value)
            if offer and ready:
                queue.pop(0)
                self.sent += 1
                await RisingEdge(self.clk)
            elif offer and not ready:
                await RisingEdge(self.ready)        # sleep until the design wants words
            else:
                await RisingEdge(self.clk)
        self.valid.value = 0


class ResultMonitor:
    """Accepts result words on ``o_res``, holding ``ready`` low at random for back-pressure,
    and calls ``callback(word, cycle)`` for each accepted word."""

    def __init__(self, clk, valid, ready, payload, callback, *, p_ready: float = 1.0,
                 seed: int = 1, cycle_of=None):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.callback = callback
        self.p_ready = p_ready
        self.rng = random.Random(seed)
        self.cycle_of = cycle_of or (lambda: -1)

    async def run(self) -> None:
        self.ready.value = self._draw()
        while True:
            await ReadOnly()
            if int(self.valid.value):
                if int(self.ready.value):
                    self.callback(int(self.payload.value), self.cycle_of())
                await RisingEdge(self.clk)          # a handshake happens at this edge
            else:
                await RisingEdge(self.valid)        # sleep until the next result
            self.ready.value = self._draw()

    def _draw(self) -> int:
        return int(self.p_ready >= 1.0 or self.rng.random() < self.p_ready)


@dataclass
class GemmModel:
    """Transaction-level model: operands -> stream words and the expected result words."""

    cfg: AcceleratorConfig

    def prepare(self, x, w, bias=None, requant: Requant | None = None, *,
                resident: bool = False, keep_weights: bool = False):
        expected = gemm(self.cfg, x, w, bias, requant)
        tx = build_transaction(self.cfg, x, w, bias, requant, resident=resident,
                               keep_weights=keep_weights)
        return tx, expected


@dataclass
class Mismatch:
    token: int
    output: int
    field: str
    expected: int
    got: int
    cycle: int


@dataclass
class Scoreboard:
    """In-order checker of result words against a model's ``GemmResult``."""

    cfg: AcceleratorConfig
    tx: GemmTransaction
    expected: object                      # GemmResult
    checked: int = 0
    words: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    mismatch_count: int = 0

    def receive(self, word: int, cycle: int) -> None:
        R = self.cfg.rows
        M, N = self.tx.m, self.tx.n
        nt, i = divmod(self.words, M)
        self.words += 1
        if nt * R >= N:
            self._fail(i, -1, "extra word", 0, word, cycle)
            return
        for r, (got, ovf, sat) in enumerate(decode_word(self.cfg, word)):
            j = nt * R + r
            if j >= N:
                break
            self.checked += 1
            for name, want, have in (("value", int(self.expected.out[i, j]), got),
                                     ("overflow", int(self.expected.overflow[i, j]), ovf),
                                     ("saturated", int(self.expected.saturated[i, j]), sat)):
                if want != have:
                    self._fail(i, j, name, want, have, cycle)

    def _fail(self, token, output, name, expected, got, cycle):
        self.mismatch_count += 1
        if len(self.mismatches) < 10:
            self.mismatches.append(Mismatch(token, output, name, expected, got, cycle))

    @property
    def expected_words(self) -> int:
        return -(-self.tx.n // self.cfg.rows) * self.tx.m
