"""The environment shared by the whole-accelerator proofs: a tiny config, free inputs, and
white-box access to the controller.

The design under test is the real :class:`ternhw.hdl.TernaryAccelerator` of a small
``AcceleratorConfig`` (power-of-two array, tiny buffers so that the ring wraps and the error
paths are reachable within a few clocks). Its inputs are ``AnySeq`` values the solver chooses
every clock, narrowed by ``Assume`` only where the environment really promises something (no
reset mid-proof; command dimensions small enough for a bounded search). The accelerator is
elaborated here, once, so that the harness can read its controller's ``issue``/``waiting``
ports: the counter properties are stated against them.
"""

from __future__ import annotations

from amaranth import Elaboratable, Module, ResetSignal, Signal, unsigned
from amaranth.asserts import AnySeq
from amaranth.hdl import Assume

from ..config import AcceleratorConfig
from ..hdl.accelerator import TernaryAccelerator
from ..hdl.requant import SHIFT_BITS
from ..model.contract import REQUANT_MULT_BITS

#: the default proof config: 2x2 ternary lanes, 2-bit activations, the narrowest accumulator,
#: a 4-word weight ring and activation buffer (two tiles of two chunks), one requantizer
FORMAL_CONFIG = AcceleratorConfig(
    name="formal", rows=2, cols=2, act_bits=2, acc_bits=8, overflow="wrap",
    weight_format="2bit", weight_buffer_depth=4, act_buffer_depth=4, requant_lanes=1)

#: default bounds of the command dimensions the solver may choose (0 included: an error)
DIM_LIMITS = {"m": 3, "k": 6, "n": 4}


def _log2(x: int) -> int:
    if x & (x - 1):
        raise ValueError(f"the formal harness needs power-of-two rows and cols, not {x}")
    return x.bit_length() - 1


def ceil_div_pow2(value, divisor: int):
    """``ceil(value / divisor)`` for a power-of-two ``divisor`` (no divider in the harness)."""
    sh = _log2(divisor)
    return (value + (divisor - 1)) >> sh


class AcceleratorEnv(Elaboratable):
    """Base class: builds the accelerator, drives its inputs from ``AnySeq`` and counts.

    Subclasses override :meth:`properties` to add their ``Assert``s.

    Parameters
    ----------
    config : AcceleratorConfig
        Power-of-two ``rows`` and ``cols``.
    dim_limits : dict
        Largest ``m``, ``k``, ``n`` a command may carry (the solver picks any value from 0).
    full_rate : bool
        Input streams always valid and ``o_res`` always ready (the cycle model's assumption);
        otherwise every ``valid`` and ``ready`` is free each clock.
    fitting_only : bool
        Assume every command fits the buffers (as ``ternhw.model.cycles.check_fits`` makes the
        host ensure). Commands that fail at once (a zero dimension, a shift above 47,
        ``keep_weights`` without a matching resident matrix) stay allowed; False also allows
        the ones the RTL aborts mid-run (activations beyond the buffer, a tile or resident
        matrix beyond the ring).
    fault : str or None
        Build a ``ternhw.hdl.faults`` variant, to show a proof fails on it.

    Attributes set during ``elaborate`` (for :meth:`properties`): ``dut``, ``ctrl``, ``cmd``
    (the latched command: ``m``, ``k``, ``n``, ``bias_en``, ``resident``, ``keep``),
    ``idle_start``, ``cycle`` (clocks since the latest accepted start, saturating).
    """

    def __init__(self, config: AcceleratorConfig = FORMAL_CONFIG, *,
                 dim_limits: dict | None = None, full_rate: bool = False,
                 fitting_only: bool = True, fault: str | None = None):
        _log2(config.rows)
        _log2(config.cols)
        self.config = config
        self.dim_limits = {**DIM_LIMITS, **(dim_limits or {})}
        self.full_rate = full_rate
        self.fitting_only = fitting_only
        self.fault = fault

    # -- the environment ----------------------------------------------------------------
    def drive_command(self, m: Module, dut: TernaryAccelerator) -> None:
        """Any command, any clock (``start`` while busy is ignored by the design)."""
        cmd = dut.cmd
        self.raw = {}
        for name in ("m", "k", "n"):
            limit = self.dim_limits[name]
            value = Signal(range(limit + 1), name=f"any_{name}")
            m.d.comb += [value.eq(AnySeq(unsigned(limit.bit_length()))),
                         getattr(cmd, name).eq(value), Assume(value <= limit)]
            self.raw[name] = value
        for name in ("start", "bias_en", "resident", "keep_weights", "requant_en", "relu"):
            m.d.comb += getattr(cmd, name).eq(AnySeq(1))
        m.d.comb += [cmd.multiplier.eq(AnySeq(unsigned(REQUANT_MULT_BITS))),
                     cmd.shift.eq(AnySeq(unsigned(SHIFT_BITS)))]

    def drive_streams(self, m: Module, dut: TernaryAccelerator) -> None:
        for s in (dut.i_act, dut.i_wgt, dut.i_bias):
            m.d.comb += [s.valid.eq(1 if self.full_rate else AnySeq(1)),
                         s.payload.eq(AnySeq(len(s.payload)))]
        m.d.comb += dut.o_res.ready.eq(1 if self.full_rate else AnySeq(1))

    def properties(self, m: Module) -> None:
        raise NotImplementedError

    # -- elaboration ---------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        self.dut = dut = TernaryAccelerator(cfg, fault=self.fault)
        # elaborate once here (not as a submodule, which would elaborate it again) so that the
        # controller built inside is the one whose ports the properties read
        body = dut.elaborate(platform)
        dut._MustUse__used = True       # used through its elaborated body
        m.submodules.dut = body
        self.ctrl = body.submodules.ctrl
        m.d.comb += Assume(~ResetSignal("sync"))
        self.drive_command(m, dut)
        self.drive_streams(m, dut)

        self.idle_start = idle_start = dut.cmd.start & ~dut.status.busy
        lim = self.dim_limits
        self.cmd = c = {
            "m": Signal(range(lim["m"] + 1), name="cmd_m"),
            "k": Signal(range(lim["k"] + 1), name="cmd_k"),
            "n": Signal(range(lim["n"] + 1), name="cmd_n"),
            "bias_en": Signal(name="cmd_bias_en"), "resident": Signal(name="cmd_resident"),
            "keep": Signal(name="cmd_keep"),
        }
        with m.If(idle_start):
            m.d.sync += [c["m"].eq(self.raw["m"]), c["k"].eq(self.raw["k"]),
                         c["n"].eq(self.raw["n"]),
                         c["bias_en"].eq(dut.cmd.bias_en), c["resident"].eq(dut.cmd.resident),
                         c["keep"].eq(dut.cmd.keep_weights)]
        self.T = ceil_div_pow2(c["k"], cfg.cols)
        self.NT = ceil_div_pow2(c["n"], cfg.rows)
        self.cycle = cycle = Signal(range(256), name="cycles_since_start")
        with m.If(idle_start):
            m.d.sync += cycle.eq(1)
        with m.Elif((cycle != 0) & (cycle != 255)):
            m.d.sync += cycle.eq(cycle + 1)
        if self.fitting_only:
            # the narrow values the solver picked, not the 16-bit ports: small multipliers
            cm, ck, cn = self.raw["m"], self.raw["k"], self.raw["n"]
            T, NT = ceil_div_pow2(ck, cfg.cols), ceil_div_pow2(cn, cfg.rows)
            fits = ((cm * T <= cfg.act_buffer_depth) & (T <= cfg.weight_buffer_depth)
                    & (~dut.cmd.resident | (NT * T <= cfg.weight_buffer_depth)))
            m.d.comb += Assume(~idle_start | fits)
        self.properties(m)
        return m
