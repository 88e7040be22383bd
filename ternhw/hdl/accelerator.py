"""The top level: loaders and buffers, decoder, array, accumulators, output stage, counters.

Pipeline (one array step per clock, ``docs/microarchitecture.md``)::

    cycle c     the controller issues a step whose words are in the buffers: read addresses
    cycle c+1   buffer data -> WeightDecoder -> decode registers (trits, activations)
    cycle c+2   MacArray (lanes, first adder-tree levels) -> group-sum registers (row skips)
    cycle c+3   the last adder-tree levels -> stage-2 registers (chunk sums)
    cycle c+4   AccumulatorBank update (bias bank selected by the step's tile parity)
    cycle c+5   a token's last chunk done: its accumulators go to the output stage's snapshot,
                then through the shared requantizer into the output word (o_res.valid)

``ternhw.model.timing.ARRAY_STAGES`` counts the registers from issue to the accumulator update.

Performance counters count one to three clocks behind what they count (zero-skips and overflow
events need wide sums, and the stall and hold increments are registered off the ``hold`` path),
so no counter adder sits at the end of the array's, accumulators' or controller's paths; every
count is complete at ``done``.

The activation, weight and bias streams load concurrently with compute (the weight buffer is a
ring, so the next tile's weights arrive while the current tile computes). Only the output stage
can stop the array pipeline (``hold``): when a finished token finds the snapshot still being
requantized. ``ternhw.model.timing`` steps the same rules and predicts every cycle.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..config import AcceleratorConfig
from ..model.contract import REQUANT_MAX_SHIFT, REQUANT_MULT_BITS
from .accumulator import AccumulatorBank
from .adder_tree import balanced_sum
from .controller import DIM_BITS, Controller
from .decoder import WeightCodeCheck, WeightDecoder
from .faults import check_fault
from .mac_array import MacArray
from .output_stage import OutputStage
from .output_stage import result_layout as _result_layout
from .requant import SHIFT_BITS

COUNTER_BITS = 48


def command_signature() -> wiring.Signature:
    """The command interface: dimensions and requantization, latched on ``start``."""
    dim = unsigned(DIM_BITS)
    return wiring.Signature({
        "start": Out(1), "m": Out(dim), "k": Out(dim), "n": Out(dim),
        "bias_en": Out(1), "resident": Out(1), "keep_weights": Out(1),
        "requant_en": Out(1), "relu": Out(1),
        "multiplier": Out(unsigned(REQUANT_MULT_BITS)), "shift": Out(unsigned(SHIFT_BITS)),
    })


def status_signature() -> wiring.Signature:
    """Status and performance counters (cleared on ``start``): ``stall_cycles`` counts running
    cycles in which no array step issued (an input word not there yet, or ``hold``),
    ``hold_cycles`` those in which the output stage held the pipeline."""
    cnt = unsigned(COUNTER_BITS)
    return wiring.Signature({
        "busy": Out(1), "done": Out(1), "error": Out(1),
        "cycles": Out(cnt), "busy_cycles": Out(cnt), "stall_cycles": Out(cnt),
        "hold_cycles": Out(cnt), "zero_skips": Out(cnt), "overflow_events": Out(cnt),
    })


def result_layout(cfg: AcceleratorConfig) -> data.StructLayout:
    """One output word: ``rows`` values (int8 sign-extended, or the raw accumulators) and the
    per-output overflow and saturation flags."""
    return _result_layout(cfg.rows, cfg.acc_bits)


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
                                              wgt_depth=cfg.weight_buffer_depth, fault=self.fault,
                                              weight_check=cfg.is_ternary)
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
        m.submodules.out = out = OutputStage(rows=R, acc_bits=cfg.acc_bits,
                                             lanes=cfg.requant_lanes, fault=self.fault)

        act_w, act_r = act_buf.write_port(), act_buf.read_port()
        wgt_w, wgt_r = wgt_buf.write_port(), wgt_buf.read_port()

        # ---- command latch --------------------------------------------------------------
        idle_start = self.cmd.start & ~ctrl.busy
        with m.If(idle_start):
            m.d.sync += [out.requant_en.eq(self.cmd.requant_en), out.relu.eq(self.cmd.relu),
                         out.multiplier.eq(self.cmd.multiplier), out.shift.eq(self.cmd.shift)]
        K, N = Signal(DIM_BITS), Signal(DIM_BITS)
        with m.If(idle_start):
            m.d.sync += [K.eq(self.cmd.k), N.eq(self.cmd.n)]

        # ---- pipeline control --------------------------------------------------------------
        s1_valid, s1_first, s1_last, s1_parity = Signal(), Signal(), Signal(), Signal()
        s1_kpos, s1_npos = Signal(DIM_BITS + 1), Signal(DIM_BITS + 1)
        sd_valid, sd_first, sd_last, sd_parity = Signal(), Signal(), Signal(), Signal()
        # which lanes lie inside K and N (for the zero-skip count), computed a clock ahead
        sd_col_live = Signal(C, name="sd_col_live")
        sd_row_live = Signal(R, name="sd_row_live")
        sd_weights = Signal.like(decoder.weights)
        sd_acts = Signal(unsigned(cfg.act_word_bits))
        sp_valid, sp_first, sp_last, sp_parity = Signal(), Signal(), Signal(), Signal()
        sp_sums = Signal.like(array.group_sums)
        sp_nonzero = Signal(R)
        s2_valid, s2_first, s2_last = Signal(), Signal(), Signal()
        s2_sums = Signal(data.ArrayLayout(signed(array.tree_bits), R))
        s2_nonzero = Signal(R)
        skip_bits = (C + 1).bit_length()
        sp_skips = Signal(data.ArrayLayout(unsigned(skip_bits), R))
        s3_skips = Signal(range(R * C + 1))
        event_bits = Signal(R)
        events_r = Signal(range(R + 1))
        acc_done = Signal()
        advance = Signal()

        m.d.comb += [
            advance.eq(~out.hold),
            ctrl.start.eq(self.cmd.start), ctrl.m.eq(self.cmd.m), ctrl.k.eq(self.cmd.k),
            ctrl.n.eq(self.cmd.n), ctrl.bias_en.eq(self.cmd.bias_en),
            ctrl.resident.eq(self.cmd.resident), ctrl.keep_weights.eq(self.cmd.keep_weights),
            ctrl.reject.eq(self.cmd.requant_en & (self.cmd.shift > REQUANT_MAX_SHIFT)),
            ctrl.act_valid.eq(self.i_act.valid), ctrl.wgt_valid.eq(self.i_wgt.valid),
            ctrl.bias_valid.eq(self.i_bias.valid),
            ctrl.hold.eq(out.hold),
            ctrl.bank_busy.eq(Mux(s1_valid, Mux(s1_parity, 0b10, 0b01), 0)
                              | Mux(sd_valid, Mux(sd_parity, 0b10, 0b01), 0)
                              | Mux(sp_valid, Mux(sp_parity, 0b10, 0b01), 0)),
            ctrl.pipe_empty.eq(~s1_valid & ~sd_valid & ~sp_valid & ~s2_valid & ~acc_done
                               & out.empty),
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

        if cfg.is_ternary:
            # an invalid code in a loaded weight word: status.error for the loading command
            m.submodules.code_check = check = WeightCodeCheck(n=R * C, fmt=cfg.weight_format)
            m.d.comb += [check.word.eq(self.i_wgt.payload), check.valid.eq(wgt_w.en),
                         check.clear.eq(idle_start), ctrl.weight_fault.eq(check.invalid)]

        # ---- stage 0 -> 1: the issued step travels with its buffer read ------------------------
        with m.If(advance):
            m.d.sync += [s1_valid.eq(ctrl.issue), s1_first.eq(ctrl.first),
                         s1_last.eq(ctrl.last), s1_parity.eq(ctrl.tile_parity),
                         s1_kpos.eq(ctrl.k_pos), s1_npos.eq(ctrl.n_pos)]

        # ---- stage 1: decode the weight word --------------------------------------------------
        m.d.comb += decoder.word.eq(wgt_r.data)
        with m.If(advance):
            m.d.sync += [sd_col_live[c].eq(s1_kpos + c < K) for c in range(C)]
            m.d.sync += [sd_row_live[r].eq(s1_npos + r < N) for r in range(R)]
            m.d.sync += [sd_valid.eq(s1_valid), sd_first.eq(s1_first), sd_last.eq(s1_last),
                         sd_parity.eq(s1_parity),
                         sd_weights.eq(decoder.weights), sd_acts.eq(act_r.data)]

        # ---- stage d: lanes, first adder-tree levels ------------------------------------------
        m.d.comb += array.weights.eq(sd_weights)
        for c in range(C):
            m.d.comb += array.acts[c].eq(
                sd_acts[c * cfg.act_bits:(c + 1) * cfg.act_bits].as_signed())
        col_live, row_live = sd_col_live, sd_row_live
        with m.If(advance):
            m.d.sync += [sp_valid.eq(sd_valid), sp_first.eq(sd_first), sp_last.eq(sd_last),
                         sp_parity.eq(sd_parity), sp_sums.eq(array.group_sums),
                         sp_nonzero.eq(array.nonzero if cfg.is_ternary else (1 << R) - 1)]
            for r in range(R):
                row_gated = [array.gated[r * C + c] & col_live[c] for c in range(C)]
                m.d.sync += sp_skips[r].eq(Mux(sd_valid & row_live[r],
                                               balanced_sum(row_gated), 0))
            m.d.sync += s3_skips.eq(Mux(sp_valid, balanced_sum(list(sp_skips)), 0))

        # ---- bias banks (two: the next tile's bias loads while the current tile runs) -----------
        bias_banks = [Signal(data.ArrayLayout(signed(cfg.acc_bits), R), name=f"bias{i}")
                      for i in range(2)]
        with m.If(idle_start & ~self.cmd.bias_en):
            m.d.sync += [b.eq(0) for b in bias_banks]
        # a loaded bias word is written into its bank a clock later, from a register: the
        # load decision (comparisons in the controller) then drives one flip-flop, not the
        # enables of both banks. No step reads a bank within a clock of its reload (bank_busy
        # keeps every step before the accumulator stage off it), so the timing is unchanged.
        bias_word = Signal(unsigned(R * cfg.acc_bits))
        bias_write = Signal(2)
        m.d.sync += [bias_word.eq(self.i_bias.payload),
                     bias_write.eq(Mux(ctrl.bias_load, Mux(ctrl.bias_bank, 0b10, 0b01), 0))]
        for i, bank in enumerate(bias_banks):
            with m.If(bias_write[i]):
                m.d.sync += bank.eq(bias_word)

        # ---- stage p: the last adder-tree levels; the step's bias bank is chosen here ----------
        # (a clock ahead of the accumulator add, which then has no bank multiplexer in front of
        # its carry chain; the step is still inside bank_busy's window when it reads the bank)
        s2_bias = Signal(data.ArrayLayout(signed(cfg.acc_bits), R))
        with m.If(advance):
            m.d.sync += [s2_valid.eq(sp_valid), s2_first.eq(sp_first), s2_last.eq(sp_last),
                         s2_nonzero.eq(sp_nonzero),
                         s2_bias.eq(Mux(sp_parity, bias_banks[1], bias_banks[0]))]
            m.d.sync += [s2_sums[r].eq(balanced_sum(list(sp_sums[r]))) for r in range(R)]

        # ---- stage 2: accumulate ------------------------------------------------------------
        m.d.comb += [
            accs.en.eq(s2_valid & advance), accs.first.eq(s2_first),
            accs.sums.eq(s2_sums), accs.nonzero.eq(s2_nonzero), accs.bias.eq(s2_bias),
        ]
        with m.If(advance):
            m.d.sync += acc_done.eq(s2_valid & s2_last)
        m.d.sync += [event_bits.eq(accs.events), events_r.eq(balanced_sum(list(event_bits)))]

        # ---- stage 3: the output stage (snapshot, shared requantizer, output word) -------------
        m.d.comb += [out.acc_done.eq(acc_done), out.accs.eq(accs.acc),
                     out.overflow.eq(accs.overflow)]
        wiring.connect(m, wiring.flipped(self.o_res), out.o_res)

        # ---- status and performance counters ---------------------------------------------
        st = self.status
        m.d.comb += [st.busy.eq(ctrl.busy), st.done.eq(ctrl.done), st.error.eq(ctrl.error)]
        # the stall and hold increments are registered first: ``hold`` (output stage) ->
        # ``issue`` -> ``waiting`` -> a 48-bit add was the ECP5 critical path. The last
        # running clock's increment lands in DRAIN, still busy, so every count is complete at
        # ``done``.
        stall_inc, hold_inc = Signal(), Signal()
        m.d.sync += [stall_inc.eq(ctrl.busy & ctrl.waiting),
                     hold_inc.eq(ctrl.busy & ctrl.waiting & out.hold)]
        with m.If(idle_start):
            m.d.sync += [st.cycles.eq(0), st.busy_cycles.eq(0), st.stall_cycles.eq(0),
                         st.hold_cycles.eq(0), st.zero_skips.eq(0), st.overflow_events.eq(0)]
        with m.Elif(ctrl.busy):
            m.d.sync += [
                st.cycles.eq(st.cycles + 1),
                st.stall_cycles.eq(st.stall_cycles + stall_inc),
                st.hold_cycles.eq(st.hold_cycles + hold_inc),
                st.busy_cycles.eq(st.busy_cycles + (s1_valid & advance)),
                st.zero_skips.eq(st.zero_skips + (
                    s3_skips if self.fault == "skips_while_stalled"
                    else Mux(advance, s3_skips, 0))),
                st.overflow_events.eq(st.overflow_events + events_r),
            ]
        return m
