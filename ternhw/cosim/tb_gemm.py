"""The cocotb test module: runs a job of GEMMs on the accelerator and checks every output.

Loaded by cocotb by module name (``ternhw.cosim.tb_gemm``), never collected by pytest. The job
directory named by ``TERNHW_COSIM_JOB`` holds ``job.json`` (config, cases, options) and
``job.npz`` (operands); the test writes ``result.json`` there and fails if any output, flag,
cycle count or counter disagrees with ``ternhw.model``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge, with_timeout
from cocotb.utils import get_sim_time

from ..config import config_from_dict
from ..model import Requant
from ..model.cycles import gemm_cycles
from ..model.timing import simulate_command, stream_arrivals
from .bfm import GemmModel, ResultMonitor, Scoreboard, StreamDriver

CLOCK_NS = 10
COUNTERS = ("cycles", "busy_cycles", "stall_cycles", "hold_cycles", "zero_skips",
            "overflow_events")


def predicted_timing(cfg, tx, case, has_bias, wgt_arrivals):
    """``(cycles, stall_cycles)`` the model predicts for this case's streams (full rate, or
    weights arriving at ``wgt_arrivals``), or None where the handshakes are random (then only
    the full-rate count is a lower bound)."""
    flags = {"bias": has_bias, "resident": tx.resident, "keep_weights": tx.keep_weights}
    if case.get("p_ready", 1.0) < 1.0 or case.get("p_valid", 1.0) < 1.0:
        return None
    if wgt_arrivals is not None:
        t = simulate_command(cfg, tx.m, tx.k, tx.n, wgt_arrivals=wgt_arrivals, **flags)
        return t.cycles, t.stall_cycles
    c = gemm_cycles(cfg, tx.m, tx.k, tx.n, **flags)
    return c.total, c.wait


def _load_job():
    job_dir = Path(os.environ["TERNHW_COSIM_JOB"])
    job = json.loads((job_dir / "job.json").read_text())
    with np.load(job_dir / "job.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return job_dir, job, arrays


def _progress(job_dir: Path, **state) -> None:
    tmp = job_dir / "progress.json.tmp"
    tmp.write_text(json.dumps(state))
    tmp.replace(job_dir / "progress.json")


@cocotb.test()
async def run_job(dut):
    job_dir, job, arrays = _load_job()
    cfg = config_from_dict(job["config"])
    model = GemmModel(cfg)
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    for name in ("i_act__valid", "i_wgt__valid", "i_bias__valid", "o_res__ready",
                 "cmd__start"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    def now_cycle() -> int:
        return int(get_sim_time("ns") // CLOCK_NS)

    results = []
    total_cycles = 0
    wall = 0.0
    for idx, case in enumerate(job["cases"]):
        x = arrays[f"{idx}.x"]
        w = arrays[f"{idx}.w"]
        bias = arrays.get(f"{idx}.bias")
        rq = Requant(**case["requant"]) if case.get("requant") else None
        tx, expected = model.prepare(x, w, bias, rq, resident=case.get("resident", False),
                                     keep_weights=case.get("keep_weights", False))
        sb = Scoreboard(cfg, tx, expected)
        seed = case.get("seed", 0)
        words_total = sb.expected_words

        def on_word(word, cycle, sb=sb, idx=idx, words_total=words_total):
            sb.receive(word, cycle)
            if sb.words % 64 == 0 or sb.words == words_total:
                _progress(job_dir, case=idx, cases=len(job["cases"]), words=sb.words,
                          expected_words=words_total)

        monitor = ResultMonitor(dut.clk, dut.o_res__valid, dut.o_res__ready, dut.o_res__payload,
                                on_word, p_ready=case.get("p_ready", 1.0), seed=seed + 1,
                                cycle_of=now_cycle)
        wgt_arrivals = None
        if case.get("wgt_bytes_per_clock"):
            wgt_arrivals = stream_arrivals(len(tx.weight_words), cfg.weight_word_bits,
                                           case["wgt_bytes_per_clock"],
                                           case.get("wgt_latency", 0))
        drivers = [StreamDriver(dut.clk, getattr(dut, f"{s}__valid"), getattr(dut, f"{s}__ready"),
                                getattr(dut, f"{s}__payload"), p_valid=case.get("p_valid", 1.0),
                                seed=seed + 2 + k, cycle_of=now_cycle,
                                arrivals=wgt_arrivals if s == "i_wgt" else None)
                   for k, s in enumerate(("i_act", "i_wgt", "i_bias"))]
        has_bias = bias is not None
        ideal = gemm_cycles(cfg, tx.m, tx.k, tx.n, bias=has_bias, resident=tx.resident,
                            keep_weights=tx.keep_weights).total
        predicted = predicted_timing(cfg, tx, case, has_bias, wgt_arrivals)
        model_cycles = ideal if predicted is None else predicted[0]
        t_wall = time.perf_counter()
        tasks = [cocotb.start_soon(monitor.run())]
        tasks += [cocotb.start_soon(d.send(words)) for d, words in
                  zip(drivers, (tx.act_words, tx.weight_words, tx.bias_words), strict=True)]
        for name, value in tx.command().items():
            getattr(dut, f"cmd__{name}").value = value
        dut.cmd__start.value = 1
        for d in drivers:
            d.epoch = now_cycle() + 1          # the command's first cycle
        await RisingEdge(dut.clk)
        start_cycle = now_cycle()
        dut.cmd__start.value = 0
        timeout = (20 * model_cycles + 10_000) * CLOCK_NS
        timed_out = False
        try:
            await with_timeout(RisingEdge(dut.status__done), timeout, "ns")
        except TimeoutError:
            timed_out = True
        done_cycle = now_cycle()
        await ReadOnly()
        error = int(dut.status__error.value)
        await RisingEdge(dut.clk)
        await ReadOnly()
        counters = {c: int(getattr(dut, f"status__{c}").value) for c in COUNTERS}
        elapsed = time.perf_counter() - t_wall
        await RisingEdge(dut.clk)
        for t in tasks:
            t.cancel()
        left = {s: len(words) - d.sent for s, d, words in
                zip(("act", "weight", "bias"), drivers,
                    (tx.act_words, tx.weight_words, tx.bias_words), strict=True)}
        cycles_tb = done_cycle - start_cycle + 1
        problems = []
        if timed_out:
            problems.append(f"timeout: no done within {timeout // CLOCK_NS} cycles")
        if error:
            problems.append("the design raised status.error")
        if sb.words != words_total:
            problems.append(f"{sb.words} result words, expected {words_total}")
        if any(left.values()):
            problems.append(f"input words not consumed: {left}")
        ev = expected.events
        want = {"busy_cycles": ev.array_steps, "zero_skips": ev.lane_skip,
                "overflow_events": ev.overflow_events}
        if predicted is not None:
            want.update(cycles=predicted[0], stall_cycles=predicted[1])
        counter_mismatch = {k: {"rtl": counters[k], "model": v} for k, v in want.items()
                            if counters[k] != v}
        if counters["cycles"] < ideal:
            counter_mismatch["cycles_below_full_rate"] = {"rtl": counters["cycles"],
                                                          "model": ideal}
        if cycles_tb != counters["cycles"]:
            counter_mismatch["cycles_measured"] = {"rtl": cycles_tb, "model": counters["cycles"]}
        first = sb.mismatches[0] if sb.mismatches else None
        results.append({
            "name": case.get("name", f"case{idx}"),
            "m": tx.m, "k": tx.k, "n": tx.n,
            "outputs_checked": sb.checked,
            "mismatches": sb.mismatch_count,
            "first_mismatch": None if first is None else vars(first),
            "cycles_rtl": counters["cycles"],
            "cycles_model": None if predicted is None else predicted[0],
            "cycles_full_rate": ideal,
            "stall_cycles": counters["stall_cycles"],
            "stall_cycles_model": None if predicted is None else predicted[1],
            "resident": tx.resident, "keep_weights": tx.keep_weights,
            "counters": counters,
            "counter_mismatches": counter_mismatch,
            "problems": problems,
            "wall_s": elapsed,
        })
        total_cycles += counters["cycles"]
        wall += elapsed
    doc = {"config": cfg.name, "cases": results, "sim_cycles": total_cycles, "wall_s": wall,
           "sim_cycles_per_s": total_cycles / wall if wall > 0 else 0.0}
    (job_dir / "result.json").write_text(json.dumps(doc, indent=2))
    bad = [r["name"] for r in results
           if r["mismatches"] or r["problems"] or r["counter_mismatches"]]
    assert not bad, f"co-simulation disagrees with ternhw.model in: {', '.join(bad)}"
