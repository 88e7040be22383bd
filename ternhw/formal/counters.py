"""Performance-counter proofs: the status counters partition a command's clocks.

The RTL (``ternhw.hdl.accelerator``) clears the counters on ``start`` and, while busy, adds one
to ``cycles`` every clock, to ``stall_cycles`` when the controller is running but issues no
array step (``waiting``), to ``hold_cycles`` when that wait is the output stage's ``hold``, and
to ``busy_cycles`` one stage after a step issues (when the step leaves the first pipeline
register). :class:`CounterConsistency` asserts, with every input free:

* ``hold_cycles <= stall_cycles`` and ``busy_cycles + stall_cycles <= cycles``, always;
* while the controller runs: ``cycles - busy_cycles - stall_cycles`` is 0, 1 or 2 (the one
  issued step that ``busy_cycles`` counts a clock later, or the wait that ``stall_cycles``
  counts a clock later: its increment is registered, off the ``hold`` path);
* at ``done`` without ``error``: ``busy_cycles`` equals the steps issued, which equal
  ``ceil(N / rows) x M x ceil(K / cols)`` (every step counted once, none lost under a hold),
  ``stall_cycles`` equals the clocks the controller waited, and
  ``busy_cycles + stall_cycles + drain == cycles`` where ``drain`` is the clocks after the
  last step (busy, not running) — busy + stall + idle = total.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.hdl import Assert

from .harness import AcceleratorEnv


class CounterConsistency(AcceleratorEnv):
    """The counter properties above on :data:`ternhw.formal.harness.FORMAL_CONFIG`."""

    def properties(self, m: Module) -> None:
        st, ctrl, c = self.dut.status, self.ctrl, self.cmd
        running = ctrl.issue | ctrl.waiting
        issued, waited, drain = (Signal(range(256), name=n)
                                 for n in ("h_issued", "h_waited", "h_drain"))
        with m.If(self.idle_start):
            m.d.sync += [issued.eq(0), waited.eq(0), drain.eq(0)]
        with m.Elif(st.busy):
            m.d.sync += [issued.eq(issued + ctrl.issue), waited.eq(waited + ctrl.waiting),
                         drain.eq(drain + ~running)]
        m.d.comb += [Assert(st.hold_cycles <= st.stall_cycles),
                     Assert(st.busy_cycles + st.stall_cycles <= st.cycles)]
        with m.If(running):
            lag = st.cycles - st.busy_cycles - st.stall_cycles
            m.d.comb += Assert(lag <= 2)
        with m.If(st.done & ~st.error):
            m.d.comb += [
                Assert(st.busy_cycles == issued),
                Assert(issued == self.NT * c["m"] * self.T),
                Assert(st.stall_cycles == waited),
                Assert(st.busy_cycles + st.stall_cycles + drain == st.cycles),
            ]
