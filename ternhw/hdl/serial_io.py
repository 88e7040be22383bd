"""A pin-limited wrapper for placing the accelerator on a real package.

nextpnr-ice40 has no out-of-context mode: every top-level port must be a package pin, and the
accelerator has hundreds of port bits (streams, command, 48-bit counters) against the 206 I/O
of an iCE40 HX8K in CT256. This wrapper gives the core five pins and keeps every core port
alive, so synthesis cannot remove logic and the placed timing is the core's:

* ``din``/``shift``: a shift register holding every core input, one bit per clock;
* ``apply``: copies it into the register that drives the core's inputs;
* ``capture``: loads every core output into a second shift register, shifted out on ``dout``.

Both sides are registered, so no path runs from a pin into the core or out of it; the cost is
one flip-flop per core input bit and one per output bit (reported with the design's cells).
This is a measurement harness, not a usable host interface.
"""

from __future__ import annotations

from amaranth import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


def _ports(core: wiring.Component, flow) -> list:
    """The core's port values of one direction, as plain values (struct views included)."""
    return [Value.cast(v) for _, m, v in core.signature.flatten(core) if m.flow == flow]


class SerialIoWrapper(wiring.Component):
    """Five pins around ``core`` (any ``wiring.Component``).

    Members
    -------
    din, shift, apply, capture : In(1)
    dout : Out(1)
    """

    def __init__(self, core: wiring.Component):
        self.core = core
        self.in_bits = len(Cat(*_ports(core, In)))
        self.out_bits = len(Cat(*_ports(core, Out)))
        super().__init__({"din": In(1), "shift": In(1), "apply": In(1), "capture": In(1),
                          "dout": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        ins, outs = _ports(core, In), _ports(core, Out)

        in_shift = Signal(self.in_bits)
        in_reg = Signal(self.in_bits)
        with m.If(self.shift):
            m.d.sync += in_shift.eq(Cat(in_shift[1:], self.din))
        with m.If(self.apply):
            m.d.sync += in_reg.eq(in_shift)
        m.d.comb += Cat(*ins).eq(in_reg)

        out_shift = Signal(self.out_bits)
        with m.If(self.capture):
            m.d.sync += out_shift.eq(Cat(*outs))
        with m.Elif(self.shift):
            m.d.sync += out_shift.eq(out_shift[1:])
        m.d.comb += self.dout.eq(out_shift[0])
        return m
