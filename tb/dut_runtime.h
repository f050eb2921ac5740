// SPDX-License-Identifier: Apache-2.0
//
// dut_runtime.h: the fixed part of every DUT shim. `mpq-golden dut shim` writes, from a DUT
// description and the Verilated model's header, a C++ file that defines the design's part
// (its port table and the copies between the model's ports and the testbench's words and
// structs: functions gen_*, below) and then includes this header, which implements the C API
// of tb/mpq_dut.h over them: the model's context and power-on state, the clock, FST tracing
// (MPQ_TRACED), coverage counters (MPQ_COVERAGE) and per-net toggle counts (MPQ_TOGGLES). Nothing
// here names a port of any design.
//
// The generated file includes this header first, then defines what it declares below (the
// gen_* functions): the design's part.
#ifndef MPQ_DUT_RUNTIME_H
#define MPQ_DUT_RUNTIME_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "verilated.h"
#ifdef MPQ_TRACED
#include "verilated_fst_c.h"
#endif
#if defined(MPQ_COVERAGE) || defined(MPQ_TOGGLES)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#endif
#ifdef MPQ_COVERAGE
#include "verilated_cov.h"
#endif
#ifdef MPQ_TOGGLES
#include <string>
#include <vector>

#include "verilated_syms.h"
#endif

#include "mpq_dut.h"

namespace mpq_rt {

// Words to a port of any width and back: a byte, 16 or 32 bits, 64 bits, VlWide words (word 0
// holding bits 31..0, as Verilator's). `mask` clears the bits above the port's width (the
// frame copies; the struct copies hold clean values already).
inline void put(CData &p, const uint32_t *w, uint32_t mask = ~0u) { p = static_cast<CData>(w[0] & mask); }
inline void put(SData &p, const uint32_t *w, uint32_t mask = ~0u) { p = static_cast<SData>(w[0] & mask); }
inline void put(IData &p, const uint32_t *w, uint32_t mask = ~0u) { p = w[0] & mask; }
inline void put(QData &p, const uint32_t *w, uint32_t mask = ~0u)
{
    p = static_cast<QData>(w[0]) | static_cast<QData>(w[1] & mask) << 32;
}
// The wide ones by memcpy of a size known at compile time, which GCC inlines as vector moves
// (its word loop was 211 instructions per cycle of the default model, mostly the 1,000-bit
// cfg_data_i applied in every cycle).
template <std::size_t N> inline void put(VlWide<N> &p, const uint32_t *w, uint32_t mask = ~0u)
{
    std::memcpy(p.data(), w, (N - 1) * sizeof(uint32_t));
    p[N - 1] = w[N - 1] & mask;
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
    std::memcpy(w, p.data(), N * sizeof(uint32_t));
}

// A struct field (a bit or byte, a flag vector in a uint64_t; an array of words takes the
// word overloads above) to and from a port: the struct binding of a description's `bind` line.
inline void put(CData &p, uint8_t v) { p = v; }
inline void put(CData &p, uint64_t v) { p = static_cast<CData>(v); }
inline void put(SData &p, uint64_t v) { p = static_cast<SData>(v); }
inline void put(IData &p, uint64_t v) { p = static_cast<IData>(v); }
inline void put(QData &p, uint64_t v) { p = v; }
inline void get(const CData &p, uint8_t &v) { v = p; }
inline void get(const CData &p, uint64_t &v) { v = p; }
inline void get(const SData &p, uint64_t &v) { v = p; }
inline void get(const IData &p, uint64_t &v) { v = p; }
inline void get(const QData &p, uint64_t &v) { v = p; }

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

inline void tog_init(tog_state &t, VerilatedContext &ctx)
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

inline void tog_sample(tog_state &t)
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

inline void tog_write(const tog_state &t)
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

}  // namespace mpq_rt

// The design's part, defined by the generated file after this header.
struct gen_model {
    const mpq_dut_port *ports;
    size_t nports;
    unsigned frame_words[2];                 // of the input and output frames
    const char *desc_text, *desc_path;       // the description it was generated from
    const char *build, *top_scope;           // build kind; the top's scope in a waveform
    const char *const *params;               // the build's NAME=VALUE overrides
    unsigned nparams;
};
static const gen_model &gen_info();
static void gen_clock(Vdut &t, int level);  // drive the clock
static void gen_power_on(Vdut &t);          // reset inactive, tied inputs at their values
static void gen_put(Vdut &t, size_t port, const uint32_t *w);
static void gen_get(const Vdut &t, size_t port, uint32_t *w);
static void gen_put_frame(Vdut &t, const uint32_t *w);  // every input but the clock and the tied ones
static void gen_get_frame(const Vdut &t, uint32_t *w);  // every output

struct mpq_dut {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vdut> top;
    uint64_t time = 0;
#ifdef MPQ_TOGGLES
    mpq_rt::tog_state tog;
#endif
#ifdef MPQ_TRACED
    std::unique_ptr<VerilatedFstC> fst;
    bool dump = false;
#endif
};

// Inputs applied: settle with the clock low (the traced build, while it writes a waveform,
// keeps it high from its last edge: see mpq_dut_tick).
static inline void rt_settle(mpq_dut *d)
{
    Vdut &t = *d->top;
#ifdef MPQ_TRACED
    if (!d->fst) gen_clock(t, 0);
#else
    gen_clock(t, 0);
#endif
    t.eval();
#ifdef MPQ_TOGGLES
    mpq_rt::tog_sample(d->tog);
#else
    (void)d;
#endif
}

extern "C" {

const char *mpq_dut_desc_text(void) { return gen_info().desc_text; }
const char *mpq_dut_desc_path(void) { return gen_info().desc_path; }
const char *const *mpq_dut_desc_params(unsigned *n)
{
    *n = gen_info().nparams;
    return gen_info().params;
}
const char *mpq_dut_build(void) { return gen_info().build; }
const char *mpq_dut_top_scope(void) { return gen_info().top_scope; }
size_t mpq_dut_nports(void) { return gen_info().nports; }
const mpq_dut_port *mpq_dut_ports(void) { return gen_info().ports; }
unsigned mpq_dut_frame_words(int out) { return gen_info().frame_words[out ? 1 : 0]; }

int mpq_dut_port_find(const char *name)
{
    for (size_t i = 0; i < gen_info().nports; i++)
        if (!std::strcmp(gen_info().ports[i].name, name)) return static_cast<int>(i);
    return -1;
}

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
    gen_clock(*d->top, 1);
#else
    gen_clock(*d->top, 0);
#endif
    gen_power_on(*d->top);
    d->top->eval();  // constant outputs settle
#ifdef MPQ_TOGGLES
    mpq_rt::tog_init(d->tog, *d->ctx);  // counting starts from the settled power-on state
#endif
    return d;
}

void mpq_dut_free(mpq_dut *d)
{
    if (!d) return;
    mpq_dut_trace_close(d);
    d->top->final();
#ifdef MPQ_TOGGLES
    mpq_rt::tog_write(d->tog);
#endif
#ifdef MPQ_COVERAGE
    // Coverage build (make coverage): each model's counters go to their own file in
    // $MPQ_COV_DIR while the model is alive; verilator_coverage merges them.
    if (const char *dir = std::getenv("MPQ_COV_DIR")) {
        static std::atomic<unsigned> seq{0};
        char path[4096];
        std::snprintf(path, sizeof path, "%s/cov-%ld-%u.dat", dir, static_cast<long>(getpid()), seq++);
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

int mpq_dut_whitebox(void)
{
#ifdef MPQ_WHITEBOX
    return 1;
#else
    return 0;
#endif
}

void mpq_dut_put(mpq_dut *d, size_t port, const uint32_t *w) { gen_put(*d->top, port, w); }
void mpq_dut_get(const mpq_dut *d, size_t port, uint32_t *w) { gen_get(*d->top, port, w); }
void mpq_dut_put_frame(mpq_dut *d, const uint32_t *in) { gen_put_frame(*d->top, in); }
void mpq_dut_get_frame(const mpq_dut *d, uint32_t *out) { gen_get_frame(*d->top, out); }
void mpq_dut_settle(mpq_dut *d) { rt_settle(d); }

static void dump(mpq_dut *d)
{
#ifdef MPQ_TRACED
    if (d->fst && d->dump) d->fst->dump(d->time);
#else
    (void)d;
#endif
}

void mpq_dut_tick(mpq_dut *d)
{
#ifdef MPQ_TRACED
    // The waveform shows cycle c from 10c: the clock has risen (the edge that ended cycle c-1)
    // and the inputs, expected values and outputs of cycle c are all there; the clock falls at
    // 10c+5; the rising edge that ends the cycle is dumped at 10c+10 with the next cycle.
    // Without a waveform open, the plain build's two evaluations per cycle (a snapshot's
    // process opens one mid-run, tb/tb_snap.h): at every edge the clock is high in both
    // schemes and nothing in the design acts on the falling edge, so they switch exactly.
    if (!d->fst) {
        gen_clock(*d->top, 1);
        d->top->eval();
        d->time += 10;
    } else {
        dump(d);
        gen_clock(*d->top, 0);
        d->top->eval();
        d->time += 5;
        dump(d);
        d->time += 5;
        gen_clock(*d->top, 1);
        d->top->eval();
    }
#else
    gen_clock(*d->top, 1);
    d->top->eval();
    d->time += 10;
    (void)dump;
#endif
#ifdef MPQ_TOGGLES
    // Every net after the edge (the gate-level build of make ppa: one cycle counted per edge).
    mpq_rt::tog_sample(d->tog);
    d->tog.cycles++;
#endif
    d->ctx->timeInc(10);
}

int mpq_dut_assert_failed(const mpq_dut *d) { return d->ctx->gotError() ? 1 : 0; }

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

#endif
