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
from .bfm import GemmModel, ResultMonitor, Scoreboard, StreamDriver
from .check import COUNTERS, CommandTiming, case_result, failed_cases
from .runner import offered_words

CLOCK_NS = 10


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
        timing = CommandTiming(cfg, tx, case, bias is not None)
        wgt_arrivals = timing.wgt_arrivals
        drivers = [StreamDriver(dut.clk, getattr(dut, f"{s}__valid"), getattr(dut, f"{s}__ready"),
                                getattr(dut, f"{s}__payload"), p_valid=case.get("p_valid", 1.0),
                                seed=seed + 2 + k, cycle_of=now_cycle,
                                arrivals=wgt_arrivals if s == "i_wgt" else None)
                   for k, s in enumerate(("i_act", "i_wgt", "i_bias"))]
        t_wall = time.perf_counter()
        tasks = [cocotb.start_soon(monitor.run())]
        offered = offered_words(cfg, tx, case.get("overrun", 0),
                                case.get("invalid_weight_code", False))
        tasks += [cocotb.start_soon(d.send(words)) for d, words in
                  zip(drivers, offered, strict=True)]
        for name, value in tx.command().items():
            getattr(dut, f"cmd__{name}").value = value
        dut.cmd__start.value = 1
        for d in drivers:
            d.epoch = now_cycle() + 1          # the command's first cycle
        await RisingEdge(dut.clk)
        start_cycle = now_cycle()
        dut.cmd__start.value = 0
        timeout = timing.timeout_cycles * CLOCK_NS
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
                zip(("act", "weight", "bias"), drivers, offered, strict=True)}
        results.append(case_result(
            case.get("name", f"case{idx}"), tx, expected, timing, sb, counters=counters,
            cycles_measured=None if timed_out else done_cycle - start_cycle + 1,
            error=bool(error), words_left=left, protocol=monitor.violations, wall_s=elapsed,
            overrun=case.get("overrun", 0),
            expect_error=case.get("invalid_weight_code", False) or case.get("rejected", False),
            rejected=case.get("rejected", False)))
        total_cycles += counters["cycles"]
        wall += elapsed
    doc = {"config": cfg.name, "cases": results, "sim_cycles": total_cycles, "wall_s": wall,
           "sim_cycles_per_s": total_cycles / wall if wall > 0 else 0.0}
    (job_dir / "result.json").write_text(json.dumps(doc, indent=2))
    bad = failed_cases(results)
    assert not bad, f"co-simulation disagrees with ternhw.model in: {', '.join(bad)}"
