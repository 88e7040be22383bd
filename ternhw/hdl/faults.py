"""Deliberately broken variants of the design, for proving that co-simulation can fail.

``TernaryAccelerator(cfg, fault=NAME)`` builds the design with one of these bugs; the
fault-injection tests co-simulate each and require a reported mismatch. Never used otherwise.
"""

FAULTS = {
    "minus_as_plus": "a lane treats the -1 weight code as +1",
    "no_zero_gate": "a zero weight is not gated: the lane passes +act",
    "tile_bound": "off-by-one chunk bound: the last chunk ends at K - 1",
    "acc_short": "the accumulators are one bit short",
    "requant_round": "requantization rounds negative ties up instead of away from zero",
}


def check_fault(fault: str | None) -> str | None:
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)} or None, not {fault!r}")
    return fault
