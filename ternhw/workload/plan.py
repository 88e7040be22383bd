"""A layer's schedule, cycles and events: what every consumer of a workload reads.

The report (cycles, energy, traffic), the sweep's cross-check and the co-simulation (the
commands a layer's tokens are split into) all call :func:`layer_schedule`, so a layer runs as
the same commands everywhere. A shape the config cannot take fails here with the schedule's
own reason, led by the layer's name and where it was defined.
"""

from __future__ import annotations

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..model.contract import Events
from ..model.gemm import count_events
from ..model.schedule import GemmSchedule, schedule_gemm
from .layer import Layer


def layer_schedule(cfg: AcceleratorConfig, layer: Layer, m: int | None = None) -> GemmSchedule:
    """The commands, cycles and traffic of one instance of the layer (of its first ``m``
    tokens when given: a co-simulation of fewer tokens than the layer has)."""
    m = layer.m if m is None else m
    try:
        return schedule_gemm(cfg, m, layer.k, layer.n, bias=layer.bias, requant=layer.requant)
    except TernhwError as e:
        where = layer.where or f"layer {layer.name!r}"
        raise TernhwError(f"{where} ({m}x{layer.k}x{layer.n}): {e}") from None


def layer_cycles(cfg: AcceleratorConfig, layer: Layer) -> int:
    return layer.count * layer_schedule(cfg, layer).total_cycles


def layer_events(cfg: AcceleratorConfig, layer: Layer,
                 plan: GemmSchedule | None = None) -> Events:
    """Events of all instances of the layer, command by command of its schedule (``plan``, if
    the caller has it already), on the weights ``cfg``'s array holds."""
    weights = layer.weights_on(cfg)
    total = Events()
    for cmd in (plan or layer_schedule(cfg, layer)).commands:
        ev = count_events(cfg, cmd.m, weights, None)
        if cmd.keep_weights:                     # the resident matrix is reused
            ev.weight_bits_loaded = ev.weight_buffer_writes = 0
        if layer.requant:
            ev.requant_ops = cmd.m * layer.n
            ev.output_bits_written = cmd.m * layer.n * 8
        total = total + ev
    if layer.count > 1:
        total = Events(**{k: v * layer.count for k, v in total.to_dict().items()})
    return total
