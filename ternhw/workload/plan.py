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
from ..model.gemm import count_events, gemm
from ..model.schedule import GemmSchedule, schedule_gemm
from .layer import Layer, Operands


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


def layer_events(cfg: AcceleratorConfig, layer: Layer, plan: GemmSchedule | None = None,
                 operands: Operands | None = None) -> Events:
    """Events of all instances of the layer, command by command of its schedule (``plan``, if
    the caller has it already), on the weights ``cfg``'s array holds: each command on its
    tokens and its output columns (the rows of ``W`` of its column block, so an n-blocked
    layer writes every token's activations into the buffer once per block).

    Without ``operands`` they are *statistics*: what the weights and the shape determine
    (every event but overflow, whose count depends on the data and is left 0). With
    ``operands`` (real activations, their bias and requantizer, ``plan`` scheduling exactly
    ``len(operands.x)`` tokens) every command runs through the golden model on its tokens,
    so the data-dependent counts (overflow events) are measured too."""
    weights = layer.weights_on(cfg)
    plan = plan or layer_schedule(cfg, layer, None if operands is None else len(operands.x))
    if operands is not None and len(operands.x) != plan.m:
        raise TernhwError(f"layer {layer.name!r}: {len(operands.x)} tokens of operands for a "
                          f"schedule of {plan.m}")
    total = Events()
    for cmd in plan.commands:
        w = weights.row_block(cmd.n_start, cmd.n_stop)     # the command's output columns
        if operands is None:
            ev = count_events(cfg, cmd.m, w, None)
            if layer.requant:
                ev.requant_ops = cmd.m * cmd.n
                ev.output_bits_written = cmd.m * cmd.n * 8
        else:
            x = operands.x[cmd.token_start:cmd.token_stop]
            bias = None if operands.bias is None else operands.bias[cmd.n_start:cmd.n_stop]
            ev = gemm(cfg, x, w, bias, operands.requant).events
        if cmd.keep_weights:                     # the resident matrix (or block) is reused
            ev.weight_bits_loaded = ev.weight_buffer_writes = 0
        total = total + ev
    if layer.count > 1:
        total = Events(**{k: v * layer.count for k, v in total.to_dict().items()})
    return total


#: How :func:`measured_events` got a layer's events, for the report.
MEASURED = "measured: the workload's real activations through the golden model"
STATISTICS = "statistics: weights and shape only (overflow not counted)"


def measured_events(cfg: AcceleratorConfig, layer: Layer,
                    plan: GemmSchedule | None = None) -> tuple[Events, str]:
    """``(events, basis)``: the layer's events from its real activations when its workload has
    them for all ``layer.m`` tokens (every command through the golden model, requantized as
    the layer runs), else :func:`layer_events`' statistics; ``basis`` says which, and why."""
    if layer.feed is None:
        return layer_events(cfg, layer, plan), f"{STATISTICS} (the workload has no activations)"
    try:
        ops = layer.operands(cfg, layer.m)
    except TernhwError as e:
        return layer_events(cfg, layer, plan), f"{STATISTICS} ({e})"
    return layer_events(cfg, layer, plan, ops), MEASURED
