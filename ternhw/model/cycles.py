"""The exact cycle model of the generated accelerator (``docs/microarchitecture.md``).

With input streams that always offer data and an output that is always ready, a command takes
exactly::

    load activations    M x T                      one word per clock
    per N-tile          b + T + M x T              bias word (b = 1 with bias), weight words,
                                                   one array step per clock
    drain               5                          stage 1, stage 2, accumulate, output
                                                   register, pipeline-empty check
    done                1

cycles, counted from the clock after ``start`` to the one with ``status.done`` inclusive, where
``T = ceil(K / cols)`` and ``NT = ceil(N / rows)`` tiles. Every cycle in which an input stream
is starved or output back-pressure stops the pipeline adds one (``status.stall_cycles``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..config import AcceleratorConfig
from ..errors import TernhwError

DRAIN_CYCLES = 5
DONE_CYCLES = 1


@dataclass(frozen=True)
class CycleBreakdown:
    load_activations: int
    load_bias: int
    load_weights: int
    compute: int
    drain: int
    total: int
    array_steps: int
    macs: int
    lanes: int

    @property
    def utilization(self) -> float:
        """Useful MACs per lane-cycle over the whole command."""
        return self.macs / (self.total * self.lanes)

    def to_dict(self) -> dict:
        return {**asdict(self), "utilization": self.utilization}


def check_fits(cfg: AcceleratorConfig, m: int, k: int, n: int) -> None:
    """Raise unless one command of this shape fits the buffers and the 16-bit dimensions."""
    for name, v in (("M", m), ("K", k), ("N", n)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 0xFFFF:
            raise TernhwError(f"{name} must be an integer in [1, 65535], not {v!r}")
    T = -(-k // cfg.cols)
    if T > cfg.weight_buffer_depth:
        raise TernhwError(f"K = {k} needs {T} weight words per tile but config {cfg.name!r} has "
                          f"weight_buffer_depth = {cfg.weight_buffer_depth}")
    if m * T > cfg.act_buffer_depth:
        raise TernhwError(f"M x ceil(K / cols) = {m} x {T} = {m * T} activation words exceed "
                          f"act_buffer_depth = {cfg.act_buffer_depth} of config {cfg.name!r}; "
                          f"split the tokens into batches of at most {max_tokens(cfg, k)}")


def max_tokens(cfg: AcceleratorConfig, k: int) -> int:
    """The most tokens one command can take for reduction length ``k``."""
    return cfg.act_buffer_depth // -(-k // cfg.cols)


def command_tokens(cfg: AcceleratorConfig, m: int, k: int) -> list[int]:
    """Token counts of the commands a host issues for ``m`` tokens of reduction length ``k``:
    batches of :func:`max_tokens`, since each command must fit the activation buffer."""
    per = max_tokens(cfg, k)
    if per == 0:
        check_fits(cfg, 1, k, 1)                    # raises with the reason
    return [min(per, m - s) for s in range(0, m, per)]


def gemm_cycles(cfg: AcceleratorConfig, m: int, k: int, n: int,
                bias: bool = False) -> CycleBreakdown:
    """Exact cycles of one ``M x K x N`` command with no stalls."""
    check_fits(cfg, m, k, n)
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    load_act = m * T
    load_bias = NT * int(bool(bias))
    load_w = NT * T
    compute = NT * m * T
    drain = DRAIN_CYCLES + DONE_CYCLES
    return CycleBreakdown(load_act, load_bias, load_w, compute, drain,
                          load_act + load_bias + load_w + compute + drain,
                          compute, m * k * n, cfg.lanes)
