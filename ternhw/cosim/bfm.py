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

import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from ..config import AcceleratorConfig
from ..hdl.transactions import (
    GemmTransaction,
    build_transaction,
    decode_word,
    result_word_count,
)
from ..model import Requant, gemm
from .check import PROTOCOL_CHECKS


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
    and calls ``callback(word, cycle)`` for each accepted word. It also watches the stream
    rules (:data:`~ternhw.cosim.check.PROTOCOL_CHECKS`): a word offered while ``ready`` is low
    must be offered again, unchanged, the next clock; ``violations`` lists the first few."""

    def __init__(self, clk, valid, ready, payload, callback, *, p_ready: float = 1.0,
                 seed: int = 1, cycle_of=None):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.callback = callback
        self.p_ready = p_ready
        self.rng = random.Random(seed)
        self.cycle_of = cycle_of or (lambda: -1)
        self.violations: list[dict] = []
        self.violation_count = 0

    async def run(self) -> None:
        self.ready.value = self._draw()
        stalled = None                               # the payload offered while ready was low
        while True:
            await ReadOnly()
            valid = int(self.valid.value)
            if stalled is not None:
                if not valid:
                    self._violated(PROTOCOL_CHECKS[0])
                elif int(self.payload.value) != stalled:
                    self._violated(PROTOCOL_CHECKS[1])
            stalled = None
            if valid:
                if int(self.ready.value):
                    self.callback(int(self.payload.value), self.cycle_of())
                else:
                    stalled = int(self.payload.value)
                await RisingEdge(self.clk)          # a handshake happens at this edge
            else:
                await RisingEdge(self.valid)        # sleep until the next result
            self.ready.value = self._draw()

    def _violated(self, check: str) -> None:
        self.violation_count += 1
        if len(self.violations) < 10:
            self.violations.append({"check": check, "cycle": self.cycle_of()})

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
    field_counts: dict[str, int] = field(default_factory=dict)   # mismatches per field

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

    def receive_all(self, chunks: np.ndarray, cycles: np.ndarray) -> None:
        """Check a whole command's result words at once: ``chunks`` is ``(words, c)`` uint32,
        word ``i`` least significant first, ``cycles`` the cycle of each. The vectorized twin of
        :meth:`receive` (same counts, same first mismatches in the same order), for the bulk
        path, where tens of thousands of words arrive together."""
        R, ab = self.cfg.rows, self.cfg.acc_bits
        M, N = self.tx.m, self.tx.n
        NT = -(-N // R)
        n = len(chunks)
        bits = np.unpackbits(np.ascontiguousarray(chunks, dtype="<u4").view(np.uint8)
                             .reshape(n, -1), axis=1, bitorder="little")
        raw = (bits[:, :R * ab].reshape(n, R, ab).astype(np.int64)
               << np.arange(ab, dtype=np.int64)).sum(axis=2)
        got = np.stack([raw - ((raw >> (ab - 1)) << ab),            # two's complement
                        bits[:, R * ab:R * ab + R], bits[:, R * ab + R:R * ab + 2 * R]])
        word_idx = self.words + np.arange(n)
        extra = word_idx >= NT * M
        token = word_idx % M
        col = np.minimum(word_idx // M, NT - 1)[:, None] * R + np.arange(R)
        live = (col < N) & ~extra[:, None]
        safe = np.minimum(col, N - 1)
        want = np.stack([np.where(live, np.asarray(f)[token[:, None], safe], 0).astype(np.int64)
                         for f in (self.expected.out, self.expected.overflow,
                                   self.expected.saturated)])
        bad = (want != got) & live[None]
        self.checked += int(live.sum())
        self.words += n
        # the reference's order: word by word, row by row, value/overflow/saturated; an extra
        # word is one failure at row -1
        w_idx, r_idx, f_idx = np.nonzero(bad.transpose(1, 2, 0))
        x_idx = np.nonzero(extra)[0]
        keys = np.concatenate([w_idx * (3 * R + 3) + 3 + r_idx * 3 + f_idx, x_idx * (3 * R + 3)])
        first = np.argsort(keys, kind="stable")[:max(0, 10 - len(self.mismatches))]
        for e in first:
            if e >= len(w_idx):
                w = int(x_idx[e - len(w_idx)])
                word = int.from_bytes(np.ascontiguousarray(chunks[w], dtype="<u4").tobytes(),
                                      "little")
                self.mismatches.append(Mismatch(int(token[w]), -1, "extra word", 0, word,
                                                int(cycles[w])))
            else:
                w, r, f = int(w_idx[e]), int(r_idx[e]), int(f_idx[e])
                self.mismatches.append(Mismatch(int(token[w]), int(col[w, r]),
                                                ("value", "overflow", "saturated")[f],
                                                int(want[f, w, r]), int(got[f, w, r]),
                                                int(cycles[w])))
        self.mismatch_count += len(keys)
        for name, n in (("value", bad[0].sum()), ("overflow", bad[1].sum()),
                        ("saturated", bad[2].sum()), ("extra word", len(x_idx))):
            if n:
                self.field_counts[name] = self.field_counts.get(name, 0) + int(n)

    def _fail(self, token, output, name, expected, got, cycle):
        self.field_counts[name] = self.field_counts.get(name, 0) + 1
        self.mismatch_count += 1
        if len(self.mismatches) < 10:
            self.mismatches.append(Mismatch(token, output, name, expected, got, cycle))

    @property
    def expected_words(self) -> int:
        return result_word_count(self.cfg, self.tx.m, self.tx.n)
