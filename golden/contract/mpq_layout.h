/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_layout.h: the one description of the accelerator's interface facts that the C side and
 * the RTL share (../shared/STYLE.md, "One source per fact"):
 *
 * - the parameters (rtl/cfg/NAME.cfg keys, mpq_top parameters), their legal values and the
 *   fields of the constant hwcfg_o port that reports them;
 * - the fields of the configuration beat (cfg_data_i): position, width, signedness, the bits
 *   the hardware uses and the legal range of each value;
 * - the derived port widths and the weight-beat offsets;
 * - mpq_top's ports.
 *
 * golden/contract/mpq_layout.c holds the tables. `mpq-golden layout` writes from them the SV package
 * rtl/mpq_layout_pkg.sv (structs, offsets, width functions, legality functions), mpq_top's
 * parameter and port lists rtl/mpq_top.svh, the elaboration checks rtl/mpq_params_check.sv and
 * the tables of docs/timing.md; `make test`
 * (rtl/layout-fresh) fails when a committed copy differs from what the tables give.
 * Everything here is pure: no allocation, no I/O; errors are negative MPQ_E* codes (mpq.h).
 */
#ifndef MPQ_LAYOUT_H
#define MPQ_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of docs/timing.md that the C side and the RTL implement (hwcfg_o[7:0]). Version 2:
 * every layer is a convolution (a fully-connected layer is its 1x1 case) whose activations
 * enter once, into the activation ring, and whose windows the window generator forms. */
#define MPQ_CONTRACT_VERSION 2u
#define MPQ_LANES_MAX 64u
#define MPQ_KLANES_MAX 64u
/* hwcfg_o is 128 bits: four 32-bit words. */
#define MPQ_HWCFG_BITS 128u
#define MPQ_HWCFG_WORDS 4u

/* The RTL configuration: one value per parameter of mpq_top. */
typedef struct mpq_hwcfg {
    unsigned lanes, klanes, hp_per_group;
    unsigned act_bits, hp_bits, alpha_bits, acc_bits, out_bits;
    unsigned kmax;
    unsigned act_depth; /* activation ring entries (slices) */
} mpq_hwcfg;

/* ---- Parameters ----------------------------------------------------------------------- */
/* A new parameter is appended (before MPQ_P_COUNT), with a default under which the existing
 * layer kinds behave as before: vector files store the parameters in this order, and a file
 * written before the parameter existed takes its default (vectors/FORMAT.md, "Header"). */
typedef enum mpq_param {
    MPQ_P_LANES = 0, MPQ_P_KLANES, MPQ_P_HP_PER_GROUP, MPQ_P_ACT_BITS, MPQ_P_HP_BITS,
    MPQ_P_ALPHA_BITS, MPQ_P_ACC_BITS, MPQ_P_OUT_BITS, MPQ_P_KMAX, MPQ_P_ACT_DEPTH, MPQ_P_COUNT
} mpq_param;

/* A rule beyond the range lo..hi, relating the parameter to another one (`other`). */
typedef enum mpq_param_rule {
    MPQ_RULE_NONE = 0,
    MPQ_RULE_POW2,        /* a power of two */
    MPQ_RULE_LE_OTHER,    /* at most the other parameter */
    MPQ_RULE_MULTIPLE_OF  /* at least the other parameter and a multiple of it */
} mpq_param_rule;

typedef struct mpq_param_desc {
    const char *key;       /* cfg key and SV parameter name, e.g. "Lanes" */
    size_t offset;         /* of its value in mpq_hwcfg */
    unsigned lo, hi;       /* legal range */
    unsigned dflt;         /* rtl/cfg/default.cfg's value, and mpq_top's default */
    mpq_param_rule rule;
    mpq_param other;       /* for LE_OTHER and MULTIPLE_OF */
    unsigned hwcfg_lsb, hwcfg_width; /* its field in hwcfg_o */
    const char *doc;       /* meaning, one line */
} mpq_param_desc;

/* The table, MPQ_P_COUNT entries in mpq_param order. */
extern const mpq_param_desc mpq_params[MPQ_P_COUNT];
/* The value of parameter p in hw. */
unsigned mpq_hwcfg_value(const mpq_hwcfg *hw, mpq_param p);
void mpq_hwcfg_set(mpq_hwcfg *hw, mpq_param p, unsigned v);

/* ---- Derived widths (docs/timing.md, "Parameters"), in bits ---------------------------- */
unsigned mpq_hw_idx_w(const mpq_hwcfg *hw);   /* log2(KLanes): a sparse entry's position */
unsigned mpq_hw_entry_w(const mpq_hwcfg *hw); /* IdxW + HpBits: one sparse entry */
unsigned mpq_hw_lane_w(const mpq_hwcfg *hw);  /* one lane's part of a weight beat */
unsigned mpq_hw_cfg_w(const mpq_hwcfg *hw);   /* cfg_data_i */
unsigned mpq_hw_wgt_w(const mpq_hwcfg *hw);   /* wgt_data_i */
unsigned mpq_hw_act_w(const mpq_hwcfg *hw);   /* act_data_i */
unsigned mpq_hw_out_w(const mpq_hwcfg *hw);   /* out_data_o */
/* Weight beat: bit offset, within lane l's part, of ternary code j and of sparse entry e. */
unsigned mpq_wgt_tern_lsb(unsigned j);
unsigned mpq_wgt_entry_lsb(const mpq_hwcfg *hw, unsigned e);

/* The width functions as a table: `mpq-golden layout` writes each one's SV function into
 * rtl/mpq_layout_pkg.sv from sv_expr, which must compute what `c` computes. */
typedef enum mpq_width {
    MPQ_W_IDX = 0, MPQ_W_ENTRY, MPQ_W_LANE, MPQ_W_CFG, MPQ_W_WGT, MPQ_W_ACT, MPQ_W_OUT,
    MPQ_W_TERN_LSB, MPQ_W_ENTRY_LSB, MPQ_W_COUNT
} mpq_width;
typedef struct mpq_width_desc {
    const char *name;      /* as docs/timing.md names it, e.g. "LaneW" */
    const char *sv_func;   /* its function in package mpq_layout_pkg */
    unsigned params;       /* bit p set: the function takes parameter p (in mpq_param order) */
    const char *extra_arg; /* a further int unsigned argument (an index), or NULL */
    const char *sv_expr;   /* the function's value, SV */
    const char *doc;       /* the formula as docs/timing.md writes it */
    unsigned (*c)(const mpq_hwcfg *hw); /* the C twin (NULL for the offsets with an index) */
} mpq_width_desc;
extern const mpq_width_desc mpq_widths[MPQ_W_COUNT];

/* ---- Ports (docs/timing.md, "Ports") ---------------------------------------------------- */
/* mpq_top's ports in declaration order, one row per port. `mpq-golden layout` writes from this
 * table the port lists of rtl/mpq_top.svh (macros MPQ_PORTS, MPQ_WB_PORTS and MPQ_EXP_PORTS,
 * used by rtl/mpq_top.sv and tb/mpq_tb_top.sv), docs/timing.md's port table, the C side of
 * the ports golden/contract/mpq_ports.h (the structs mpq_port_in / mpq_port_out and the lists
 * that the vector files, the source thread, the DUT shim, the comparison and the reports
 * expand) and the Python one, tb/cocotb/mpq_ports.py. A stream is three consecutive rows of
 * the same `stream`: its valid, ready and data ports (valid and data one way, ready the other). */
typedef enum mpq_port_dir { MPQ_DIR_IN = 0, MPQ_DIR_OUT } mpq_port_dir;
typedef enum mpq_port_role {
    MPQ_ROLE_CLOCK = 0, /* the clock: everything happens on its rising edge */
    MPQ_ROLE_RESET_N,   /* active-low reset */
    MPQ_ROLE_VALID,     /* a stream's valid */
    MPQ_ROLE_READY,     /* a stream's ready */
    MPQ_ROLE_DATA,      /* a stream's data: don't-care while its valid is 0 */
    MPQ_ROLE_FLAG,      /* a status output, defined (and compared) in every cycle */
    MPQ_ROLE_CONST      /* a constant output, read once (hwcfg_o) */
} mpq_port_role;
/* A port's width: one of mpq_width (its function), or one of these. */
enum {
    MPQ_PW_BIT = -1,        /* 1 */
    MPQ_PW_LANES = -2,      /* Lanes: a bit per lane (at most 64) */
    MPQ_PW_HWCFG = -3,      /* MPQ_HWCFG_BITS */
    MPQ_PW_LANES_ACC = -4,  /* Lanes*AccBits: every lane's accumulator */
    MPQ_PW_LANES_32 = -5,   /* Lanes*32: every lane's 32-bit value */
    MPQ_PW_COUNTS = -6      /* MPQ_WB_COUNT_BITS: the white-box access counters */
};

/* The white-box builds' access counters (dbg_counts_o: counter i in bits 64i+63..64i), one list
 * from which the RTL's indices (mpq_layout_pkg::CNT_*), the golden cycle model's counts
 * (mpq_cm_counts, cycle/mpq_top.h) and the testbench's comparison are expanded:
 * X(name, what). Every counter is 64 bits, cleared by reset, and counts per clock edge out of
 * reset; a step is a cycle in which the lanes take one slice (mpq_win step_o). */
#define MPQ_WB_COUNT_LIST(X)                                                                        \
    X(tile_cycles, "cycles from a configuration handshake to done_o, both included")               \
    X(tiles, "configuration handshakes")                                                            \
    X(wgt_beats, "weight handshakes (wgt_valid_i && wgt_ready_o)")                                  \
    X(act_beats, "activation handshakes (act_valid_i && act_ready_o)")                              \
    X(wbuf_writes, "weight-buffer writes (u_wbuf we_i)")                                            \
    X(wbuf_reads, "weight-buffer reads: one per step (the entry the lanes use)")                    \
    X(ring_writes, "activation-ring writes (u_abuf we_i)")                                          \
    X(ring_reads, "ring reads: one per step (the read port is addressed every step)")              \
    X(ring_reads_used, "ring reads of non-padding steps (their data reaches the lanes)")            \
    X(pad_steps, "steps on a padding tap")                                                          \
    X(rows, "finished pixels (a row's last step: the lanes' row into rq1)")                         \
    X(requants, "requantizer outputs: Lanes per row moving from rq2 to out")                        \
    X(mac_slots_tern, "Lanes*KLanes per step: the ternary array's products")                        \
    X(mac_slots_hp, "Lanes*HpPerGroup per step: the sparse multipliers' products")                  \
    X(macs_live, "ternary-array products on live activations: per non-padding step, Lanes x the "   \
                 "slice's channels below c_len")                                                    \
    X(macs_hp_nz, "sparse products of a non-zero entry at a channel below c_len, non-padding steps")
enum {
#define MPQ_WB_COUNT_ENUM_(name, what) MPQ_CNT_##name,
    MPQ_WB_COUNT_LIST(MPQ_WB_COUNT_ENUM_)
#undef MPQ_WB_COUNT_ENUM_
    MPQ_CNT_COUNT
};
#define MPQ_WB_COUNT_BITS (64u * MPQ_CNT_COUNT)
/* Counter i's name ("tile_cycles") and meaning. */
extern const char *const mpq_wb_count_names[MPQ_CNT_COUNT];
extern const char *const mpq_wb_count_docs[MPQ_CNT_COUNT];
/* Bit `rec` of a vector-file cycle record's flags (vectors/FORMAT.md, "Cycle records"): byte
 * A is bits 0..7, B 8..15, C 16..23. A 1-bit port's value is stored there; a wider port's bit
 * says that its new value follows the flags. */
#define MPQ_REC_A(b) (b)
#define MPQ_REC_B(b) (8 + (b))
#define MPQ_REC_C(b) (16 + (b))
#define MPQ_REC_NONE (-1)
/* B7: the extension byte C follows B (set when any bit of C is). */
#define MPQ_REC_EXT MPQ_REC_B(7)
typedef struct mpq_port_desc {
    const char *name;      /* SV port name: lower_snake_case, suffix _i / _o (_ni: active low) */
    mpq_port_dir dir;
    mpq_port_role role;
    const char *stream;    /* VALID, READY, DATA: the stream's name ("cfg"); NULL otherwise */
    int width;             /* MPQ_W_* or MPQ_PW_* */
    int whitebox;          /* only in the white-box builds (MPQ_WHITEBOX), not in the contract */
    int rec;               /* MPQ_REC_*: its bit in a vector-file record, or MPQ_REC_NONE */
    const char *doc;       /* meaning, one line (a stream's: on its first port, NULL after) */
} mpq_port_desc;
extern const mpq_port_desc mpq_ports[];
extern const size_t mpq_port_count;
/* The value of width code w (MPQ_W_* with a C twin, or MPQ_PW_*) for hw, in bits. */
unsigned mpq_port_width(const mpq_hwcfg *hw, int w);
/* The C name of port p in mpq_port_in / mpq_port_out: its name without the direction suffix
 * (rst_ni -> rst_n, cfg_data_i -> cfg_data). Returns buf. */
const char *mpq_port_field(const mpq_port_desc *p, char *buf, size_t len);
/* The table's own rules: names with their direction's suffix, one clock, one active-low
 * reset, one constant, every stream valid + ready + data in that order with directions that
 * agree, record bits distinct and in byte A (inputs) or B and C (outputs), and every port the
 * vector files must carry recorded. Returns 0, or MPQ_EPARAM with the first broken rule in err. */
int mpq_port_table_check(char *err, size_t errlen);

/* ---- Configuration beat ------------------------------------------------------------------ */
/* The beat is a tile part (MPQ_CFG_TILE_W bits) followed by one part per lane
 * (MPQ_CFG_LANE_W bits each): lane l's field f is at MPQ_CFG_TILE_W + l*MPQ_CFG_LANE_W + lsb. */
#define MPQ_CFG_TILE_W 256u
#define MPQ_CFG_LANE_W 96u

typedef enum mpq_cfg_field {
    /* tile part: the geometry of the tile's convolution, then its arithmetic */
    MPQ_CFG_C_LEN = 0, MPQ_CFG_IN_H, MPQ_CFG_IN_W, MPQ_CFG_BATCHES, MPQ_CFG_OUT_H, MPQ_CFG_OUT_W,
    MPQ_CFG_KH, MPQ_CFG_KW, MPQ_CFG_SY, MPQ_CFG_SX, MPQ_CFG_DY, MPQ_CFG_DX, MPQ_CFG_PY, MPQ_CFG_PX,
    MPQ_CFG_ACC_SAT, MPQ_CFG_RSV_161, MPQ_CFG_IN_OFFSET, MPQ_CFG_OUT_OFFSET, MPQ_CFG_ACT_MIN,
    MPQ_CFG_ACT_MAX, MPQ_CFG_RSV_240,
    /* lane part */
    MPQ_CFG_BIAS, MPQ_CFG_MULT, MPQ_CFG_ALPHA, MPQ_CFG_SHIFT,
    MPQ_CFG_FIELD_COUNT
} mpq_cfg_field;
#define MPQ_CFG_FIRST_LANE_FIELD MPQ_CFG_BIAS

/* A bound of a field's legal range, or of the bits the hardware uses of it. */
typedef enum mpq_bound_kind {
    MPQ_B_NONE = 0,   /* no bound (the field's own width limits it) */
    MPQ_B_CONST,      /* value */
    MPQ_B_PARAM,      /* the parameter `param` */
    MPQ_B_SMIN,       /* -2^(param - 1): the least signed param-bit value */
    MPQ_B_SMAX,       /* 2^(param - 1) - 1 */
    MPQ_B_OMIN,       /* -2^param: the least offset for param-bit values */
    MPQ_B_OMAX,       /* 2^param - 1 */
    MPQ_B_FIELD       /* the value of field `field` of the same beat (and lane) */
} mpq_bound_kind;
typedef struct mpq_bound {
    mpq_bound_kind kind;
    int64_t value;
    mpq_param param;
    mpq_cfg_field field;
} mpq_bound;

typedef struct mpq_cfg_desc {
    const char *name;      /* SV struct member and doc name, e.g. "k_len" */
    unsigned lsb, width;   /* within its part (tile or lane) */
    int is_signed;
    int reserved;          /* must be zero */
    mpq_bound lo, hi;      /* legal range; MPQ_B_NONE: none */
    /* The hardware reads the low `used` bits (sign-extended when signed): MPQ_B_NONE: all of
     * them; MPQ_B_PARAM: `param` bits; MPQ_B_OMAX: param + 1 bits. */
    mpq_bound used;
    const char *doc;       /* use in hardware, one line */
} mpq_cfg_desc;

extern const mpq_cfg_desc mpq_cfg_fields[MPQ_CFG_FIELD_COUNT];
/* 1 for the fields of the lane part. */
int mpq_cfg_is_lane_field(mpq_cfg_field f);
/* Absolute bit position of field f (of lane `lane` for lane fields) in the beat. */
unsigned mpq_cfg_lsb(mpq_cfg_field f, unsigned lane);
/* The value of a bound for hw (and, for MPQ_B_FIELD, the beat and lane). */
int64_t mpq_bound_value(const mpq_bound *b, const mpq_hwcfg *hw, const uint32_t *beat, unsigned lane);

/* 1 when v is representable in field f (its width, signed or not), else 0. */
int mpq_cfg_fits(mpq_cfg_field f, int64_t v);
/* Write v into field f (low `width` bits of its two's complement). beat: MPQ_WORDS(cfg_w). */
void mpq_cfg_put(uint32_t *beat, mpq_cfg_field f, unsigned lane, int64_t v);
/* Field f as written: sign-extended from its width when signed, else zero-extended. */
int64_t mpq_cfg_get(const uint32_t *beat, mpq_cfg_field f, unsigned lane);
/* Field f as the hardware reads it: only its used bits (see mpq_cfg_desc.used). */
int64_t mpq_cfg_get_used(const mpq_hwcfg *hw, const uint32_t *beat, mpq_cfg_field f, unsigned lane);
/* Rules of the tile part that relate several fields (the weights fit the weight buffer, the
 * window's rows fit the activation ring, the counters fit 32 bits): each a C function and the
 * same rule as an SV expression over `tile.<field>` and the parameters, side by side. */
typedef enum mpq_tile_rule {
    MPQ_R_WEIGHTS_FIT = 0, MPQ_R_WINDOW_FITS, MPQ_R_INPUT_COUNT, MPQ_R_OUTPUT_COUNT, MPQ_R_COUNT
} mpq_tile_rule;
typedef struct mpq_tile_rule_desc {
    const char *name;  /* e.g. "the weights fit the weight buffer" */
    const char *broken; /* the same, broken: "the weights do not fit the weight buffer" */
    unsigned params;   /* bit p: the SV expression reads parameter p */
    const char *sv;    /* the rule as an SV expression (longint arithmetic) */
    const char *doc;   /* the rule as docs/timing.md writes it */
    int (*holds)(const mpq_hwcfg *hw, const uint32_t *beat); /* its C twin: 1 when it holds */
    /* The rule with the beat's numbers in ("kh*kw*ceil(c_len/KLanes) = 3*3*ceil(64/16) = 36 >
     * KMax/KLanes = 1024/16 = 64"), as a message says why it does not hold. */
    void (*numbers)(const mpq_hwcfg *hw, const uint32_t *beat, char *buf, size_t len);
} mpq_tile_rule_desc;
extern const mpq_tile_rule_desc mpq_tile_rules[MPQ_R_COUNT];

/* The slices of one pixel's channels: ceil(c_len / KLanes). */
unsigned mpq_cfg_c_slices(const mpq_hwcfg *hw, const uint32_t *beat);

/* Every field of the beat within its legal range, reserved fields zero, and every tile rule
 * (docs/timing.md). Returns 0, or MPQ_EPARAM with "cfg <field> = <v> is outside <lo>..<hi>"
 * (lane named) or "cfg tile: <rule broken>: <the rule with the beat's numbers>" in err. */
int mpq_cfg_check(const mpq_hwcfg *hw, const uint32_t *beat, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
