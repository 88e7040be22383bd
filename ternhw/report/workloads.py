"""Workloads for the report: the layers of one inference, with exact cycles and events.

A layer is one GEMM ``M x K x N``. Its events, cycles and traffic follow the schedule
(``ternhw.model.schedule``): when the tokens do not fit the activation buffer the host issues
several commands, which reuse a resident matrix or stream it again, so all come from summing
the commands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import AcceleratorConfig
from ..model.contract import Events
from ..model.gemm import WeightMatrix, count_events
from ..model.schedule import GemmSchedule, schedule_gemm

#: BitNet b1.58 2B4T (arXiv 2504.12285): hidden 2560, FFN 6912, 30 layers, 20 heads of 128,
#: 5 KV heads; the seven linear layers of one transformer block, (name, K, N).
BITNET_2B_BLOCK = (("q_proj", 2560, 2560), ("k_proj", 2560, 640), ("v_proj", 2560, 640),
                   ("o_proj", 2560, 2560), ("gate_proj", 2560, 6912),
                   ("up_proj", 2560, 6912), ("down_proj", 6912, 2560))
BITNET_2B_LAYERS = 30


@dataclass
class Layer:
    name: str
    m: int
    k: int
    n: int
    weights: WeightMatrix
    real: bool = True
    count: int = 1             # identical layers (BitNet's 30 blocks)
    requant: bool = False
    bias: bool = False

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.count


def layer_schedule(cfg: AcceleratorConfig, layer: Layer) -> GemmSchedule:
    """The commands, cycles and traffic of one instance of the layer."""
    return schedule_gemm(cfg, layer.m, layer.k, layer.n, bias=layer.bias,
                         requant=layer.requant)


def layer_cycles(cfg: AcceleratorConfig, layer: Layer) -> int:
    return layer.count * layer_schedule(cfg, layer).total_cycles


def layer_events(cfg: AcceleratorConfig, layer: Layer,
                 plan: GemmSchedule | None = None) -> Events:
    """Events of all instances of the layer, command by command of its schedule (``plan``, if
    the caller has it already)."""
    total = Events()
    for cmd in (plan or layer_schedule(cfg, layer)).commands:
        ev = count_events(cfg, cmd.m, layer.weights, None)
        if cmd.keep_weights:                     # the resident matrix is reused
            ev.weight_bits_loaded = ev.weight_buffer_writes = 0
        if layer.requant:
            ev.requant_ops = cmd.m * layer.n
            ev.output_bits_written = cmd.m * layer.n * 8
        total = total + ev
    if layer.count > 1:
        total = Events(**{k: v * layer.count for k, v in total.to_dict().items()})
    return total


def weights_for(cfg: AcceleratorConfig, trits: np.ndarray) -> WeightMatrix:
    """The array's weights: the trits themselves, or for the int8 baseline the same matrix as
    int8 values (zeros where the trits are zero; non-zeros are what the multipliers see)."""
    if cfg.is_ternary:
        return WeightMatrix(trits)
    return WeightMatrix(np.asarray(trits, dtype=np.int8) * 64, ternary=False)


def synthetic_trits(k: int, n: int, zero_fraction: float, seed: int) -> np.ndarray:
    """Projected weights: random trits with a given zero fraction (no real weights exist)."""
    rng = np.random.default_rng(seed)
    nz = 0.5 * (1 - zero_fraction)
    return rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(n, k),
                      p=[nz, zero_fraction, nz])


def bitnet_layers(cfg: AcceleratorConfig, m: int, zero_fraction: float) -> list[Layer]:
    """One BitNet b1.58 2B forward pass over ``m`` tokens (projected shapes)."""
    out = []
    for i, (name, k, n) in enumerate(BITNET_2B_BLOCK):
        trits = synthetic_trits(k, n, zero_fraction, seed=i)
        out.append(Layer(name, m, k, n, weights_for(cfg, trits), real=False,
                         count=BITNET_2B_LAYERS))
    return out
