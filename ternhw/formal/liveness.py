"""Bounded liveness: a command with full-rate streams finishes exactly when the cycle model says.

:class:`BoundedLiveness` starts one command in the first clock, with every input stream valid
every clock and ``o_res`` always ready (the assumptions of ``ternhw.model.cycles``), and lets
the solver choose any shape in a small domain that fits the buffers (``M``, ``K``, ``N``,
bias, resident), any payloads and any requantization. The expected count of every shape is a
table filled from :func:`ternhw.model.cycles.gemm_cycles` (closed form where it applies, the
cycle-level model :mod:`ternhw.model.timing` elsewhere), so the proof holds the RTL to the
model itself. It asserts: ``status.done`` rises in exactly clock ``total`` after ``start``
(not earlier: no command ends before its work; not later: it cannot hang), without
``error``, and with ``busy_cycles`` = the model's compute clocks and ``stall_cycles`` = its
wait clocks.
"""

from __future__ import annotations

import itertools

from amaranth import Module, Signal, unsigned
from amaranth.asserts import AnyConst
from amaranth.hdl import Assert, Assume

from ..errors import TernhwError
from ..hdl.requant import SHIFT_BITS
from ..model.contract import REQUANT_MAX_SHIFT, REQUANT_MULT_BITS
from ..model.cycles import gemm_cycles
from .harness import AcceleratorEnv


def expected_cycles(cfg, dim_limits: dict) -> dict[tuple, tuple[int, int, int]]:
    """``{(m, k, n, bias, resident): (total, compute, wait)}`` from the model, for every shape
    within ``dim_limits`` that one command can run (``check_fits``)."""
    table = {}
    for m_, k, n, bias, res in itertools.product(
            range(1, dim_limits["m"] + 1), range(1, dim_limits["k"] + 1),
            range(1, dim_limits["n"] + 1), (0, 1), (0, 1)):
        try:
            b = gemm_cycles(cfg, m_, k, n, bool(bias), resident=bool(res))
        except TernhwError:
            continue
        table[(m_, k, n, bias, res)] = (b.total, b.compute, b.wait)
    return table


class BoundedLiveness(AcceleratorEnv):
    """One command from clock 0 under full-rate streams; ``done`` exactly at the model's count."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("full_rate", True)
        super().__init__(*args, **kwargs)
        self.table = expected_cycles(self.config, self.dim_limits)

    def drive_command(self, m: Module, dut) -> None:
        cmd = dut.cmd
        first = Signal(init=1, name="first_clock")
        m.d.sync += first.eq(0)
        self.raw = {}
        for name in ("m", "k", "n"):
            limit = self.dim_limits[name]
            value = Signal(range(limit + 1), name=f"any_{name}")
            m.d.comb += [value.eq(AnyConst(unsigned(limit.bit_length()))),
                         getattr(cmd, name).eq(value)]
            self.raw[name] = value
        shift = AnyConst(unsigned(SHIFT_BITS))
        m.d.comb += [cmd.start.eq(first), cmd.bias_en.eq(AnyConst(1)),
                     cmd.resident.eq(AnyConst(1)), cmd.keep_weights.eq(0),
                     cmd.requant_en.eq(AnyConst(1)), cmd.relu.eq(AnyConst(1)),
                     cmd.multiplier.eq(AnyConst(unsigned(REQUANT_MULT_BITS))),
                     cmd.shift.eq(shift), Assume(shift <= REQUANT_MAX_SHIFT)]

    def properties(self, m: Module) -> None:
        st, c = self.dut.status, self.cmd
        top = max(t for t, _, _ in self.table.values())
        total = Signal(range(top + 1), name="model_total")
        compute = Signal(range(top + 1), name="model_compute")
        wait = Signal(range(top + 1), name="model_wait")
        known = Signal(name="shape_in_table")
        key = (c["m"], c["k"], c["n"], c["bias_en"], c["resident"])
        for shape, (t, comp, w) in self.table.items():
            with m.If(_match(key, shape)):
                m.d.comb += [known.eq(1), total.eq(t), compute.eq(comp), wait.eq(w)]
        # the solver's shape is one the model runs (fixed from clock 0, AnyConst)
        started = self.cycle != 0
        m.d.comb += Assume(~started | known)
        with m.If(started & (self.cycle == total)):
            m.d.comb += [Assert(st.done), Assert(~st.error),
                         Assert(st.busy_cycles == compute), Assert(st.stall_cycles == wait)]
        with m.If(st.done):
            m.d.comb += Assert(started & (self.cycle == total))


def _match(key, shape):
    cond = None
    for sig, val in zip(key, shape, strict=True):
        term = sig == val
        cond = term if cond is None else cond & term
    return cond
