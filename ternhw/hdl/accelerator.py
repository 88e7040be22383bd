"""The top level: buffers, decoder, array, accumulators, requantizer, output stream, counters.

Pipeline (one array step per clock, ``docs/microarchitecture.md``)::

    cycle c     controller issues a step: buffer read addresses
    cycle c+1   buffer data -> WeightDecoder -> MacArray  -> stage-2 registers (chunk sums)
    cycle c+2   AccumulatorBank update (bias bank selected by the step's tile parity)
    cycle c+3   a token's last chunk done: Requantizer -> output register (o_res.valid)

Output back-pressure stops the whole design only when a finished token must be handed to the
output register while it is still full; a starved input stream stops it too. Either way nothing
moves that cycle, so the cycle count is the cycle model's plus ``status.stall_cycles``.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..config import AcceleratorConfig
from ..model.contract import REQUANT_MULT_BITS
from .accumulator import AccumulatorBank
from .adder_tree import balanced_sum
from .controller import DIM_BITS, Controller
from .decoder import WeightDecoder
from .faults import check_fault
from .mac_array import MacArray
from .requant import SHIFT_BITS, Requantizer

COUNTER_BITS = 48


def command_signature() -> wiring.Signature:
    """The command interface: dimensions and requantization, latched on ``start``."""
    dim = unsigned(DIM_BITS)
    return wiring.Signature({
        "start": Out(1), "m": Out(dim), "k": Out(dim), "n": Out(dim),
        "bias_en": Out(1), "requant_en": Out(1), "relu": Out(1),
        "multiplier": Out(unsigned(REQUANT_MULT_BITS)), "shift": Out(unsigned(SHIFT_BITS)),
    })


def status_signature() -> wiring.Signature:
    """Status and performance counters (cleared on ``start``)."""
    cnt = unsigned(COUNTER_BITS)
    return wiring.Signature({
        "busy": Out(1), "done": Out(1), "error": Out(1),
        "cycles": Out(cnt), "busy_cycles": Out(cnt), "stall_cycles": Out(cnt),
        "zero_skips": Out(cnt), "overflow_events": Out(cnt),
    })


def result_layout(cfg: AcceleratorConfig) -> data.StructLayout:
    """One output word: ``rows`` values (int8 sign-extended, or the raw accumulators) and the
    per-output overflow and saturation flags."""
    return data.StructLayout({
        "values": data.ArrayLayout(signed(cfg.acc_bits), cfg.rows),
        "overflow": unsigned(cfg.rows),
        "saturated": unsigned(cfg.rows),
    })


class TernaryAccelerator(wiring.Component):
    """A ternary (or int8-baseline) GEMM accelerator generated from an ``AcceleratorConfig``.

    Members
    -------
    i_act : In(stream.Signature(cols * act_bits))
        Activation words, lane ``c`` in bits ``[c * act_bits, (c + 1) * act_bits)``.
    i_wgt : In(stream.Signature(weight_word_bits))
        Packed weight words (``WeightDecoder``).
    i_bias : In(stream.Signature(rows * acc_bits))
        One bias word per N-tile when ``cmd.bias_en``.
    o_res : Out(stream.Signature(result_layout))
        One word per (N-tile, token).
    cmd : In(command_signature())
    status : Out(status_signature())

    ``fault`` builds a deliberately broken variant (``ternhw.hdl.faults``) for fault-injection
    tests; leave it None.
    """

    def __init__(self, config: AcceleratorConfig, *, fault: str | None = None):
        if not isinstance(config, AcceleratorConfig):
            raise TypeError(f"config must be an AcceleratorConfig, not {config!r}")
        self.config = cfg = config
        self.fault = check_fault(fault)
        super().__init__({
            "i_act": In(stream.Signature(unsigned(cfg.act_word_bits))),
            "i_wgt": In(stream.Signature(unsigned(cfg.weight_word_bits))),
            "i_bias": In(stream.Signature(unsigned(cfg.rows * cfg.acc_bits))),
            "o_res": Out(stream.Signature(result_layout(cfg))),
            "cmd": In(command_signature()),
            "status": Out(status_signature()),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        R, C = cfg.rows, cfg.cols

        m.submodules.ctrl = ctrl = Controller(rows=R, cols=C, act_depth=cfg.act_buffer_depth,
                                              wgt_depth=cfg.weight_buffer_depth, fault=self.fault)
        m.submodules.act_buf = act_buf = Memory(shape=unsigned(cfg.act_word_bits),
                                                depth=cfg.act_buffer_depth, init=[])
        m.submodules.wgt_buf = wgt_buf = Memory(shape=unsigned(cfg.weight_word_bits),
                                                depth=cfg.weight_buffer_depth, init=[])
        m.submodules.decoder = decoder = WeightDecoder(n=R * C, fmt=cfg.weight_format)
        m.submodules.array = array = MacArray(rows=R, cols=C, act_bits=cfg.act_bits,
                                              ternary=cfg.is_ternary, fault=self.fault)
        m.submodules.accs = accs = AccumulatorBank(rows=R, tree_bits=array.tree_bits,
                                                   acc_bits=cfg.acc_bits,
                                                   overflow=cfg.overflow, fault=self.fault)
        m.submodules.requant = requant = Requantizer(acc_bits=cfg.acc_bits, fault=self.fault)

        act_w, act_r = act_buf.write_port(), act_buf.read_port()
        wgt_w, wgt_r = wgt_buf.write_port(), wgt_buf.read_port()

        # ---- command latch --------------------------------------------------------------
        requant_en = Signal()
        relu = Signal()
        multiplier = Signal(REQUANT_MULT_BITS)
        shift = Signal(SHIFT_BITS)
        idle_start = self.cmd.start & ~ctrl.busy
        with m.If(idle_start):
            m.d.sync += [requant_en.eq(self.cmd.requant_en), relu.eq(self.cmd.relu),
                         multiplier.eq(self.cmd.multiplier), shift.eq(self.cmd.shift)]

        # ---- pipeline control --------------------------------------------------------------
        s1_valid, s1_first, s1_last, s1_parity = Signal(), Signal(), Signal(), Signal()
        s1_kpos, s1_npos = Signal(DIM_BITS + 1), Signal(DIM_BITS + 1)
        s2_valid, s2_first, s2_last, s2_parity = Signal(), Signal(), Signal(), Signal()
        s2_sums = Signal(data.ArrayLayout(signed(array.tree_bits), R))
        s2_nonzero = Signal(R)
        acc_done = Signal()
        blocked = Signal()
        advance = Signal()
        K, N = Signal(DIM_BITS), Signal(DIM_BITS)
        with m.If(idle_start):
            m.d.sync += [K.eq(self.cmd.k), N.eq(self.cmd.n)]

        m.d.comb += [
            blocked.eq(acc_done & self.o_res.valid & ~self.o_res.ready),
            advance.eq(~blocked & ~ctrl.starved),
            ctrl.start.eq(self.cmd.start), ctrl.m.eq(self.cmd.m), ctrl.k.eq(self.cmd.k),
            ctrl.n.eq(self.cmd.n), ctrl.bias_en.eq(self.cmd.bias_en),
            ctrl.act_valid.eq(self.i_act.valid), ctrl.wgt_valid.eq(self.i_wgt.valid),
            ctrl.bias_valid.eq(self.i_bias.valid),
            ctrl.hold.eq(blocked),
            ctrl.pipe_empty.eq(~s1_valid & ~s2_valid & ~acc_done & ~self.o_res.valid),
            self.i_act.ready.eq(ctrl.act_ready), self.i_wgt.ready.eq(ctrl.wgt_ready),
            self.i_bias.ready.eq(ctrl.bias_ready),
            # buffers
            act_w.addr.eq(ctrl.act_waddr), act_w.data.eq(self.i_act.payload),
            act_w.en.eq(self.i_act.valid & ctrl.act_ready),
            wgt_w.addr.eq(ctrl.wgt_waddr), wgt_w.data.eq(self.i_wgt.payload),
            wgt_w.en.eq(self.i_wgt.valid & ctrl.wgt_ready),
            act_r.addr.eq(ctrl.act_raddr), act_r.en.eq(advance),
            wgt_r.addr.eq(ctrl.wgt_raddr), wgt_r.en.eq(advance),
        ]

        # ---- stage 0 -> 1: the issued step travels with its buffer read ------------------------
        with m.If(advance):
            m.d.sync += [s1_valid.eq(ctrl.issue), s1_first.eq(ctrl.first),
                         s1_last.eq(ctrl.last), s1_parity.eq(ctrl.tile_parity),
                         s1_kpos.eq(ctrl.k_pos), s1_npos.eq(ctrl.n_pos)]

        # ---- stage 1: decode, lanes, adder trees ---------------------------------------------
        acts = act_r.data
        m.d.comb += [
            decoder.word.eq(wgt_r.data),
            array.weights.eq(decoder.weights),
        ]
        for c in range(C):
            m.d.comb += array.acts[c].eq(acts[c * cfg.act_bits:(c + 1) * cfg.act_bits].as_signed())
        col_live = Signal(C)
        row_live = Signal(R)
        for c in range(C):
            m.d.comb += col_live[c].eq(s1_kpos + c < K)
        for r in range(R):
            m.d.comb += row_live[r].eq(s1_npos + r < N)
        skips = balanced_sum([array.gated[r * C + c] & row_live[r] & col_live[c]
                              for r in range(R) for c in range(C)])
        with m.If(advance):
            m.d.sync += [s2_valid.eq(s1_valid), s2_first.eq(s1_first), s2_last.eq(s1_last),
                         s2_parity.eq(s1_parity), s2_sums.eq(array.sums),
                         s2_nonzero.eq(array.nonzero if cfg.is_ternary else (1 << R) - 1)]

        # ---- stage 2: accumulate ------------------------------------------------------------
        bias_banks = [Signal(data.ArrayLayout(signed(cfg.acc_bits), R), name=f"bias{i}")
                      for i in range(2)]
        with m.If(idle_start & ~self.cmd.bias_en):
            m.d.sync += [b.eq(0) for b in bias_banks]
        with m.If(ctrl.bias_load):
            with m.If(ctrl.tile_parity):
                m.d.sync += bias_banks[1].eq(self.i_bias.payload)
            with m.Else():
                m.d.sync += bias_banks[0].eq(self.i_bias.payload)
        m.d.comb += [
            accs.en.eq(s2_valid & advance), accs.first.eq(s2_first),
            accs.sums.eq(s2_sums), accs.nonzero.eq(s2_nonzero),
            accs.bias.eq(Mux(s2_parity, bias_banks[1], bias_banks[0])),
        ]
        with m.If(advance):
            m.d.sync += acc_done.eq(s2_valid & s2_last)

        # ---- stage 3: requantize into the output register ---------------------------------------
        result = Signal(result_layout(cfg))
        saturated = Signal(R)
        for r in range(R):
            rq = Requantizer(acc_bits=cfg.acc_bits, fault=self.fault) if r else requant
            if r:
                m.submodules[f"requant{r}"] = rq
            m.d.comb += [rq.acc.eq(accs.acc[r]), rq.multiplier.eq(multiplier),
                         rq.shift.eq(shift), rq.relu.eq(relu),
                         result.values[r].eq(Mux(requant_en, rq.out, accs.acc[r])),
                         saturated[r].eq(requant_en & rq.saturated)]
        m.d.comb += [result.overflow.eq(accs.overflow), result.saturated.eq(saturated)]
        with m.If(acc_done & advance):
            m.d.sync += [self.o_res.valid.eq(1), self.o_res.payload.eq(result)]
        with m.Elif(self.o_res.ready):
            m.d.sync += self.o_res.valid.eq(0)

        # ---- status and performance counters ---------------------------------------------
        st = self.status
        m.d.comb += [st.busy.eq(ctrl.busy), st.done.eq(ctrl.done), st.error.eq(ctrl.error)]
        # a stall delays the whole schedule by exactly one cycle: a starved input, a blocked
        # hand-off to the output register, or a drain waiting only on the output register
        only_output_left = ~s1_valid & ~s2_valid & ~acc_done & self.o_res.valid
        stalled = ctrl.starved | blocked | (ctrl.draining & only_output_left & ~self.o_res.ready)
        with m.If(idle_start):
            m.d.sync += [st.cycles.eq(0), st.busy_cycles.eq(0), st.stall_cycles.eq(0),
                         st.zero_skips.eq(0), st.overflow_events.eq(0)]
        with m.Elif(ctrl.busy):
            m.d.sync += [
                st.cycles.eq(st.cycles + 1),
                st.stall_cycles.eq(st.stall_cycles + stalled),
                st.busy_cycles.eq(st.busy_cycles + (s1_valid & advance)),
                st.zero_skips.eq(st.zero_skips + Mux(s1_valid & advance, skips, 0)),
                st.overflow_events.eq(st.overflow_events + accs.events),
            ]
        return m
