"""The schedule: how a host runs a GEMM on the accelerator, command by command, and what each
command moves and costs.

One schedule feeds the cycle figures, the memory-traffic figures, the co-simulation workloads
and any host driver, so they cannot drift. The policy:

* tokens are split into commands that fit the activation buffer (``command_tokens``);
* when the whole matrix fits the weight buffer (``fits_resident``) and there is more than one
  command, the first command loads it with ``resident`` and the others reuse it with
  ``keep_weights``: each weight crosses the off-chip interface once;
* otherwise every command streams the matrix through the weight ring again, and the reload
  factor (off-chip weight bytes / unique weight bytes) is the number of commands. A larger
  ``weight_buffer_depth`` (resident) or ``act_buffer_depth`` (fewer, larger commands) lowers it;
  the report names the depth that would make a layer resident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import AcceleratorConfig
from .cycles import CycleBreakdown, command_tokens, fits_resident, gemm_cycles


@dataclass(frozen=True)
class Command:
    """One ``start`` of the accelerator: tokens ``[token_start, token_start + m)``."""

    token_start: int
    m: int
    k: int
    n: int
    bias: bool
    resident: bool
    keep_weights: bool


@dataclass
class GemmSchedule:
    """The commands of one ``M x K x N`` GEMM and their traffic (bytes) and cycles."""

    m: int
    k: int
    n: int
    bias: bool
    out_bits: int
    commands: list[Command]
    cycles: list[CycleBreakdown] = field(repr=False)
    weight_bytes: int            # read from off-chip memory
    act_bytes: int
    bias_bytes: int
    out_bytes: int               # written back
    unique_weight_bytes: int     # each weight once
    unique_act_bytes: int

    @property
    def total_cycles(self) -> int:
        return sum(c.total for c in self.cycles)

    @property
    def weight_reload_factor(self) -> float:
        return self.weight_bytes / self.unique_weight_bytes

    @property
    def act_reload_factor(self) -> float:
        return self.act_bytes / self.unique_act_bytes

    @property
    def offchip_read_bytes(self) -> int:
        return self.weight_bytes + self.act_bytes + self.bias_bytes

    def to_dict(self) -> dict:
        return {
            "m": self.m, "k": self.k, "n": self.n, "commands": len(self.commands),
            "resident": any(c.resident for c in self.commands),
            "cycles": self.total_cycles,
            "weight_bytes": self.weight_bytes, "act_bytes": self.act_bytes,
            "bias_bytes": self.bias_bytes, "out_bytes": self.out_bytes,
            "unique_weight_bytes": self.unique_weight_bytes,
            "unique_act_bytes": self.unique_act_bytes,
            "weight_reload_factor": self.weight_reload_factor,
            "act_reload_factor": self.act_reload_factor,
        }


def resident_depth_needed(cfg: AcceleratorConfig, k: int, n: int) -> int:
    """Weight-buffer words a ``n x k`` matrix needs to stay resident."""
    return -(-n // cfg.rows) * -(-k // cfg.cols)


def schedule_gemm(cfg: AcceleratorConfig, m: int, k: int, n: int, *, bias: bool = False,
                  requant: bool = True) -> GemmSchedule:
    """Commands, traffic and cycles of ``Y = X W^T (+ bias)`` for ``m`` tokens.

    Off-chip bytes count whole stream words (a weight word is ``rows x cols`` packed weights,
    an activation word ``cols`` activations, padding included), which is what the streams carry;
    outputs count one byte per int8 result with ``requant`` and ``acc_bits`` otherwise."""
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    parts = command_tokens(cfg, m, k)
    resident = len(parts) > 1 and fits_resident(cfg, k, n)
    commands, start = [], 0
    for i, mb in enumerate(parts):
        commands.append(Command(start, mb, k, n, bias, resident, resident and i > 0))
        start += mb
    cycles = [gemm_cycles(cfg, c.m, k, n, bias, resident=c.resident,
                          keep_weights=c.keep_weights) for c in commands]
    w_word = cfg.weight_word_bits / 8
    loads = sum(not c.keep_weights for c in commands)
    out_bits = 8 if requant else cfg.acc_bits
    return GemmSchedule(
        m=m, k=k, n=n, bias=bias, out_bits=out_bits, commands=commands, cycles=cycles,
        weight_bytes=round(loads * NT * T * w_word),
        act_bytes=round(m * T * cfg.act_word_bits / 8),
        bias_bytes=round(len(commands) * NT * cfg.rows * cfg.acc_bits / 8) if bias else 0,
        out_bytes=m * n * out_bits // 8,
        unique_weight_bytes=round(NT * T * w_word),
        unique_act_bytes=round(m * T * cfg.act_word_bits / 8),
    )
