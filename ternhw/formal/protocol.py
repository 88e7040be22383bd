"""Stream-protocol proofs on the whole accelerator (``amaranth.lib.stream`` valid/ready rules).

With every input free each clock (commands at any time, any ``valid``, any ``ready``, any
payload), :class:`StreamProtocol` asserts:

* ``o_res``: once ``valid`` is raised it stays up, with the payload unchanged, until the
  clock in which ``ready`` takes the word (no retraction, no change while stalled);
* no output without a command: ``o_res.valid`` only while ``status.busy``, and a command
  never sends more than its ``ceil(N / rows) x M`` words;
* inputs: ``i_act``/``i_wgt``/``i_bias`` are ``ready`` only while a command runs, and a
  command that ends without ``error`` has taken exactly ``M x T`` activation words,
  ``ceil(N / rows) x T`` weight words (none with ``keep_weights``) and ``ceil(N / rows)``
  bias words (none without ``bias_en``), and sent exactly ``ceil(N / rows) x M`` results;
* ``done`` is a one-clock pulse after which the accelerator is idle.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.hdl import Assert

from .harness import AcceleratorEnv


class StreamProtocol(AcceleratorEnv):
    """The protocol properties above on :data:`ternhw.formal.harness.FORMAL_CONFIG`.

    ``counts=False`` leaves out the word counts at ``done`` (the deep part: a command must
    run to its end), for a quick check of the clock-by-clock rules.
    """

    def __init__(self, *args, counts: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.counts = counts

    def properties(self, m: Module) -> None:
        dut, st, c = self.dut, self.dut.status, self.cmd
        o = dut.o_res
        # ---- o_res: valid held until ready, payload stable while stalled ---------------
        stalled = Signal()
        prev_payload = Signal.like(o.payload)
        m.d.sync += [stalled.eq(o.valid & ~o.ready), prev_payload.eq(o.payload)]
        with m.If(stalled):
            m.d.comb += [Assert(o.valid), Assert(o.payload.as_value() == prev_payload.as_value())]
        # ---- no output, no input without a command --------------------------------------
        m.d.comb += [Assert(~o.valid | st.busy), Assert(~dut.i_act.ready | st.busy),
                     Assert(~dut.i_wgt.ready | st.busy), Assert(~dut.i_bias.ready | st.busy)]
        # ---- word counts per command ------------------------------------------------------
        counts = {}
        for name, s in (("act", dut.i_act), ("wgt", dut.i_wgt), ("bias", dut.i_bias),
                        ("res", o)):
            cnt = Signal(range(64), name=f"n_{name}")
            with m.If(self.idle_start):
                m.d.sync += cnt.eq(0)
            with m.Elif(s.valid & s.ready & (cnt != 63)):
                m.d.sync += cnt.eq(cnt + 1)
            counts[name] = cnt
        words = self.NT * c["m"]
        m.d.comb += Assert(counts["res"] <= words)
        with m.If(st.done & ~st.error & self.counts):
            m.d.comb += [
                Assert(counts["act"] == c["m"] * self.T),
                Assert(counts["wgt"] == Mux(c["keep"], 0, self.NT * self.T)),
                Assert(counts["bias"] == self.NT * c["bias_en"]),
                Assert(counts["res"] == words),
            ]
        # ---- done: one clock, then idle -------------------------------------------------
        was_done = Signal()
        m.d.sync += was_done.eq(st.done)
        with m.If(was_done):
            m.d.comb += [Assert(~st.done), Assert(~st.busy)]
