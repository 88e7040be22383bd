"""Balanced adder trees.

Python's ``sum()`` over signals builds a linear chain of ``n - 1`` adders (depth ``n - 1``); a
balanced tree has the same adders and depth ``ceil(log2 n)``. Each level grows one bit, so the
result is exact: ``width + ceil(log2 n)`` bits for ``n`` terms of ``width`` bits.
"""

from __future__ import annotations

import math
import operator

from amaranth import Module, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int


def balanced_reduce(values: list, op) -> Value:
    """Combine ``values`` pairwise with ``op``, level by level (depth ``ceil(log2 n)``)."""
    level = list(values)
    if not level:
        raise ValueError("a balanced reduction needs at least one term")
    while len(level) > 1:
        nxt = [op(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def balanced_sum(values: list) -> Value:
    """Sum ``values`` in a balanced tree."""
    return balanced_reduce(values, operator.add)


class AdderTree(wiring.Component):
    """Combinational sum of ``n`` signed ``width``-bit terms.

    Members
    -------
    terms : In(ArrayLayout(signed(width), n))
    total : Out(signed(width + ceil(log2 n)))
    """

    def __init__(self, *, n: int, width: int):
        self._n = check_int("n", n, 1, 4096)
        self._width = check_int("width", width, 1, 64)
        super().__init__({
            "terms": In(data.ArrayLayout(signed(width), n)),
            "total": Out(signed(width + math.ceil(math.log2(n)))),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.total.eq(balanced_sum([self.terms[i] for i in range(self._n)]))
        return m
