"""Deliberately broken variants of the design, for proving that co-simulation can fail.

``TernaryAccelerator(cfg, fault=NAME)`` builds the design with one of these bugs; the
fault-injection tests co-simulate each and require that the very check the fault names trips
(``ternhw.cosim.check.CHECKS``), on both co-simulation engines. Faults marked
``back_pressure`` only show when the result stream is stalled, and must pass unnoticed at full
rate. Never used otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    description: str
    check: str                       # the check that must trip (ternhw.cosim.check.CHECKS)
    back_pressure: bool = False      # shows only while o_res is stalled


FAULTS = {
    "minus_as_plus": Fault("a lane treats the -1 weight code as +1", "output value"),
    "no_zero_gate": Fault("a zero weight is not gated: the lane passes +act", "output value"),
    "tile_bound": Fault("off-by-one chunk bound: the last chunk ends at K - 1", "cycles"),
    "acc_short": Fault("the accumulators are one bit short", "output overflow"),
    "requant_round": Fault("requantization rounds negative ties up instead of away from zero",
                           "output value"),
    "res_valid_dropped": Fault("o_res.valid is held one clock only, ready or not",
                               "protocol valid held until ready", back_pressure=True),
    "res_ready_ignored": Fault("the output register takes the next word while the current one "
                               "is stalled", "protocol payload stable while stalled",
                               back_pressure=True),
    "res_payload_unstable": Fault("o_res.payload follows the requantizer's word register while "
                                  "stalled", "protocol payload stable while stalled",
                                  back_pressure=True),
    "skips_while_stalled": Fault("the zero-skip counter also counts clocks in which the array "
                                 "is stalled", "counter zero_skips", back_pressure=True),
}


def check_fault(fault: str | None) -> str | None:
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)} or None, not {fault!r}")
    return fault
