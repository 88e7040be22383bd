"""The controller: command handling, GEMM tiling and stream handshakes.

It walks the schedule of ``docs/semantics.md``: load every activation word (``M`` tokens x
``T`` chunks) into the activation buffer, then for each N-tile of ``rows`` outputs load its bias
word (if enabled) and its ``T`` weight words, and issue ``M x T`` array steps, token by token,
chunk by chunk. K and N need not be multiples of the array: the chunk and tile loops stop on
``k_pos + cols >= K`` and ``n_pos + rows >= N`` (no division in hardware), and the lanes past
``K`` or ``N`` see zero weights and are masked from the counters.
"""

from __future__ import annotations

from amaranth import Module, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int
from .faults import check_fault

DIM_BITS = 16


class Controller(wiring.Component):
    """GEMM sequencer.

    Parameters
    ----------
    rows, cols : int
        Array size: the tile and chunk steps.
    act_depth, wgt_depth : int
        Buffer depths in words; a GEMM that does not fit ends at once with ``error``.

    Members
    -------
    start : In(1)
        In ``IDLE``, latches ``m``, ``k``, ``n``, ``bias_en`` and starts.
    m, k, n : In(16)
    bias_en : In(1)
    act_valid, bias_valid, wgt_valid : In(1)
        The input streams' ``valid``.
    hold : In(1)
        Output back-pressure stops the pipeline this cycle: the controller does nothing either
        (no word accepted, no step issued), so that every stall delays everything by one cycle.
    pipe_empty : In(1)
    act_ready, bias_ready, wgt_ready : Out(1)
    act_waddr, wgt_waddr : Out(...)
        Write addresses, written on ``act_valid & act_ready`` (``wgt_...`` likewise).
    bias_load : Out(1)
        Load the bias word into bias bank ``tile_parity``.
    issue : Out(1)
        An array step is issued: read ``act_raddr`` and ``wgt_raddr``.
    first, last : Out(1)
        The issued chunk is a token's first / last.
    k_pos, n_pos : Out(16)
        First K index of the chunk and first N index of the tile.
    tile_parity : Out(1)
        Parity of the current N-tile (selects a bias bank).
    busy, done, error, starved, draining : Out(1)
        ``starved``: waiting on an input stream (and not held). ``done`` (one cycle) ends every
        command.
    """

    def __init__(self, *, rows: int, cols: int, act_depth: int, wgt_depth: int,
                 fault: str | None = None):
        self._rows = check_int("rows", rows, 1, 256)
        self._cols = check_int("cols", cols, 1, 256)
        self._act_depth = check_int("act_depth", act_depth, 1)
        self._wgt_depth = check_int("wgt_depth", wgt_depth, 1)
        self._fault = check_fault(fault)
        dim = unsigned(DIM_BITS)
        super().__init__({
            "start": In(1), "m": In(dim), "k": In(dim), "n": In(dim), "bias_en": In(1),
            "act_valid": In(1), "bias_valid": In(1), "wgt_valid": In(1),
            "hold": In(1), "pipe_empty": In(1),
            "act_ready": Out(1), "bias_ready": Out(1), "wgt_ready": Out(1),
            "act_waddr": Out(range(act_depth)), "wgt_waddr": Out(range(wgt_depth)),
            "bias_load": Out(1),
            "issue": Out(1), "act_raddr": Out(range(act_depth)),
            "wgt_raddr": Out(range(wgt_depth)),
            "first": Out(1), "last": Out(1),
            "k_pos": Out(dim), "n_pos": Out(dim), "tile_parity": Out(1),
            "busy": Out(1), "done": Out(1), "error": Out(1), "starved": Out(1),
            "draining": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        R, C = self._rows, self._cols
        M = Signal(DIM_BITS)
        K = Signal(DIM_BITS)
        N = Signal(DIM_BITS)
        bias_en = Signal()
        token = Signal(DIM_BITS)
        k_pos = Signal(DIM_BITS + 1)
        n_pos = Signal(DIM_BITS + 1)
        addr = Signal(range(self._act_depth + 1))
        t = Signal(range(self._wgt_depth + 1))
        parity = Signal()
        error = Signal()
        last_chunk = (k_pos + C + 1 >= K) if self._fault == "tile_bound" else (k_pos + C >= K)
        last_token = token + 1 >= M
        last_tile = n_pos + R >= N

        m.d.comb += [
            self.k_pos.eq(k_pos), self.n_pos.eq(n_pos), self.tile_parity.eq(parity),
            self.act_waddr.eq(addr), self.act_raddr.eq(addr),
            self.wgt_waddr.eq(t), self.wgt_raddr.eq(t),
            self.first.eq(k_pos == 0), self.last.eq(last_chunk),
            self.error.eq(error),
        ]

        def next_tile_load():
            m.d.sync += [t.eq(0), k_pos.eq(0)]
            with m.If(bias_en):
                m.next = "LOAD_BIAS"
            with m.Else():
                m.next = "LOAD_WGT"

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [M.eq(self.m), K.eq(self.k), N.eq(self.n),
                                 bias_en.eq(self.bias_en), token.eq(0), k_pos.eq(0),
                                 n_pos.eq(0), addr.eq(0), t.eq(0), parity.eq(0),
                                 error.eq(0)]
                    with m.If((self.m == 0) | (self.k == 0) | (self.n == 0)):
                        m.d.sync += error.eq(1)
                        m.next = "DONE"
                    with m.Else():
                        m.next = "LOAD_ACT"
            with m.State("LOAD_ACT"):
                m.d.comb += [self.busy.eq(1),
                             self.act_ready.eq(~self.hold & (addr < self._act_depth)),
                             self.starved.eq(~self.hold & ~self.act_valid)]
                with m.If(self.hold):
                    pass
                with m.Elif(self.act_valid & (addr >= self._act_depth)):
                    m.d.sync += error.eq(1)
                    m.next = "DONE"
                with m.Elif(self.act_valid):
                    m.d.sync += addr.eq(addr + 1)
                    with m.If(last_chunk):
                        m.d.sync += [k_pos.eq(0), token.eq(token + 1)]
                        with m.If(last_token):
                            m.d.sync += token.eq(0)
                            next_tile_load()
                    with m.Else():
                        m.d.sync += k_pos.eq(k_pos + C)
            with m.State("LOAD_BIAS"):
                take = ~self.hold & self.bias_valid
                m.d.comb += [self.busy.eq(1), self.bias_ready.eq(~self.hold),
                             self.starved.eq(~self.hold & ~self.bias_valid),
                             self.bias_load.eq(take)]
                with m.If(take):
                    m.next = "LOAD_WGT"
            with m.State("LOAD_WGT"):
                m.d.comb += [self.busy.eq(1),
                             self.wgt_ready.eq(~self.hold & (t < self._wgt_depth)),
                             self.starved.eq(~self.hold & ~self.wgt_valid)]
                with m.If(self.hold):
                    pass
                with m.Elif(self.wgt_valid & (t >= self._wgt_depth)):
                    m.d.sync += error.eq(1)
                    m.next = "DONE"
                with m.Elif(self.wgt_valid):
                    with m.If(last_chunk):
                        m.d.sync += [t.eq(0), k_pos.eq(0), addr.eq(0), token.eq(0)]
                        m.next = "ISSUE"
                    with m.Else():
                        m.d.sync += [t.eq(t + 1), k_pos.eq(k_pos + C)]
            with m.State("ISSUE"):
                m.d.comb += [self.busy.eq(1), self.issue.eq(~self.hold)]
                with m.If(~self.hold):
                    m.d.sync += addr.eq(addr + 1)
                    with m.If(last_chunk):
                        m.d.sync += [t.eq(0), k_pos.eq(0), token.eq(token + 1)]
                        with m.If(last_token):
                            with m.If(last_tile):
                                m.next = "DRAIN"
                            with m.Else():
                                m.d.sync += [n_pos.eq(n_pos + R), parity.eq(~parity)]
                                next_tile_load()
                    with m.Else():
                        m.d.sync += [t.eq(t + 1), k_pos.eq(k_pos + C)]
            with m.State("DRAIN"):
                m.d.comb += [self.busy.eq(1), self.draining.eq(1)]
                with m.If(self.pipe_empty):
                    m.next = "DONE"
            with m.State("DONE"):
                m.d.comb += [self.busy.eq(1), self.done.eq(1)]
                m.next = "IDLE"
        return m
