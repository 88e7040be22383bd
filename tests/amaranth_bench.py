"""Drive a TernaryAccelerator through Amaranth's simulator, one transaction at a time.

A small driver/monitor in one loop: each clock it offers the next word on every input stream
(optionally withholding ``valid``), sets ``o_res.ready`` (optionally withholding it), samples the
handshakes, and records results and the cycle ``status.done`` rises.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from amaranth.sim import Simulator

from ternhw.hdl import TernaryAccelerator
from ternhw.hdl.transactions import GemmTransaction


@dataclass
class BenchResult:
    words: list[int]
    cycles: int            # from the cycle after start to the done cycle, inclusive
    status: dict[str, int]


def run_transaction(cfg, tx: GemmTransaction, *, seed: int = 0, p_valid: float = 1.0,
                    p_ready: float = 1.0, max_cycles: int = 200_000,
                    dut: TernaryAccelerator | None = None) -> BenchResult:
    dut = dut or TernaryAccelerator(cfg)
    rng = random.Random(seed)
    result: dict = {}

    async def bench(ctx):
        queues = {dut.i_act: list(tx.act_words), dut.i_wgt: list(tx.weight_words),
                  dut.i_bias: list(tx.bias_words)}
        for name, value in tx.command().items():
            ctx.set(getattr(dut.cmd, name), value)
        ctx.set(dut.cmd.start, 1)
        await ctx.tick()
        ctx.set(dut.cmd.start, 0)
        words, cycles = [], 0
        while True:
            cycles += 1
            for port, q in queues.items():
                offer = bool(q) and rng.random() < p_valid
                ctx.set(port.valid, int(offer))
                if offer:
                    ctx.set(port.payload, q[0])
            ctx.set(dut.o_res.ready, int(rng.random() < p_ready))
            taken = [port for port, q in queues.items()
                     if q and ctx.get(port.valid) and ctx.get(port.ready)]
            if ctx.get(dut.o_res.valid) and ctx.get(dut.o_res.ready):
                words.append(ctx.get(dut.o_res.payload.as_value()))
            done = ctx.get(dut.status.done)
            await ctx.tick()
            for port in taken:
                queues[port].pop(0)
            if done:
                break
            if cycles > max_cycles:
                raise RuntimeError(f"no done after {max_cycles} cycles")
        result["words"] = words
        result["cycles"] = cycles
        result["status"] = {n: ctx.get(getattr(dut.status, n)) for n in (
            "error", "cycles", "busy_cycles", "stall_cycles", "zero_skips", "overflow_events")}

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return BenchResult(result["words"], result["cycles"], result["status"])
