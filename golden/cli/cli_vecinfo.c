/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden vecinfo: print a vector file's header, read it to the end and verify it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "arith/mpq.h"
#include "stim/mpq_hwlayer.h"
#include "stim/mpq_vec.h"
#include "cycle/mpq_top.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden vecinfo [-q] [--activity] FILE.vec...\n"
               "\n"
               "Prints each vector file's header (configuration, layer kind and shape, seeds, source,\n"
               "the command that made it), reads every cycle, verifies every block's checksum, the\n"
               "end record (cycle count, CRC) and the gzip stream, and counts handshakes per stream.\n"
               "  -q          print only errors (and the activity line)\n"
               "  --activity  also run the golden cycle model on the file's inputs and print the\n"
               "              datapath's switching activity: bits toggled per bus over the whole\n"
               "              file (the energy model's data-dependent actions, docs/explore.md):\n"
               "              `activity cycles N wgt_in N act_in N wbuf_wr N ring_wr N wbuf_rd N\n"
               "              ring_rd N wbuf_ra N ring_ra N xr N xr_hold N tern_x N mul_x N acc N\n"
               "              row N rq N` (_ra: cycles whose read address changed; xr_hold: the\n"
               "              xr toggles on edges whose weight slice held; tern_x, mul_x: the\n"
               "              lanes' operand toggles where the weight is not 0)\n"
               "Exit: 0 every file is intact, 2 usage error or a bad file (the message names it).\n");
}

static int info(const char *path, int quiet, int activity)
{
    char err[600], buf[256];
    mpq_vec_reader *r;
    if (mpq_vec_reader_open(path, &r, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    const mpq_vec_header *h = mpq_vec_reader_header(r);
    mpq_cm *cm = NULL;
    if (activity) {
        int rc = mpq_cm_new(&h->hw, &cm, err, sizeof err);
        if (rc == 0 && mpq_cm_activity_on(cm) != 0) {
            snprintf(err, sizeof err, "cycle model: out of memory");
            rc = MPQ_ENOMEM;
        }
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", path, err);
            mpq_cm_free(cm);
            mpq_vec_reader_close(r);
            return 2;
        }
    }
    static mpq_port_in in;
    static mpq_port_out exp;
    unsigned long long cfg = 0, wgt = 0, act = 0, out = 0, done = 0, reset = 0;
    int rc;
    while ((rc = mpq_vec_reader_next(r, &in, &exp)) == 1) {
        reset += !in.rst_n;
        cfg += in.cfg_valid && exp.cfg_ready;
        wgt += in.wgt_valid && exp.wgt_ready;
        act += in.act_valid && exp.act_ready;
        out += exp.out_valid && in.out_ready;
        done += exp.done;
        if (cm)
            mpq_cm_tick(cm, &in);
    }
    if (rc < 0) {
        fprintf(stderr, "%s\n", mpq_vec_reader_error(r));
        mpq_cm_free(cm);
        mpq_vec_reader_close(r);
        return 2;
    }
    if (!quiet) {
        printf("%s: mpq vector file, format version %u\n", path, h->version);
        printf("  configuration  %s\n", mpq_hwcfg_str(&h->hw, buf, sizeof buf));
        mpq_conv_shape cs;
        char sh[200];
        if (mpq_vec_header_conv_shape(h, &cs)) {
            mpq_conv_shape_format(&cs, sh, sizeof sh);
            printf("  layer          %s (%u output pixels, depth %u, %u channels), accumulator %s\n",
                   sh, h->m, h->k, h->n, h->acc_sat ? "saturating" : "wrapping");
        } else {
            printf("  layer          fully connected m=%u k=%u n=%u, accumulator %s\n", h->m, h->k,
                   h->n, h->acc_sat ? "saturating" : "wrapping");
        }
        printf("  seeds          layer %llu, timing %llu\n", (unsigned long long)h->seed,
               (unsigned long long)h->timing_seed);
        printf("  source         %s\n", h->source);
        printf("  generator      %s\n", h->generator);
        printf("  command        %s\n", h->command);
        printf("  cycles         %llu (%llu in reset) in %llu blocks; every block's checksum, the "
               "end record and the gzip stream verified\n",
               (unsigned long long)mpq_vec_reader_cycle(r), reset,
               (unsigned long long)mpq_vec_reader_blocks(r));
        printf("  handshakes     cfg %llu, wgt %llu, act %llu, out %llu; done %llu\n", cfg, wgt,
               act, out, done);
    }
    if (cm) {
        mpq_cm_activity a;
        mpq_cm_activity_get(cm, &a);
        printf("  activity cycles %llu wgt_in %llu act_in %llu wbuf_wr %llu ring_wr %llu wbuf_rd %llu "
               "ring_rd %llu wbuf_ra %llu ring_ra %llu xr %llu xr_hold %llu tern_x %llu mul_x %llu acc %llu row %llu "
               "rq %llu\n",
               (unsigned long long)a.cycles, (unsigned long long)a.wgt_in, (unsigned long long)a.act_in,
               (unsigned long long)a.wbuf_wr, (unsigned long long)a.ring_wr, (unsigned long long)a.wbuf_rd,
               (unsigned long long)a.ring_rd, (unsigned long long)a.wbuf_ra, (unsigned long long)a.ring_ra,
               (unsigned long long)a.xr, (unsigned long long)a.xr_hold, (unsigned long long)a.tern_x,
               (unsigned long long)a.mul_x, (unsigned long long)a.acc, (unsigned long long)a.row,
               (unsigned long long)a.rq);
        mpq_cm_free(cm);
    }
    mpq_vec_reader_close(r);
    return 0;
}

int mpq_cli_vecinfo(int argc, char **argv)
{
    int quiet = 0, activity = 0, status = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "-q"))
            quiet = 1;
        else if (!strcmp(argv[i], "--activity"))
            activity = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "mpq-golden vecinfo: unknown option `%s`; see --help\n", argv[i]);
            return 2;
        } else
            files++;
    }
    if (!files) {
        usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-' && info(argv[i], quiet, activity) != 0)
            status = 2;
    return status;
}
