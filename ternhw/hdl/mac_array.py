"""The ``rows x cols`` array of lanes with one balanced adder tree per row.

Each row holds ``cols`` lanes fed by the same ``cols`` activations and its own ``cols``
weights; its adder tree sums the lane products exactly (``tree_bits`` wide) in one clock. Why a
tree and not a systolic chain: a tree reduces a whole K-chunk in the cycle it is read, so the
accumulation order of ``docs/semantics.md`` (chunk sums, then one accumulator update per chunk)
is the hardware's natural order and there is no skew to fill or drain. The tree is cut after
its first ``log2(GROUP)`` levels: ``group_sums`` (one per ``GROUP`` lanes) are what the
accelerator registers, and it adds them in the next clock, so no clock has the lanes and all
four levels of a 16-column tree in series.
"""

from __future__ import annotations

import math
import operator

from amaranth import Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int
from .adder_tree import balanced_reduce, balanced_sum
from .faults import check_fault
from .lane import Int8Lane, TernaryLane

#: lanes summed before the tree's pipeline register (two adder levels)
GROUP = 4


class MacArray(wiring.Component):
    """Combinational ``rows x cols`` lane array.

    Parameters
    ----------
    rows, cols : int
    act_bits : int
    ternary : bool
        Ternary add/subtract/skip lanes, or int8 multiplier lanes for the baseline.

    Members
    -------
    acts : In(ArrayLayout(signed(act_bits), cols))
    weights : In(ArrayLayout(signed(2) or signed(8), rows * cols))
        Lane ``(r, c)`` at index ``r * cols + c``.
    sums : Out(ArrayLayout(signed(tree_bits), rows))
        Exact chunk sum of each row.
    group_sums : Out(ArrayLayout(ArrayLayout(signed(group_bits), groups), rows))
        The same sum in parts: lanes ``[g GROUP, (g + 1) GROUP)`` of each row (``sums[r]`` is
        the balanced sum of ``group_sums[r]``).
    nonzero : Out(rows)
        Bit ``r``: row ``r`` has a non-zero weight in this chunk (its accumulator must update).
    gated : Out(rows * cols)
        Lanes gated by a zero weight (zero-skips).
    """

    def __init__(self, *, rows: int, cols: int, act_bits: int, ternary: bool = True,
                 fault: str | None = None):
        self._rows = check_int("rows", rows, 1, 256)
        self._cols = check_int("cols", cols, 1, 256)
        self._act_bits = check_int("act_bits", act_bits, 2, 16)
        self._ternary = bool(ternary)
        self._fault = check_fault(fault)
        product_bits = act_bits + (1 if ternary else 8)
        self.tree_bits = product_bits + math.ceil(math.log2(cols))
        self.groups = -(-cols // GROUP)
        self.group_bits = product_bits + math.ceil(math.log2(min(GROUP, cols)))
        super().__init__({
            "acts": In(data.ArrayLayout(signed(act_bits), cols)),
            "weights": In(data.ArrayLayout(signed(2 if ternary else 8), rows * cols)),
            "sums": Out(data.ArrayLayout(signed(self.tree_bits), rows)),
            "group_sums": Out(data.ArrayLayout(
                data.ArrayLayout(signed(self.group_bits), self.groups), rows)),
            "nonzero": Out(rows),
            "gated": Out(rows * cols),
        })

    def elaborate(self, platform):
        m = Module()
        R, C = self._rows, self._cols
        for r in range(R):
            products, negates = [], []
            live = []
            for c in range(C):
                i = r * C + c
                if self._ternary:
                    lane = TernaryLane(act_bits=self._act_bits, fault=self._fault)
                    m.d.comb += lane.trit.eq(self.weights[i])
                else:
                    lane = Int8Lane(act_bits=self._act_bits)
                    m.d.comb += lane.weight.eq(self.weights[i])
                m.submodules[f"lane_{r}_{c}"] = lane
                m.d.comb += [lane.act.eq(self.acts[c]), self.gated[i].eq(lane.gated)]
                products.append(lane.product)
                if self._ternary:
                    negates.append(lane.negate)
                live.append(self.weights[i] != 0)
            # a ternary lane's -act arrives as ~act plus a 1 (its ``negate``): each group adds
            # the count of its negated lanes, one small adder instead of one incrementer a lane
            groups = [balanced_sum(products[g:g + GROUP])
                      + (balanced_sum(negates[g:g + GROUP]) if self._ternary else 0)
                      for g in range(0, C, GROUP)]
            m.d.comb += [self.group_sums[r][g].eq(v) for g, v in enumerate(groups)]
            m.d.comb += [
                self.sums[r].eq(balanced_sum(list(self.group_sums[r]))),
                self.nonzero[r].eq(balanced_reduce(live, operator.or_)),
            ]
        return m

