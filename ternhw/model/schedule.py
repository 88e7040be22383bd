"""The schedule: how a host runs a GEMM on the accelerator, command by command, and what each
command moves and costs.

One schedule feeds the cycle figures, the memory-traffic figures, the co-simulation workloads
and any host driver, so they cannot drift. A command is an ordinary GEMM over a range of tokens
and a range of output columns (rows of ``W``); the hardware needs nothing else. The policy:

* tokens are split into commands that fit the activation buffer (``command_tokens``);
* **resident**: when the whole matrix fits the weight buffer (``fits_resident``) and there is
  more than one command, the first command loads it with ``resident`` and the others reuse it
  with ``keep_weights``: each weight crosses the off-chip interface once;
* **n-blocked**: when it does not fit, the matrix's N-tiles (``rows`` output columns, ``T =
  ceil(K / cols)`` weight words each) are grouped into column blocks of the most tiles that fit
  the weight buffer whole (``block_tiles``: ``weight_buffer_depth // T``, the rule the RTL
  enforces on ``resident``; the last block may be narrower). Block by block, the token commands
  run over the block's columns, the first loading it ``resident`` and the others reusing it
  with ``keep_weights``. Each weight still crosses once (weight reload factor 1), but every
  block reads all the tokens' activations again (activation reload factor = number of
  blocks); bias words are per command as always (each command loads its block's);
* **streamed**: otherwise every command streams the whole matrix through the weight ring again,
  and the weight reload factor is the number of commands.

Between n-blocked and streamed the schedule blocks when that reads fewer off-chip bytes
(weights + activations + bias, whole stream words) and saves a larger fraction of them than it
adds to the cycles (``_blocking_pays``); otherwise, and on a tie, it streams (fewer commands).
The trade is weights re-read per token command against activations re-read per column block:
blocking wins whenever ``(token commands - 1) x`` the matrix's weight bytes exceed
``(blocks - 1) x`` the tokens' activation bytes, which for many tokens and tiles comes down to
the weight buffer holding more bytes than the activation buffer (the default: 256 KB against 16
KB); a single command (decode, or tokens that fit one command) streams, since nothing is
reused. Each extra command costs its fixed fill and drain (``2 + G + DRAIN_FIXED`` clocks, 30
on the default): 0.2 % more cycles for BitNet b1.58 2B's 128-token prefill against 91 % fewer
bytes, so it blocks; but where a command is a token over one tile (the ``small`` config's
256-input layer at one token per command) blocking would save 0.6 % of the bytes for 25 % more
cycles, so it streams. Blocking N rather than K keeps
every output's whole reduction in one command: no partial sums leave the array or come back, so
the requantizer, the bias and the accumulator width stay as they are and the RTL needs no
change (K-blocking would need partial-sum read-back). Blocking is impossible when one N-tile
does not fit the ring (``T > weight_buffer_depth``), which no command can run anyway. A larger
``weight_buffer_depth`` (whole matrix resident, or fewer blocks) or ``act_buffer_depth``
(fewer, larger commands) lowers the traffic; the report names the depth that would make a layer
resident (``resident_depth_needed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import AcceleratorConfig
from .cycles import CycleBreakdown, command_tokens, fits_resident, gemm_cycles

#: The schedule's policies (``GemmSchedule.policy``), see the module docstring.
POLICIES = ("resident", "n-blocked", "streamed")


@dataclass(frozen=True)
class Command:
    """One ``start`` of the accelerator: tokens ``[token_start, token_start + m)`` times
    output columns ``[n_start, n_start + n)`` (rows of ``W`` and of the bias), an ``m x k x
    n`` GEMM. ``resident``: its weights stay in the buffer whole (set on every command of a
    resident matrix or block); ``keep_weights``: it loads none and reuses those the previous
    command kept (same K and N)."""

    token_start: int
    m: int
    k: int
    n: int
    bias: bool
    resident: bool
    keep_weights: bool
    n_start: int

    @property
    def token_stop(self) -> int:
        return self.token_start + self.m

    @property
    def n_stop(self) -> int:
        return self.n_start + self.n


@dataclass
class GemmSchedule:
    """The commands of one ``M x K x N`` GEMM and their traffic (bytes) and cycles.
    ``policy`` is one of :data:`POLICIES`; ``blocks`` the number of column blocks (1 unless
    ``n-blocked``)."""

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
    policy: str                  # one of POLICIES
    blocks: int                  # column blocks (1 unless n-blocked)

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
            "policy": self.policy, "blocks": self.blocks,
            "resident": self.policy == "resident",
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


def block_tiles(cfg: AcceleratorConfig, k: int, n: int) -> int:
    """N-tiles of a column block of an ``n x k`` matrix: the most that fit the weight buffer
    whole (``fits_resident`` of ``block_tiles x rows`` columns), at most all of them; 0 when
    one tile does not fit (no block can be resident)."""
    return min(-(-n // cfg.rows), cfg.weight_buffer_depth // -(-k // cfg.cols))


def _commands(parts: list[int], k: int, blocks: list[tuple[int, int]], bias: bool,
              keep: bool) -> list[Command]:
    """Block by block (``(n_start, n)``), the token commands of ``parts``; with ``keep`` all
    are ``resident`` and all but the first of each block ``keep_weights``."""
    out = []
    for n_start, width in blocks:
        start = 0
        for i, mb in enumerate(parts):
            out.append(Command(start, mb, k, width, bias, keep, keep and i > 0, n_start))
            start += mb
    return out


def _traffic(cfg: AcceleratorConfig, commands: list[Command], T: int) -> tuple[int, int, int]:
    """Off-chip ``(weight, activation, bias)`` bytes the commands read, whole stream words."""
    R = cfg.rows
    tiles = sum(-(-c.n // R) for c in commands if not c.keep_weights)
    tokens = sum(c.m for c in commands)
    bias_tiles = sum(-(-c.n // R) for c in commands if c.bias)
    return (round(tiles * T * cfg.weight_word_bits / 8),
            round(tokens * T * cfg.act_word_bits / 8),
            round(bias_tiles * R * cfg.acc_bits / 8))


def _blocking_pays(streamed_bytes: int, blocked_bytes: int, streamed_cycles: int,
                   blocked_cycles: int) -> bool:
    """Block when it reads fewer off-chip bytes and saves a larger fraction of them than it
    adds to the cycles (its extra commands' fill and drain)."""
    if blocked_bytes >= streamed_bytes:
        return False
    saved = 1 - blocked_bytes / streamed_bytes
    added = blocked_cycles / streamed_cycles - 1
    return saved > added


def schedule_gemm(cfg: AcceleratorConfig, m: int, k: int, n: int, *, bias: bool = False,
                  requant: bool = True) -> GemmSchedule:
    """Commands, traffic and cycles of ``Y = X W^T (+ bias)`` for ``m`` tokens.

    Off-chip bytes count whole stream words (a weight word is ``rows x cols`` packed weights,
    an activation word ``cols`` activations, padding included), which is what the streams carry;
    outputs count one byte per int8 result with ``requant`` and ``acc_bits`` otherwise."""
    T, NT = -(-k // cfg.cols), -(-n // cfg.rows)
    parts = command_tokens(cfg, m, k)
    memo: dict[tuple, CycleBreakdown] = {}

    def cycles_of(cmds: list[Command]) -> list[CycleBreakdown]:
        out = []
        for c in cmds:
            key = (c.m, c.n, c.resident, c.keep_weights)
            if key not in memo:
                memo[key] = gemm_cycles(cfg, c.m, k, c.n, bias, resident=c.resident,
                                        keep_weights=c.keep_weights)
            out.append(memo[key])
        return out

    commands = _commands(parts, k, [(0, n)], bias, False)
    policy, nblocks = "streamed", 1
    traffic = _traffic(cfg, commands, T)
    cycles = cycles_of(commands)
    nb = block_tiles(cfg, k, n)
    if nb and len(parts) > 1:
        width = nb * cfg.rows
        assert fits_resident(cfg, k, width)      # the rule the RTL enforces on `resident`
        spans = [(s, min(width, n - s)) for s in range(0, n, width)]
        blocked = _commands(parts, k, spans, bias, True)
        blocked_traffic, blocked_cycles = _traffic(cfg, blocked, T), cycles_of(blocked)
        if _blocking_pays(sum(traffic), sum(blocked_traffic),
                          sum(c.total for c in cycles), sum(c.total for c in blocked_cycles)):
            commands, traffic, cycles, nblocks = blocked, blocked_traffic, blocked_cycles, \
                len(spans)
            policy = "resident" if nblocks == 1 else "n-blocked"
    out_bits = 8 if requant else cfg.acc_bits
    return GemmSchedule(
        m=m, k=k, n=n, bias=bias, out_bits=out_bits, commands=commands, cycles=cycles,
        weight_bytes=traffic[0], act_bytes=traffic[1], bias_bytes=traffic[2],
        out_bytes=m * n * out_bits // 8,
        unique_weight_bytes=round(NT * T * cfg.weight_word_bits / 8),
        unique_act_bytes=round(m * T * cfg.act_word_bits / 8),
        policy=policy, blocks=nblocks,
    )
