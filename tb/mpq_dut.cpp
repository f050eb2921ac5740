// SPDX-License-Identifier: Apache-2.0
//
// mpq_dut.cpp: the thin C++ shim over the Verilated model (class Vdut, from
// `verilator --prefix Vdut`). Ports of any width map to the word arrays of mpq_port_in /
// mpq_port_out (VlWide layout) through overloads on Verilator's port types.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "Vdut.h"
#include "verilated.h"
#ifdef MPQ_TRACED
#include "verilated_fst_c.h"
#endif
#ifdef MPQ_COVERAGE
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "verilated_cov.h"
#endif

#ifdef MPQ_TOGGLES
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#include "verilated_syms.h"
#endif

#include "mpq_dut.h"

namespace {

inline void put(CData &p, const uint32_t *w) { p = static_cast<CData>(w[0]); }
inline void put(SData &p, const uint32_t *w) { p = static_cast<SData>(w[0]); }
inline void put(IData &p, const uint32_t *w) { p = w[0]; }
inline void put(QData &p, const uint32_t *w) { p = static_cast<QData>(w[0]) | static_cast<QData>(w[1]) << 32; }
template <std::size_t N> inline void put(VlWide<N> &p, const uint32_t *w)
{
    for (std::size_t i = 0; i < N; i++) p[i] = w[i];
}

inline void get(const CData &p, uint32_t *w) { w[0] = p; }
inline void get(const SData &p, uint32_t *w) { w[0] = p; }
inline void get(const IData &p, uint32_t *w) { w[0] = p; }
inline void get(const QData &p, uint32_t *w)
{
    w[0] = static_cast<uint32_t>(p);
    w[1] = static_cast<uint32_t>(p >> 32);
}
template <std::size_t N> inline void get(const VlWide<N> &p, uint32_t *w)
{
    for (std::size_t i = 0; i < N; i++) w[i] = p[i];
}

inline uint64_t get64(const CData &p) { return p; }
inline uint64_t get64(const SData &p) { return p; }
inline uint64_t get64(const IData &p) { return p; }
inline uint64_t get64(const QData &p) { return p; }

#ifdef MPQ_TOGGLES
// Switching activity of the gate-level model (tb/build-model.sh kind gls; the ppa flow marks
// every net of the netlist public_flat_rd). After every evaluation each bit of each public
// signal is compared with its value after the previous one: a change is one toggle, so a net
// counts at most twice per cycle (inputs applied, then the clock edge; zero-delay, no glitch).
// A model that ran cycles writes "scope signal[bit] toggles" lines and "# cycles N" to
// $MPQ_TOGGLE_DIR/toggles-<pid>-<n>.txt when it is freed.
struct tog_sig {
    std::string scope, name;
    const uint8_t *data;
    unsigned bytes, bits, lsb;
    size_t first;  // its bytes in prev, its bits in count
};
struct tog_state {
    std::vector<tog_sig> sigs;
    std::vector<uint8_t> prev;
    std::vector<uint64_t> count;
    uint64_t cycles = 0;
};

// A net's packed width and lowest bit index. Verilator 5.048 describes packed dimensions as
// packedRanges() (packed() is gone, and its DPI range of dimension 0 is not filled in for
// these variables); 5.006 has packed() only: the first overload exists where packedRanges()
// does, the second (less preferred: long for 0) elsewhere.
template <typename V>
auto packed_range(const V &v, int, unsigned &w, unsigned &lo) -> decltype(v.packedRanges(), void())
{
    w = v.entBits();
    lo = v.packedRanges().size() == 1 ? static_cast<unsigned>(v.packedRanges()[0].low()) : 0u;
}
template <typename V>
void packed_range(const V &v, long, unsigned &w, unsigned &lo)
{
    w = v.dims() ? static_cast<unsigned>(v.packed().elements()) : 1u;
    lo = v.dims() ? static_cast<unsigned>(v.packed().low()) : 0u;
}

void tog_init(tog_state &t, VerilatedContext &ctx)
{
    size_t bytes = 0, bits = 0;
    for (const auto &sc : *ctx.scopeNameMap()) {
        const VerilatedVarNameMap *vars = sc.second->varsp();
        if (!vars) continue;
        for (const auto &v : *vars) {
            const VerilatedVar &var = v.second;
            if (var.udims() != 0) continue;  // memories are not nets
            unsigned w, lo;
            packed_range(var, 0, w, lo);
            tog_sig g{sc.second->name(), var.name(), static_cast<const uint8_t *>(var.datap()),
                      var.entSize(), w, lo, bytes};
            g.first = bits;
            bits += w;
            bytes += g.bytes;
            t.sigs.push_back(g);
        }
    }
    t.count.assign(bits, 0);
    t.prev.reserve(bytes);
    for (const tog_sig &g : t.sigs) t.prev.insert(t.prev.end(), g.data, g.data + g.bytes);
}

void tog_sample(tog_state &t)
{
    uint8_t *prev = t.prev.data();
    for (const tog_sig &g : t.sigs) {
        for (unsigned b = 0; b < g.bytes; b++, prev++) {
            unsigned diff = static_cast<unsigned>(g.data[b] ^ *prev);
            if (!diff) continue;
            *prev = g.data[b];
            for (unsigned i = 0; i < 8; i++)
                if ((diff >> i & 1u) && b * 8 + i < g.bits) t.count[g.first + b * 8 + i]++;
        }
    }
}

void tog_write(const tog_state &t)
{
    const char *dir = std::getenv("MPQ_TOGGLE_DIR");
    if (!dir || t.cycles == 0) return;
    static std::atomic<unsigned> seq{0};
    char path[4096], tmp[4200];
    std::snprintf(path, sizeof path, "%s/toggles-%ld-%u.txt", dir, static_cast<long>(getpid()), seq++);
    std::snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = std::fopen(tmp, "w");
    if (!f) return;
    std::fprintf(f, "# cycles %llu\n", static_cast<unsigned long long>(t.cycles));
    for (const tog_sig &g : t.sigs)
        for (unsigned i = 0; i < g.bits; i++) {
            if (g.bits == 1 && g.lsb == 0)
                std::fprintf(f, "%s %s %llu\n", g.scope.c_str(), g.name.c_str(),
                             static_cast<unsigned long long>(t.count[g.first + i]));
            else
                std::fprintf(f, "%s %s[%u] %llu\n", g.scope.c_str(), g.name.c_str(), g.lsb + i,
                             static_cast<unsigned long long>(t.count[g.first + i]));
        }
    if (std::fclose(f) == 0) std::rename(tmp, path);
}
#endif

}  // namespace

struct mpq_dut {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vdut> top;
    uint64_t time = 0;
#ifdef MPQ_TOGGLES
    tog_state tog;
#endif
#ifdef MPQ_TRACED
    std::unique_ptr<VerilatedFstC> fst;
    bool dump = false;
#endif
};

extern "C" {

mpq_dut *mpq_dut_new(uint64_t init_seed)
{
    mpq_dut *d = new (std::nothrow) mpq_dut;
    if (!d) return nullptr;
    d->ctx.reset(new VerilatedContext);
    // Random initial state from the seed (0 would mean "a new random seed": never used).
    d->ctx->randReset(2);
    d->ctx->randSeed(static_cast<int>(init_seed % 2147483647u) + 1);
    // A failed SV assertion must not abort the process: the testbench reports it.
    d->ctx->fatalOnError(false);
#ifdef MPQ_TRACED
    d->ctx->traceEverOn(true);
#endif
    d->top.reset(new Vdut{d->ctx.get(), "mpq"});
#ifdef MPQ_TRACED
    // The traced build evaluates each cycle with the clock high (see mpq_dut_tick).
    d->top->clk_i = 1;
#else
    d->top->clk_i = 0;
#endif
    d->top->rst_ni = 1;
    d->top->eval();  // constant outputs (hwcfg_o) settle
#ifdef MPQ_TOGGLES
    tog_init(d->tog, *d->ctx);  // counting starts from the settled power-on state
#endif
    return d;
}

void mpq_dut_free(mpq_dut *d)
{
    if (!d) return;
    mpq_dut_trace_close(d);
    d->top->final();
#ifdef MPQ_TOGGLES
    tog_write(d->tog);
#endif
#ifdef MPQ_COVERAGE
    // Coverage build (make coverage): each model's counters go to their own file in
    // $MPQ_COV_DIR while the model is alive; verilator_coverage merges them.
    if (const char *dir = std::getenv("MPQ_COV_DIR")) {
        static std::atomic<unsigned> seq{0};
        char path[4096];
        std::snprintf(path, sizeof path, "%s/cov-%ld-%u.dat", dir, static_cast<long>(getpid()),
                      seq++);
        d->ctx->coveragep()->write(path);
    }
#endif
    delete d;
}

int mpq_dut_traced(void)
{
#ifdef MPQ_TRACED
    return 1;
#else
    return 0;
#endif
}

static void dump(mpq_dut *d)
{
#ifdef MPQ_TRACED
    if (d->fst && d->dump) d->fst->dump(d->time);
#else
    (void)d;
#endif
}

void mpq_dut_apply(mpq_dut *d, const mpq_port_in *in)
{
    Vdut &t = *d->top;
#ifndef MPQ_TRACED
    t.clk_i = 0;  // the traced build keeps it high from its last edge (mpq_dut_tick)
#endif
    t.rst_ni = in->rst_n;
    t.cfg_valid_i = in->cfg_valid;
    t.wgt_valid_i = in->wgt_valid;
    t.act_valid_i = in->act_valid;
    t.out_ready_i = in->out_ready;
    put(t.cfg_data_i, in->cfg_data);
    put(t.wgt_data_i, in->wgt_data);
    put(t.act_data_i, in->act_data);
    t.eval();
#ifdef MPQ_TOGGLES
    tog_sample(d->tog);
#endif
}

void mpq_dut_eval(mpq_dut *d, const mpq_port_in *in, mpq_port_out *out)
{
    mpq_dut_apply(d, in);
    const Vdut &t = *d->top;
    out->cfg_ready = t.cfg_ready_o;
    out->wgt_ready = t.wgt_ready_o;
    out->act_ready = t.act_ready_o;
    out->out_valid = t.out_valid_o;
    out->busy = t.busy_o;
    out->done = t.done_o;
    out->ovf = get64(t.ovf_o);
    get(t.out_data_o, out->out_data);
}

void mpq_dut_tick(mpq_dut *d)
{
#ifdef MPQ_TRACED
    // The waveform shows cycle c from 10c: the clock has risen (the edge that ended cycle c-1)
    // and the inputs, expected values and outputs of cycle c are all there; the clock falls at
    // 10c+5; the rising edge that ends the cycle is dumped at 10c+10 with the next cycle.
    dump(d);
    d->top->clk_i = 0;
    d->top->eval();
    d->time += 5;
    dump(d);
    d->time += 5;
    d->top->clk_i = 1;
    d->top->eval();
#else
    d->top->clk_i = 1;
    d->top->eval();
    d->time += 10;
#endif
#ifdef MPQ_TOGGLES
    // Every net after the edge (the gate-level build of make ppa: one cycle counted per edge).
    tog_sample(d->tog);
    d->tog.cycles++;
#endif
    d->ctx->timeInc(10);
}

void mpq_dut_hwcfg(mpq_dut *d, uint32_t words[MPQ_HWCFG_WORDS])
{
    get(d->top->hwcfg_o, words);
}

int mpq_dut_assert_failed(const mpq_dut *d) { return d->ctx->gotError() ? 1 : 0; }

#ifdef MPQ_WHITEBOX
// Lane l's field of a white-box bus (w bits per lane), sign-extended.
static int64_t lane_field(const uint32_t *words, unsigned l, unsigned w)
{
    return mpq_sext(mpq_bits_get(words, l * w, w), w);
}
#endif

int mpq_dut_whitebox(void)
{
#ifdef MPQ_WHITEBOX
    return 1;
#else
    return 0;
#endif
}

void mpq_dut_regs(mpq_dut *d, const mpq_hwcfg *hw, mpq_cm_regs *r)
{
    std::memset(r, 0, sizeof *r);
#ifdef MPQ_WHITEBOX
    static uint32_t acc[MPQ_PORT_WORDS_MAX], rq1[MPQ_PORT_WORDS_MAX], rq2[MPQ_PORT_WORDS_MAX];
    const Vdut &t = *d->top;
    get(t.dbg_acc_o, acc);
    get(t.dbg_rq1_o, rq1);
    get(t.dbg_rq2_o, rq2);
    for (unsigned l = 0; l < hw->lanes; l++) {
        r->acc[l] = lane_field(acc, l, hw->acc_bits);
        r->rq1[l] = lane_field(rq1, l, hw->acc_bits);
        r->rq2[l] = static_cast<int32_t>(lane_field(rq2, l, 32));
    }
    r->rq1_valid = t.dbg_rq1_valid_o;
    r->rq2_valid = t.dbg_rq2_valid_o;
#else
    (void)d;
    (void)hw;
#endif
}

void mpq_dut_set_expected(mpq_dut *d, const mpq_hwcfg *hw, const mpq_port_out *exp,
                          const mpq_cm_regs *regs, const mpq_cm_where *w, uint32_t mismatch,
                          uint64_t cycle)
{
#ifdef MPQ_TRACED
    Vdut &t = *d->top;
    t.exp_cfg_ready = exp->cfg_ready;
    t.exp_wgt_ready = exp->wgt_ready;
    t.exp_act_ready = exp->act_ready;
    t.exp_out_valid = exp->out_valid;
    t.exp_busy = exp->busy;
    t.exp_done = exp->done;
    put(t.exp_ovf, reinterpret_cast<const uint32_t *>(&exp->ovf));
    put(t.exp_out_data, exp->out_data);
    static uint32_t acc[MPQ_PORT_WORDS_MAX], rq1[MPQ_PORT_WORDS_MAX], rq2[MPQ_PORT_WORDS_MAX];
    std::memset(acc, 0, sizeof acc);
    std::memset(rq1, 0, sizeof rq1);
    std::memset(rq2, 0, sizeof rq2);
    for (unsigned l = 0; l < hw->lanes; l++) {
        mpq_bits_put(acc, l * hw->acc_bits, hw->acc_bits, static_cast<uint32_t>(regs->acc[l]));
        mpq_bits_put(rq1, l * hw->acc_bits, hw->acc_bits, static_cast<uint32_t>(regs->rq1[l]));
        mpq_bits_put(rq2, l * 32u, 32u, static_cast<uint32_t>(regs->rq2[l]));
    }
    put(t.exp_acc, acc);
    put(t.exp_rq1, rq1);
    put(t.exp_rq2, rq2);
    t.exp_rq1_valid = regs->rq1_valid;
    t.exp_rq2_valid = regs->rq2_valid;
    t.exp_win_b = static_cast<uint16_t>(w->b);
    t.exp_win_oy = static_cast<uint16_t>(w->oy);
    t.exp_win_ox = static_cast<uint16_t>(w->ox);
    t.exp_win_ky = static_cast<uint8_t>(w->ky);
    t.exp_win_kx = static_cast<uint8_t>(w->kx);
    t.exp_win_s = static_cast<uint16_t>(w->s);
    t.exp_win_pad = w->pad != 0;
    t.mismatch = mismatch != 0;
    t.mismatch_ports = mismatch;
    t.tb_cycle = cycle;
    t.eval();  // the wrapper's inputs only feed the waveform
#else
    (void)d;
    (void)hw;
    (void)exp;
    (void)regs;
    (void)w;
    (void)mismatch;
    (void)cycle;
#endif
}

int mpq_dut_trace_open(mpq_dut *d, const char *path)
{
#ifdef MPQ_TRACED
    d->fst.reset(new VerilatedFstC);
    d->top->trace(d->fst.get(), 99);
    d->fst->open(path);
    if (!d->fst->isOpen()) {
        d->fst.reset();
        return -1;
    }
    return 0;
#else
    (void)d;
    (void)path;
    return -1;
#endif
}

void mpq_dut_trace_enable(mpq_dut *d, int on)
{
#ifdef MPQ_TRACED
    d->dump = on != 0;
#else
    (void)d;
    (void)on;
#endif
}

void mpq_dut_trace_close(mpq_dut *d)
{
#ifdef MPQ_TRACED
    if (d->fst) {
        d->fst->close();
        d->fst.reset();
    }
#else
    (void)d;
#endif
}

#ifdef MPQ_TRACED
// SAN=1: LeakSanitizer's suppressions, built in (a hook the sanitizer runtime calls; nothing
// otherwise). Verilator 5.048's VerilatedFst::close() forgets its fst::Writer without deleting
// it (142 KB in 490 blocks, once per traced run): not our leak, and reported at exit it turned
// every traced re-simulation into a sanitizer failure. Only that allocation (and what hangs
// from it) is suppressed; every other leak is still reported.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:VerilatedFst::open\n";
}
#endif

}  // extern "C"
