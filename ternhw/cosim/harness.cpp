// Bulk co-simulation harness for the ternhw accelerator (see ternhw/cosim/bulk.py).
//
// Verilator compiles this file with the generated Verilog into one executable that drives every
// command of a job through the design's valid/ready streams in a plain C++ loop: no Python runs
// per clock. It reads the job (commands, stream words, handshake options) from a binary file
// and writes back every accepted result word with its cycle, each command's cycle count and the
// status counters; Python then checks all of it against ternhw.model.
//
// The cycle discipline is the cocotb testbench's (ternhw/cosim/bfm.py): inputs are driven after
// a rising edge, the handshakes are sampled once the design has settled, and they take effect
// at the next rising edge. Verilator spells the ports' double underscore ``___05F``
// (``status__done`` is ``status___05Fdone``). The port-specific code (command fields, word widths) is generated
// into harness_ports.h by bulk.py.
//
// Usage: harness JOB RESULT          run the job, write the results
//        harness JOB - --raw N       clock N cycles at full rate on the job's first command with
//                                    no queues, checks or output: the ceiling a harness can reach
//        harness JOB RESULT --trace VCD FROM TO
//                                    (built with TERNHW_TRACE) also dump cycles [FROM, TO),
//                                    counted from reset, to VCD; 10 time units per cycle
//        harness JOB RESULT --toggles DAT
//                                    (built with TERNHW_TOGGLE, i.e. Verilator --coverage-toggle)
//                                    also write every signal bit's toggle count after reset to
//                                    DAT (Verilator's coverage format; ternhw/cosim/toggles.py)

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vtop.h"
#include "verilated.h"
#ifdef TERNHW_TRACE
#include "verilated_vcd_c.h"
#endif
#ifdef TERNHW_TOGGLE
#include "verilated_cov.h"
#endif

template <class T> static void put(T& port, const uint32_t* w) { port = static_cast<T>(w[0]); }
static void put(QData& port, const uint32_t* w) {
    port = static_cast<QData>(w[0]) | (static_cast<QData>(w[1]) << 32);
}
template <std::size_t N> static void put(VlWide<N>& port, const uint32_t* w) {
    for (std::size_t i = 0; i < N; ++i) port[i] = w[i];
}
template <class T> static void get(const T& port, uint32_t* w) { w[0] = static_cast<uint32_t>(port); }
static void get(const QData& port, uint32_t* w) {
    w[0] = static_cast<uint32_t>(port);
    w[1] = static_cast<uint32_t>(port >> 32);
}
template <std::size_t N> static void get(const VlWide<N>& port, uint32_t* w) {
    for (std::size_t i = 0; i < N; ++i) w[i] = port[i];
}
static uint64_t get64(const QData& port) { return port; }
template <class T> static uint64_t get64(const T& port) { return static_cast<uint64_t>(port); }

#include "harness_ports.h"

namespace {

const uint32_t MAGIC = 0x424e5254;  // "TRNB"
const uint32_t VERSION = 1;
const int N_COUNTERS = 6;
// Per command: cycles (-1: timed out), timed out, error, act/wgt/bias words left, the counters
// (two words each), protocol violations (count, first kind, first cycle), result words; then
// each result word as its cycle and RES_CHUNKS words. Protocol kinds: 1 valid dropped before
// ready, 2 payload changed while stalled (ternhw.cosim.check.PROTOCOL_CHECKS).
// Then, for coverage, per stream (act, weight, bias, result): how many words waited 0, 1 and
// 2+ clocks with valid high and ready low, and (inputs) clocks the design was ready while the
// stream had words left but offered none.
const int N_STREAMS = 4;
const int STREAM_WORDS = 4;
const int HEADER_WORDS = 6 + 2 * N_COUNTERS + 3 + N_STREAMS * STREAM_WORDS + 1;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "harness: %s\n", msg.c_str());
    std::exit(2);
}

struct Reader {
    std::vector<uint32_t> data;
    std::size_t pos = 0;
    uint32_t next() {
        if (pos >= data.size()) die("job file is truncated");
        return data[pos++];
    }
    const uint32_t* take(std::size_t n) {
        if (pos + n > data.size()) die("job file is truncated");
        const uint32_t* p = data.data() + pos;
        pos += n;
        return p;
    }
};

// A seeded xorshift64*: the random valid/ready draws of one command.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    double uniform() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return static_cast<double>((s * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
    }
};

// One input stream: its words (``chunks`` uint32s each), how many are accepted, and when each
// may be offered (``arrivals``, counted from the command's first cycle; empty: at once).
// Handshake statistics of one stream (coverage of back-pressure runs and starvation).
struct Waits {
    uint32_t run = 0;
    uint32_t hist[3] = {0, 0, 0};
    uint32_t starved = 0;
    void cycle(bool valid, bool ready) {
        if (valid && ready) {
            ++hist[run < 2 ? run : 2];
            run = 0;
        } else if (valid) {
            ++run;
        }
    }
};

struct Stream {
    const uint32_t* words = nullptr;
    uint32_t count = 0;
    uint32_t chunks = 0;
    uint32_t sent = 0;
    std::vector<uint32_t> arrivals;
    double p_valid = 1.0;
    bool offer(Rng& rng, int64_t since_epoch) const {
        if (sent >= count) return false;
        if (!arrivals.empty()) return since_epoch >= 0 && arrivals[sent] <= since_epoch;
        return p_valid >= 1.0 || rng.uniform() < p_valid;
    }
    const uint32_t* current() const { return words + static_cast<std::size_t>(sent) * chunks; }
};

struct Sim {
    std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    std::unique_ptr<Vtop> top;
    int64_t cycle = 0;
#ifdef TERNHW_TRACE
    std::unique_ptr<VerilatedVcdC> vcd;
    int64_t trace_from = 0, trace_to = 0;
    void dump(uint64_t t) {
        if (vcd && cycle >= trace_from && cycle < trace_to) vcd->dump(t);
    }
#else
    void dump(uint64_t) {}
#endif
    Sim() {
#ifdef TERNHW_TRACE
        ctx->traceEverOn(true);
#endif
        top.reset(new Vtop{ctx.get()});
    }
    void edge() {  // one rising edge, then the falling edge: the next cycle's inputs follow
        dump(10 * static_cast<uint64_t>(cycle));
        top->clk = 1;
        top->eval();
        dump(10 * static_cast<uint64_t>(cycle) + 5);
        top->clk = 0;
        top->eval();
        ++cycle;
    }
    void reset() {
        top->clk = 0;
        top->rst = 1;
        top->cmd___05Fstart = 0;
        top->i_act___05Fvalid = top->i_wgt___05Fvalid = top->i_bias___05Fvalid = 0;
        top->o_res___05Fready = 0;
        top->eval();
        edge();
        edge();
        top->rst = 0;
        top->eval();
        edge();
    }
};

std::vector<uint32_t> read_file(const char* path) {
    FILE* f = std::fopen(path, "rb");
    if (!f) die(std::string("cannot open job file ") + path);
    std::vector<uint32_t> data;
    uint32_t buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 4, 4096, f)) > 0) data.insert(data.end(), buf, buf + n);
    std::fclose(f);
    return data;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) die("usage: harness JOB RESULT [--raw CYCLES]");
    Reader job;
    job.data = read_file(argv[1]);
    if (job.next() != MAGIC || job.next() != VERSION) die("not a ternhw bulk job (or another version)");
    if (job.next() != ACT_CHUNKS || job.next() != WGT_CHUNKS || job.next() != BIAS_CHUNKS ||
        job.next() != RES_CHUNKS || job.next() != N_CMD_FIELDS)
        die("the job was written for another port layout");
    const uint32_t n_commands = job.next();
    long raw_cycles = argc >= 5 && std::string(argv[3]) == "--raw" ? std::atol(argv[4]) : 0;

    Sim sim;
    if (argc >= 7 && std::string(argv[3]) == "--trace") {
#ifdef TERNHW_TRACE
        sim.vcd.reset(new VerilatedVcdC);
        sim.top->trace(sim.vcd.get(), 99);
        sim.vcd->open(argv[4]);
        sim.trace_from = std::atoll(argv[5]);
        sim.trace_to = std::atoll(argv[6]);
#else
        die("this harness was built without tracing");
#endif
    }
    const char* toggles_path = nullptr;
    if (argc >= 5 && std::string(argv[3]) == "--toggles") {
#ifdef TERNHW_TOGGLE
        toggles_path = argv[4];
#else
        die("this harness was built without toggle counting");
#endif
    }
    sim.reset();
#ifdef TERNHW_TOGGLE
    sim.ctx->coveragep()->zero();  // count the job's toggles, not the reset's
#endif
    std::vector<uint32_t> out;
    out.push_back(MAGIC);
    out.push_back(n_commands);
    uint32_t res[RES_CHUNKS];
    auto t0 = std::chrono::steady_clock::now();
    int64_t simulated = 0;

    for (uint32_t c = 0; c < n_commands; ++c) {
        uint32_t fields[N_CMD_FIELDS];
        for (uint32_t i = 0; i < N_CMD_FIELDS; ++i) fields[i] = job.next();
        const double p_valid = job.next() / 65536.0;
        const double p_ready = job.next() / 65536.0;
        Rng rng(job.next());
        const uint64_t timeout = job.next();
        Stream act, wgt, bias;
        act.count = job.next();
        wgt.count = job.next();
        bias.count = job.next();
        const uint32_t n_arrivals = job.next();
        act.chunks = ACT_CHUNKS;
        wgt.chunks = WGT_CHUNKS;
        bias.chunks = BIAS_CHUNKS;
        act.p_valid = wgt.p_valid = bias.p_valid = p_valid;
        const uint32_t* arr = job.take(n_arrivals);
        wgt.arrivals.assign(arr, arr + n_arrivals);
        act.words = job.take(static_cast<std::size_t>(act.count) * ACT_CHUNKS);
        wgt.words = job.take(static_cast<std::size_t>(wgt.count) * WGT_CHUNKS);
        bias.words = job.take(static_cast<std::size_t>(bias.count) * BIAS_CHUNKS);

        Vtop* t = sim.top.get();
        set_command(t, fields);
        if (raw_cycles > 0) {  // free-running ceiling: constant words, no bookkeeping
            t->i_act___05Fvalid = t->i_wgt___05Fvalid = t->i_bias___05Fvalid = 1;
            if (act.count) put(t->i_act___05Fpayload, act.words);
            if (wgt.count) put(t->i_wgt___05Fpayload, wgt.words);
            if (bias.count) put(t->i_bias___05Fpayload, bias.words);
            t->o_res___05Fready = 1;
            auto r0 = std::chrono::steady_clock::now();
            for (long i = 0; i < raw_cycles; ++i) {
                t->cmd___05Fstart = !t->status___05Fbusy;
                t->eval();
                sim.edge();
            }
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
            std::printf("{\"raw_cycles\": %ld, \"raw_s\": %.6f, \"raw_cycles_per_s\": %.1f}\n",
                        raw_cycles, s, raw_cycles / s);
            return 0;
        }

        const std::size_t header_at = out.size();
        out.resize(out.size() + HEADER_WORDS);  // filled in below
        uint32_t n_words = 0;
        t->cmd___05Fstart = 1;
        const int64_t start_cycle = sim.cycle + 1;  // the edge that samples start begins it
        const int64_t epoch = start_cycle;
        bool ready_res = p_ready >= 1.0 || rng.uniform() < p_ready;
        int64_t done_cycle = -1;
        bool stalled = false;  // o_res offered a word with ready low last clock
        uint32_t stalled_word[RES_CHUNKS];
        uint32_t violations = 0, first_kind = 0, first_cycle = 0;
        Waits waits[N_STREAMS];
        for (;;) {
            const int64_t since = sim.cycle - epoch;
            const bool va = act.offer(rng, since), vw = wgt.offer(rng, since),
                       vb = bias.offer(rng, since);
            t->i_act___05Fvalid = va;
            t->i_wgt___05Fvalid = vw;
            t->i_bias___05Fvalid = vb;
            if (va) put(t->i_act___05Fpayload, act.current());
            if (vw) put(t->i_wgt___05Fpayload, wgt.current());
            if (vb) put(t->i_bias___05Fpayload, bias.current());
            t->o_res___05Fready = ready_res;
            t->eval();
            const bool ra = t->i_act___05Fready, rw = t->i_wgt___05Fready,
                       rb = t->i_bias___05Fready;
            waits[0].cycle(va, ra);
            waits[1].cycle(vw, rw);
            waits[2].cycle(vb, rb);
            waits[0].starved += ra && !va && act.sent < act.count;
            waits[1].starved += rw && !vw && wgt.sent < wgt.count;
            waits[2].starved += rb && !vb && bias.sent < bias.count;
            if (va && ra) ++act.sent;
            if (vw && rw) ++wgt.sent;
            if (vb && rb) ++bias.sent;
            const bool res_valid = t->o_res___05Fvalid;
            const bool took = res_valid && ready_res;
            waits[3].cycle(res_valid, ready_res);
            if (stalled || (res_valid && !ready_res)) get(t->o_res___05Fpayload, res);
            if (stalled) {
                const uint32_t kind = !res_valid ? 1u
                    : std::memcmp(res, stalled_word, sizeof res) != 0 ? 2u : 0u;
                if (kind && violations++ == 0) {
                    first_kind = kind;
                    first_cycle = static_cast<uint32_t>(sim.cycle - start_cycle);
                }
            }
            stalled = res_valid && !ready_res;
            if (stalled) std::memcpy(stalled_word, res, sizeof res);
            if (took) {
                get(t->o_res___05Fpayload, res);
                out.push_back(static_cast<uint32_t>(sim.cycle - start_cycle));
                out.insert(out.end(), res, res + RES_CHUNKS);
                ++n_words;
            }
            sim.edge();
            t->cmd___05Fstart = 0;
            if (res_valid) ready_res = p_ready >= 1.0 || rng.uniform() < p_ready;
            t->eval();
            if (t->status___05Fdone) {
                done_cycle = sim.cycle;
                break;
            }
            if (static_cast<uint64_t>(sim.cycle - start_cycle) > timeout) break;
        }
        const uint32_t error = t->status___05Ferror;
        t->i_act___05Fvalid = t->i_wgt___05Fvalid = t->i_bias___05Fvalid = 0;
        t->o_res___05Fready = 0;
        sim.edge();  // the counters settle a clock after done, as the cocotb testbench reads them
        t->eval();
        const uint64_t counters[N_COUNTERS] = {
            get64(t->status___05Fcycles), get64(t->status___05Fbusy_cycles), get64(t->status___05Fstall_cycles),
            get64(t->status___05Fhold_cycles), get64(t->status___05Fzero_skips),
            get64(t->status___05Foverflow_events)};
        sim.edge();
        const int64_t cycles_tb = done_cycle < 0 ? -1 : done_cycle - start_cycle + 1;
        simulated += sim.cycle - start_cycle + 1;
        uint32_t* h = out.data() + header_at;
        h[0] = static_cast<uint32_t>(cycles_tb);
        h[1] = done_cycle < 0;  // timed out
        h[2] = error;
        h[3] = act.count - act.sent;
        h[4] = wgt.count - wgt.sent;
        h[5] = bias.count - bias.sent;
        for (int i = 0; i < N_COUNTERS; ++i) {
            h[6 + 2 * i] = static_cast<uint32_t>(counters[i]);
            h[7 + 2 * i] = static_cast<uint32_t>(counters[i] >> 32);
        }
        h[6 + 2 * N_COUNTERS] = violations;
        h[7 + 2 * N_COUNTERS] = first_kind;
        h[8 + 2 * N_COUNTERS] = first_cycle;
        for (int i = 0; i < N_STREAMS; ++i) {
            uint32_t* w = h + 9 + 2 * N_COUNTERS + STREAM_WORDS * i;
            w[0] = waits[i].hist[0];
            w[1] = waits[i].hist[1];
            w[2] = waits[i].hist[2];
            w[3] = waits[i].starved;
        }
        h[HEADER_WORDS - 1] = n_words;
        std::printf("done %u %u\n", c, n_words);  // progress, read line by line by bulk.py
        std::fflush(stdout);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    FILE* f = std::fopen(argv[2], "wb");
    if (!f) die(std::string("cannot write ") + argv[2]);
    std::fwrite(out.data(), 4, out.size(), f);
    std::fclose(f);
    std::printf("{\"simulated_cycles\": %lld, \"wall_s\": %.6f}\n",
                static_cast<long long>(simulated), secs);
    sim.top->final();
#ifdef TERNHW_TOGGLE
    if (toggles_path) sim.ctx->coveragep()->write(toggles_path);
#endif
#ifdef TERNHW_TRACE
    if (sim.vcd) sim.vcd->close();
#endif
    return 0;
}
