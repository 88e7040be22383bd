"""Keyword-argument validation in the style of ``amaranth.lib``."""

from __future__ import annotations


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (
            hi is not None and value > hi):
        rng = f"an integer in [{lo}, {hi}]" if hi is not None else f"an integer >= {lo}"
        raise TypeError(f"{name} must be {rng}, not {value!r}")
    return value
