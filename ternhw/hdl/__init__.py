"""Amaranth components of the ternary accelerator, one per file, and the Verilog generator.

Data path (``docs/microarchitecture.md``)::

    i_wgt ──> weight buffer ──> WeightDecoder ──┐
    i_act ──> activation buffer ────────────────┴─> MacArray ──> AccumulatorBank
    i_bias ─> bias banks ──────────────────────────────────────────┘      │
                                                        o_res <── Requantizer
    Controller: command/status, tiling, stream handshakes; performance counters
    WeightCodeCheck: on the weight buffer's write port, an invalid code -> status.error
"""

from .accelerator import TernaryAccelerator
from .accumulator import AccumulatorBank
from .adder_tree import AdderTree, balanced_sum
from .decoder import Base3ByteDecoder, WeightCodeCheck, WeightDecoder
from .lane import Int8Lane, TernaryLane
from .mac_array import MacArray
from .requant import Requantizer

__all__ = [
    "AccumulatorBank",
    "AdderTree",
    "Base3ByteDecoder",
    "Int8Lane",
    "MacArray",
    "Requantizer",
    "TernaryAccelerator",
    "TernaryLane",
    "WeightCodeCheck",
    "WeightDecoder",
    "balanced_sum",
]
