"""The exact cycle model of the generated accelerator (``docs/microarchitecture.md``).

With input streams that offer a word every clock and an output that is always ready, the three
loaders run ahead of the array and one array step issues per clock from cycle 1 (the first
activation and weight words are written in cycle 0) until the last, so a command takes::

    cycles = 1 + NT x M x T + hold + drain(G) + 1

where ``T = ceil(K / cols)`` chunks, ``NT = ceil(N / rows)`` tiles, ``G = ceil(rows /
requant_lanes)`` clocks to requantize a token, ``drain(G) = G + REQUANT_STAGES + ARRAY_STAGES +
4`` (the array registers, hand-off, ``G`` feeds, the requantizer registers, output word, output
register, pipeline-empty check) and the last 1 is the ``done`` cycle. ``hold = 0`` when a token
takes at least as long as its requantization (``T >= G``) and the weight ring holds two tiles
(or the whole matrix, when it stays resident), and with bias ``M x T >= ARRAY_STAGES``. This
closed form is used where those conditions hold and the cycle-level model
:func:`ternhw.model.timing.simulate_command` (which the tests hold it to) everywhere else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..config import AcceleratorConfig
from ..errors import TernhwError
from .timing import ARRAY_STAGES, REQUANT_STAGES, simulate_command

#: clocks after the last array step until ``done``, less the requantizer's ``G`` feeds
DRAIN_FIXED = REQUANT_STAGES + ARRAY_STAGES + 4


@dataclass(frozen=True)
class CycleBreakdown:
    """Cycles of one command. ``compute`` is the array steps; ``wait`` the running cycles in
    which no step could issue (the first words arriving, a starved ring, output hold);
    ``drain`` the cycles from the last step to ``done`` inclusive; ``hold`` the cycles of
    ``wait`` in which the output stage held the pipeline."""

    compute: int
    wait: int
    drain: int
    total: int
    macs: int
    lanes: int
    hold: int = 0

    @property
    def utilization(self) -> float:
        """Useful MACs per lane-cycle over the whole command."""
        return self.macs / (self.total * self.lanes)

    def to_dict(self) -> dict:
        return {**asdict(self), "utilization": self.utilization}


def check_fits(cfg: AcceleratorConfig, m: int, k: int, n: int, *,
               resident: bool = False) -> None:
    """Raise unless one command of this shape fits the buffers and the 16-bit dimensions."""
    for name, v in (("M", m), ("K", k), ("N", n)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 0xFFFF:
            raise TernhwError(f"{name} must be an integer in [1, 65535], not {v!r}")
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    if T > cfg.weight_buffer_depth:
        raise TernhwError(f"K = {k} needs {T} weight words per tile but config {cfg.name!r} has "
                          f"weight_buffer_depth = {cfg.weight_buffer_depth}")
    if resident and NT * T > cfg.weight_buffer_depth:
        raise TernhwError(f"a resident {n}x{k} matrix needs {NT * T} weight words but config "
                          f"{cfg.name!r} has weight_buffer_depth = {cfg.weight_buffer_depth}")
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


def fits_resident(cfg: AcceleratorConfig, k: int, n: int) -> bool:
    """Whether a ``n x k`` matrix fits the weight buffer whole (and can stay resident)."""
    return -(-n // cfg.rows) * -(-k // cfg.cols) <= cfg.weight_buffer_depth


def closed_form_applies(cfg: AcceleratorConfig, m: int, k: int, n: int, *, bias: bool,
                        resident: bool, keep_weights: bool) -> bool:
    """Whether the closed form is exact for this command (full-rate streams). With bias, a tile
    must issue for at least ``ARRAY_STAGES`` clocks: the next-but-one tile's bias shares its
    bank, which is reloaded only once no step between issue and accumulation still needs it."""
    T = -(-k // cfg.cols)
    ring_ok = resident or keep_weights or 2 * T <= cfg.weight_buffer_depth
    return ring_ok and T >= cfg.requant_groups and (not bias or m * T >= ARRAY_STAGES)


def gemm_cycles(cfg: AcceleratorConfig, m: int, k: int, n: int, bias: bool = False, *,
                resident: bool = False, keep_weights: bool = False) -> CycleBreakdown:
    """Exact cycles of one ``M x K x N`` command with full-rate input streams and an always
    ready output."""
    check_fits(cfg, m, k, n, resident=resident or keep_weights)
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    steps = NT * m * T
    G = cfg.requant_groups
    if closed_form_applies(cfg, m, k, n, bias=bias, resident=resident,
                           keep_weights=keep_weights):
        wait, last_issue, hold = 1, steps, 0
        total = 1 + steps + G + DRAIN_FIXED + 1
    else:
        sim = simulate_command(cfg, m, k, n, bias=bias, resident=resident,
                               keep_weights=keep_weights)
        wait, last_issue, total = sim.stall_cycles, sim.last_issue, sim.cycles
        hold = sim.hold_cycles
    return CycleBreakdown(steps, wait, total - last_issue, total, m * k * n, cfg.lanes, hold)
