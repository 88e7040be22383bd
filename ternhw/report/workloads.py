"""The report's names for the workload definition, which now lives in ``ternhw.workload``
(one definition for the report, the sweep and the co-simulation; issue 10).

A layer is one GEMM ``M x K x N``. Its events, cycles and traffic follow the schedule
(``ternhw.model.schedule``): when the tokens do not fit the activation buffer the host issues
several commands, which reuse a resident matrix or stream it again, so all come from summing
the commands (:func:`layer_schedule`, :func:`layer_events`).
"""

from __future__ import annotations

from ..workload import (
    BITNET_2B_BLOCK,
    BITNET_2B_LAYERS,
    Layer,
    Workload,
    bitnet_layers,
    layer_cycles,
    layer_events,
    layer_schedule,
    measured_events,
    synthetic_trits,
    weights_for,
)

__all__ = ["BITNET_2B_BLOCK", "BITNET_2B_LAYERS", "Layer", "Workload", "bitnet_layers",
           "layer_cycles", "layer_events", "layer_schedule", "measured_events", "synthetic_trits",
           "weights_for"]
