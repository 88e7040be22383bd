"""Formal proofs of the generated accelerator with open, pip-installed tools.

Each module holds one group of properties as an Amaranth harness (the design under test plus
``Assert``/``Assume`` statements); :func:`run_sby` converts a harness to RTLIL and checks it
with SymbiYosys (``yowasp-sby``, WebAssembly Yosys, the ``z3`` solver from ``z3-solver``).
Why formal beside co-simulation: simulation checks the stimuli it is given, a proof checks
every input sequence up to its depth (or for ever, for the inductive ones), which is where
stall corner cases and rounding ties hide. ``docs/verification.md`` lists every property.

* :mod:`.requant` — requantizer arithmetic == the contract, for all inputs; the pipelined
  output stage keeps tokens in order under back-pressure.
* :mod:`.accumulator` — wrap / saturate rule and overflow flags (inductive).
* :mod:`.protocol` — valid/ready stream rules, no output without a command, word counts.
* :mod:`.counters` — status counters partition a command's clocks.
* :mod:`.liveness` — a full-rate command finishes at exactly the cycle model's count.
"""

from .accumulator import AccumulatorRule
from .counters import CounterConsistency
from .harness import FORMAL_CONFIG, AcceleratorEnv
from .liveness import BoundedLiveness
from .protocol import StreamProtocol
from .requant import (
    OutputStageScoreboard,
    RequantEquivalence,
    RequantProductLemma,
    RequantRoundLemma,
)
from .runner import FormalResult, read_trace, run_sby

__all__ = [
    "FORMAL_CONFIG", "AcceleratorEnv", "AccumulatorRule", "BoundedLiveness",
    "CounterConsistency", "FormalResult", "OutputStageScoreboard", "RequantEquivalence",
    "RequantProductLemma", "RequantRoundLemma", "StreamProtocol", "read_trace", "run_sby",
]
