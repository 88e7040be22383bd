"""The controller: command handling, three concurrent loaders and the array-step issue stage.

From the first clock after ``start`` the activation, weight and bias loaders accept words on
their streams independently; the issue stage walks the tiling of ``docs/semantics.md`` (N-tile by
N-tile, token by token, chunk by chunk) and starts an array step as soon as the step's
activation word and weight word have been written and its tile's bias is loaded. So the next
tile's weights stream in while the current tile computes, and nothing waits for a whole buffer.

The weight buffer is a ring of ``wgt_depth`` words. In streaming mode a tile's ``T`` words are
freed when its last step issues; with ``resident`` the whole matrix is kept (it must fit), and a
later command with ``keep_weights`` and the same K and N reuses it without loading a word. K and N
need not be multiples of the array: the loops end on ``k_pos + cols >= K`` and
``n_pos + rows >= N`` (no division in hardware). ``ternhw.model.timing`` steps the same rules.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int
from .faults import check_fault

DIM_BITS = 16


class Controller(wiring.Component):
    """GEMM sequencer with overlapped loading.

    Parameters
    ----------
    rows, cols : int
        Array size: the tile and chunk steps.
    act_depth, wgt_depth : int
        Buffer depths in words. A command whose activations do not fit, whose tile does not fit
        the weight ring, or whose resident matrix does not fit, ends with ``error``.

    Members
    -------
    start : In(1)
        In ``IDLE``, latches the command and starts.
    reject : In(1)
        With ``start``: the command is invalid elsewhere (e.g. a requantization shift the
        contract does not allow); end at once with ``error``.
    m, k, n : In(16)
    bias_en, resident, keep_weights : In(1)
        ``resident``: load the whole matrix and keep it for the next command. ``keep_weights``:
        use the matrix a previous ``resident`` command left (same K and N), load no weights.
    act_valid, bias_valid, wgt_valid : In(1)
        The input streams' ``valid``.
    hold : In(1)
        The output stage cannot take a finished token: no array step issues this cycle.
    bank_busy : In(2)
        Bias bank ``b`` is read by a step in stage 1 and must not be overwritten.
    pipe_empty : In(1)
    act_ready, bias_ready, wgt_ready : Out(1)
    act_waddr, wgt_waddr : Out(...)
        Write addresses, written on ``valid & ready``.
    bias_load, bias_bank : Out(1)
        Load the bias word into bank ``bias_bank``.
    issue : Out(1)
        An array step is issued: read ``act_raddr`` and ``wgt_raddr``.
    first, last : Out(1)
        The issued chunk is a token's first / last.
    k_pos, n_pos : Out(16)
        First K index of the chunk and first N index of the tile.
    tile_parity : Out(1)
        Parity of the issuing N-tile (selects a bias bank).
    busy, done, error, waiting : Out(1)
        ``waiting``: running, but no step issued this cycle. ``done`` (one cycle) ends every
        command.
    weight_fault : In(1), only with ``weight_check``
        A weight word the running command loaded holds an invalid code: ``error`` is raised
        (the command still runs to its end; the host discards its results) and a resident
        matrix it loads is not kept, so no later ``keep_weights`` command reuses it.
    """

    def __init__(self, *, rows: int, cols: int, act_depth: int, wgt_depth: int,
                 fault: str | None = None, weight_check: bool = False):
        self._rows = check_int("rows", rows, 1, 256)
        self._cols = check_int("cols", cols, 1, 256)
        self._act_depth = check_int("act_depth", act_depth, 1)
        self._wgt_depth = check_int("wgt_depth", wgt_depth, 1)
        self._fault = check_fault(fault)
        dim = unsigned(DIM_BITS)
        super().__init__({
            "start": In(1), "reject": In(1), "m": In(dim), "k": In(dim), "n": In(dim),
            "bias_en": In(1), "resident": In(1), "keep_weights": In(1),
            "act_valid": In(1), "bias_valid": In(1), "wgt_valid": In(1),
            "hold": In(1), "bank_busy": In(2), "pipe_empty": In(1),
            "act_ready": Out(1), "bias_ready": Out(1), "wgt_ready": Out(1),
            "act_waddr": Out(range(act_depth)), "wgt_waddr": Out(range(wgt_depth)),
            "bias_load": Out(1), "bias_bank": Out(1),
            "issue": Out(1), "act_raddr": Out(range(act_depth)),
            "wgt_raddr": Out(range(wgt_depth)),
            "first": Out(1), "last": Out(1),
            "k_pos": Out(dim), "n_pos": Out(dim), "tile_parity": Out(1),
            "busy": Out(1), "done": Out(1), "error": Out(1), "waiting": Out(1),
            **({"weight_fault": In(1)} if weight_check else {}),
        })

    def elaborate(self, platform):
        m = Module()
        R, C, AD, WD = self._rows, self._cols, self._act_depth, self._wgt_depth
        dim1 = DIM_BITS + 1
        M, K, N = Signal(DIM_BITS), Signal(DIM_BITS), Signal(DIM_BITS)
        bias_en, resident, keep = Signal(), Signal(), Signal()
        error = Signal()
        running = Signal()
        # the K and N of the matrix left resident by the last resident command
        res_valid = Signal()
        res_k, res_n = Signal(DIM_BITS), Signal(DIM_BITS)

        def chunk_end(k_pos, k=None):
            k = K if k is None else k
            if self._fault == "tile_bound":
                return k_pos + C + 1 >= k
            return k_pos + C >= k

        # ---- activation loader -------------------------------------------------------------
        a_cnt = Signal(range(AD + 1))
        a_kpos, a_tok = Signal(dim1), Signal(DIM_BITS)
        a_done = Signal()
        a_room = a_cnt < AD
        a_take = Signal()
        m.d.comb += [
            self.act_ready.eq(running & ~a_done & a_room),
            a_take.eq(self.act_valid & self.act_ready),
            self.act_waddr.eq(a_cnt),
        ]
        with m.If(a_take):
            m.d.sync += a_cnt.eq(a_cnt + 1)
            with m.If(chunk_end(a_kpos)):
                m.d.sync += [a_kpos.eq(0), a_tok.eq(a_tok + 1)]
                with m.If(a_tok + 1 >= M):
                    m.d.sync += a_done.eq(1)
            with m.Else():
                m.d.sync += a_kpos.eq(a_kpos + C)

        # ---- issue-stage registers (the loaders read some of them) --------------------------
        i_tile = Signal(DIM_BITS)
        i_npos = Signal(dim1)
        tok = Signal(DIM_BITS)
        t = Signal(range(WD + 1))
        k_pos = Signal(dim1)
        addr = Signal(range(AD + 1))
        base = Signal(range(WD))
        # the loop-end conditions are registers, computed when their counters step, so that no
        # comparison sits between the counters and the issue decision
        last_chunk, last_token, last_tile = Signal(), Signal(), Signal()
        t_next = Signal(range(WD + 2))                       # t + 1
        tile_end = Signal()

        # ---- weight loader: a ring of WD words -----------------------------------------------
        w_space = Signal(range(WD + 1))
        w_avail = Signal(range(WD + 1))
        w_ptr = Signal(range(WD))
        w_kpos, w_npos = Signal(dim1), Signal(dim1)
        w_done = Signal()
        w_take = Signal()
        m.d.comb += [
            self.wgt_ready.eq(running & ~w_done & (w_space != 0)),
            w_take.eq(self.wgt_valid & self.wgt_ready),
            self.wgt_waddr.eq(w_ptr),
        ]
        with m.If(w_take):
            m.d.sync += w_ptr.eq(Mux(w_ptr == WD - 1, 0, w_ptr + 1))
            with m.If(chunk_end(w_kpos)):
                m.d.sync += [w_kpos.eq(0), w_npos.eq(w_npos + R)]
                with m.If(w_npos + R >= N):
                    m.d.sync += w_done.eq(1)
            with m.Else():
                m.d.sync += w_kpos.eq(w_kpos + C)
        freed = Mux(tile_end & ~resident & ~keep, t_next, 0)
        released = Mux(tile_end, t_next, 0)
        m.d.sync += [
            w_space.eq(w_space - w_take + freed),
            w_avail.eq(w_avail + w_take - released),
        ]
        # a full ring that can never drain: the matrix (resident) or one tile does not fit
        w_stuck = running & ~w_done & (w_space == 0) & (resident | (w_npos == i_npos))

        # ---- bias loader: two banks, by tile parity ----------------------------------------
        b_cnt = Signal(DIM_BITS)
        b_npos = Signal(dim1)
        b_done = Signal()
        m.d.comb += [
            self.bias_bank.eq(b_cnt[0]),
            self.bias_ready.eq(running & ~b_done & (b_cnt <= i_tile + 1)
                               & ~self.bank_busy.bit_select(b_cnt[0], 1)),
            self.bias_load.eq(self.bias_valid & self.bias_ready),
        ]
        with m.If(self.bias_load):
            m.d.sync += b_cnt.eq(b_cnt + 1)
            with m.If(b_npos + R >= N):
                m.d.sync += b_done.eq(1)
            with m.Else():
                m.d.sync += b_npos.eq(b_npos + R)

        # ---- issue stage -------------------------------------------------------------------
        act_ok = a_done | (a_cnt > addr)
        wgt_ok = keep | (w_avail > t)
        bias_ok = ~bias_en | (b_cnt > i_tile)
        raddr = base + t
        m.d.comb += [
            self.issue.eq(running & act_ok & wgt_ok & bias_ok & ~self.hold),
            self.waiting.eq(running & ~self.issue),
            tile_end.eq(self.issue & last_chunk & last_token),
            self.act_raddr.eq(addr),
            self.wgt_raddr.eq(Mux(raddr >= WD, raddr - WD, raddr)),
            self.first.eq(k_pos == 0), self.last.eq(last_chunk),
            self.k_pos.eq(k_pos), self.n_pos.eq(i_npos), self.tile_parity.eq(i_tile[0]),
            self.error.eq(error),
        ]
        with m.If(self.issue):
            m.d.sync += addr.eq(addr + 1)
            with m.If(last_chunk):
                m.d.sync += [t.eq(0), t_next.eq(1), k_pos.eq(0), tok.eq(tok + 1),
                             last_chunk.eq(chunk_end(0)), last_token.eq(tok + 2 >= M)]
                with m.If(last_token):
                    nb = base + t_next
                    m.d.sync += [tok.eq(0), addr.eq(0), i_tile.eq(i_tile + 1),
                                 i_npos.eq(i_npos + R), last_token.eq(M == 1),
                                 last_tile.eq(i_npos + 2 * R >= N),
                                 base.eq(Mux(nb >= WD, nb - WD, nb))]
            with m.Else():
                m.d.sync += [t.eq(t_next), t_next.eq(t_next + 1), k_pos.eq(k_pos + C),
                             last_chunk.eq(chunk_end(k_pos + C))]

        def fail():
            # steps already issued still drain, so nothing leaves o_res after done (a formal
            # proof found the leak when this went straight to DONE); status.error tells the host
            # to discard the results of tokens that finished before the abort
            m.d.sync += [error.eq(1), running.eq(0)]
            m.next = "DRAIN"

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    keep_now = self.keep_weights
                    m.d.sync += [
                        M.eq(self.m), K.eq(self.k), N.eq(self.n), bias_en.eq(self.bias_en),
                        resident.eq(self.resident), keep.eq(keep_now), error.eq(0),
                        a_cnt.eq(0), a_kpos.eq(0), a_tok.eq(0), a_done.eq(0),
                        w_space.eq(WD), w_avail.eq(0), w_ptr.eq(0), w_kpos.eq(0),
                        w_npos.eq(0), w_done.eq(keep_now),
                        b_cnt.eq(0), b_npos.eq(0), b_done.eq(~self.bias_en),
                        i_tile.eq(0), i_npos.eq(0), tok.eq(0), t.eq(0), k_pos.eq(0),
                        addr.eq(0), base.eq(0), t_next.eq(1),
                        last_chunk.eq(chunk_end(0, self.k)), last_token.eq(self.m == 1),
                        last_tile.eq(self.n <= R),
                    ]
                    bad_keep = keep_now & (~res_valid | (res_k != self.k) | (res_n != self.n))
                    with m.If((self.m == 0) | (self.k == 0) | (self.n == 0) | bad_keep
                              | self.reject):
                        m.d.sync += error.eq(1)
                        m.next = "DONE"
                    with m.Else():
                        m.d.sync += running.eq(1)
                        with m.If(~keep_now):
                            m.d.sync += res_valid.eq(0)
                        m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += self.busy.eq(1)
                with m.If((self.act_valid & ~a_done & ~a_room) | w_stuck):
                    fail()
                with m.Elif(tile_end & last_tile):
                    m.d.sync += running.eq(0)
                    with m.If(resident):
                        m.d.sync += [res_valid.eq(~error), res_k.eq(K), res_n.eq(N)]
                    m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.pipe_empty):
                    m.next = "DONE"
            with m.State("DONE"):
                m.d.comb += [self.busy.eq(1), self.done.eq(1)]
                m.next = "IDLE"
        if "weight_fault" in self.signature.members:
            with m.If(self.weight_fault & self.busy):
                m.d.sync += [error.eq(1), res_valid.eq(0)]
        return m
