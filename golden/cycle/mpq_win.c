/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_win.c: C twin of rtl/mpq_win.sv, the window generator and the activation ring's writer
 * control (docs/timing.md, "The activation ring and the window generator"). Each function
 * cites the SV block it mirrors; the arithmetic is exact in 64 bits.
 */
#include "arith/mpq.h"
#include "cycle/mpq_units.h"

static unsigned field(const mpq_hwcfg *hw, const uint32_t *beat, mpq_cfg_field f)
{
    return (unsigned)mpq_cfg_get_used(hw, beat, f, 0);
}

/* mpq_win.sv "Geometry of the tile": n_slices, total (from tile_i = cfg_q's tile part). */
void mpq_win_latch(mpq_win *w, const mpq_hwcfg *hw, const uint32_t *beat)
{
    w->c_len = field(hw, beat, MPQ_CFG_C_LEN);
    w->in_h = field(hw, beat, MPQ_CFG_IN_H);
    w->in_w = field(hw, beat, MPQ_CFG_IN_W);
    w->batches = field(hw, beat, MPQ_CFG_BATCHES);
    w->out_h = field(hw, beat, MPQ_CFG_OUT_H);
    w->out_w = field(hw, beat, MPQ_CFG_OUT_W);
    w->kh = field(hw, beat, MPQ_CFG_KH);
    w->kw = field(hw, beat, MPQ_CFG_KW);
    w->sy = field(hw, beat, MPQ_CFG_SY);
    w->sx = field(hw, beat, MPQ_CFG_SX);
    w->dy = field(hw, beat, MPQ_CFG_DY);
    w->dx = field(hw, beat, MPQ_CFG_DX);
    w->py = field(hw, beat, MPQ_CFG_PY);
    w->px = field(hw, beat, MPQ_CFG_PX);
    w->n_slices = (w->c_len + hw->klanes - 1) / hw->klanes & 0xffffu;
    w->total = (uint64_t)w->batches * w->in_h * w->in_w * w->n_slices;
}

/* mpq_win.sv next state `if (start_i)`. */
void mpq_win_start(mpq_win *w)
{
    w->wcount = 0;
    w->b = w->oy = w->ox = w->ky = w->kx = w->s = w->wslot = 0;
    w->rdone = 0;
}

/* mpq_win.sv "The reader's tap" and "The writer". */
void mpq_win_eval(const mpq_win *w, const mpq_hwcfg *hw, int write_en, mpq_win_view *v)
{
    int64_t iy_lo = (int64_t)w->oy * w->sy - w->py;
    int64_t iy = iy_lo + (int64_t)w->ky * w->dy;
    int64_t ix = (int64_t)w->ox * w->sx - w->px + (int64_t)w->kx * w->dx;
    v->iy = iy;
    v->ix = ix;
    v->pad = iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w;
    uint64_t row = (uint64_t)w->b * w->in_h + (uint64_t)(iy & 0xffffff);
    v->need = (row * w->in_w + (uint64_t)(ix & 0xffffff)) * w->n_slices + w->s;
    uint64_t lo = iy_lo < 0 ? 0 : iy_lo > w->in_h ? w->in_h : (uint64_t)iy_lo;
    v->oldest = w->rdone ? w->total : ((uint64_t)w->b * w->in_h + lo) * w->in_w * w->n_slices;
    v->last = w->s == w->n_slices - 1u && w->kx == w->kw - 1u && w->ky == w->kh - 1u;
    v->ready = v->pad || v->need < w->wcount;
    v->first = w->wslot == 0;
    v->raddr = (unsigned)(v->need & (hw->act_depth - 1u));
    v->waddr = w->wcount & (hw->act_depth - 1u);
    v->act_ready = write_en && (uint64_t)w->wcount < w->total &&
                   (uint64_t)w->wcount < v->oldest + hw->act_depth;
}

/* mpq_win.sv "Next state: the reader's loops". */
void mpq_win_tick(mpq_win *w, const mpq_win_view *v, int step, int we)
{
    if (we)
        w->wcount++;
    if (!step)
        return;
    w->wslot = v->last ? 0 : w->wslot + 1;
    if (w->s != w->n_slices - 1u) {
        w->s++;
        return;
    }
    w->s = 0;
    if (w->kx != w->kw - 1u) {
        w->kx++;
        return;
    }
    w->kx = 0;
    if (w->ky != w->kh - 1u) {
        w->ky++;
        return;
    }
    w->ky = 0;
    if (w->ox != w->out_w - 1u) {
        w->ox++;
        return;
    }
    w->ox = 0;
    if (w->oy != w->out_h - 1u) {
        w->oy++;
        return;
    }
    w->oy = 0;
    if (w->b != w->batches - 1u)
        w->b++;
    else
        w->rdone = 1;
}
