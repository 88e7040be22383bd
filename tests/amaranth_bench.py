"""Drive a TernaryAccelerator through Amaranth's simulator, one transaction at a time.

A small driver/monitor in one loop: each clock it offers the next word on every input stream
(withholding ``valid`` at random, or until the word's arrival cycle), sets ``o_res.ready``
(optionally withholding it), samples the handshakes, and records results and the cycle
``status.done`` rises. Several transactions run back to back on one design, so a command can
reuse the weights a previous one left resident.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from amaranth.sim import Simulator

from ternhw.hdl import TernaryAccelerator
from ternhw.hdl.transactions import GemmTransaction

STATUS = ("error", "cycles", "busy_cycles", "stall_cycles", "hold_cycles", "zero_skips",
          "overflow_events")


@dataclass
class BenchResult:
    words: list[int]
    cycles: int            # from the cycle after start to the done cycle, inclusive
    status: dict[str, int]


def run_transactions(cfg, txs: list[GemmTransaction], *, seed: int = 0, p_valid: float = 1.0,
                     p_ready: float = 1.0, arrivals: dict | None = None,
                     max_cycles: int = 200_000,
                     dut: TernaryAccelerator | None = None) -> list[BenchResult]:
    """``arrivals`` maps 'act' / 'wgt' / 'bias' to per-word arrival cycles (counted from the
    first cycle after ``start``): a deterministic bandwidth model instead of ``p_valid``."""
    dut = dut or TernaryAccelerator(cfg)
    rng = random.Random(seed)
    results: list[BenchResult] = []
    arrivals = arrivals or {}

    async def bench(ctx):
        for tx in txs:
            streams = {"act": (dut.i_act, list(tx.act_words)),
                       "wgt": (dut.i_wgt, list(tx.weight_words)),
                       "bias": (dut.i_bias, list(tx.bias_words))}
            sent = dict.fromkeys(streams, 0)
            for name, value in tx.command().items():
                ctx.set(getattr(dut.cmd, name), value)
            ctx.set(dut.cmd.start, 1)
            await ctx.tick()
            ctx.set(dut.cmd.start, 0)
            words, cycles = [], 0
            while True:
                c = cycles
                cycles += 1
                for name, (port, q) in streams.items():
                    arr = arrivals.get(name)
                    if arr is not None:
                        offer = bool(q) and arr[sent[name]] <= c
                    else:
                        offer = bool(q) and rng.random() < p_valid
                    ctx.set(port.valid, int(offer))
                    if offer:
                        ctx.set(port.payload, q[0])
                ctx.set(dut.o_res.ready, int(rng.random() < p_ready))
                taken = [name for name, (port, q) in streams.items()
                         if q and ctx.get(port.valid) and ctx.get(port.ready)]
                if ctx.get(dut.o_res.valid) and ctx.get(dut.o_res.ready):
                    words.append(ctx.get(dut.o_res.payload.as_value()))
                done = ctx.get(dut.status.done)
                await ctx.tick()
                for name in taken:
                    streams[name][1].pop(0)
                    sent[name] += 1
                if done:
                    break
                if cycles > max_cycles:
                    raise RuntimeError(f"no done after {max_cycles} cycles")
            for port, _ in streams.values():
                ctx.set(port.valid, 0)
            await ctx.tick()
            results.append(BenchResult(words, cycles, {
                n: ctx.get(getattr(dut.status, n)) for n in STATUS}))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return results


def run_transaction(cfg, tx: GemmTransaction, **kwargs) -> BenchResult:
    return run_transactions(cfg, [tx], **kwargs)[0]
