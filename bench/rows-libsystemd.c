/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsystemd's own calls: the floor for any journald library (sendv with an
 * iovec built once, carrying the same fields trail sends) and the printf-style
 * sd_journal_send() most C daemons use. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "bench.h"

#define IOV(s) { (void *) (s), sizeof(s) - 1 }

struct raw_state {
        char ident[96], tid[32];
        struct iovec iov[14];
};

static struct raw_state raw;

/* Everything trail's journald handler sends for the bench record, rendered
 * once: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, SYSLOG_FACILITY, LOGGER,
 * CODE_FILE/LINE/FUNC, TID and the five fields. */
static int raw_setup(struct bench_ctx *ctx) {
        int n_ident = snprintf(raw.ident, sizeof(raw.ident), "SYSLOG_IDENTIFIER=%s", ctx->ident);
        int n_tid = snprintf(raw.tid, sizeof(raw.tid), "TID=%ld", (long) syscall(SYS_gettid));
        const struct iovec iov[] = {
                IOV("MESSAGE=" BENCH_MESSAGE),
                IOV("PRIORITY=6"),
                { raw.ident, (size_t) n_ident },
                IOV("SYSLOG_FACILITY=3"),
                IOV("LOGGER=bench"),
                IOV("CODE_FILE=" __FILE__),
                IOV("CODE_LINE=42"),
                IOV("CODE_FUNC=raw_run"),
                { raw.tid, (size_t) n_tid },
                IOV("REQUEST_ID=" BENCH_REQUEST_ID),
                IOV("USER_ID=42"),
                IOV("ORDER_ID=12345"),
                IOV("SERVICE=" BENCH_SERVICE),
                IOV("ENV=" BENCH_ENV),
        };
        memcpy(raw.iov, iov, sizeof(iov));
        return 0;
}

static void raw_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                /* Parenthesised: the function, not the macro that would add a
                 * second CODE_FILE/CODE_LINE/CODE_FUNC of its own. */
                (sd_journal_sendv)(raw.iov, sizeof(raw.iov) / sizeof(raw.iov[0]));
}

/* sd_journal_send() adds CODE_FILE, CODE_LINE and CODE_FUNC itself. */
static void send_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                sd_journal_send("MESSAGE=" BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID,
                                "PRIORITY=%i", 6,
                                "SYSLOG_IDENTIFIER=%s", ctx->ident,
                                "REQUEST_ID=%s", BENCH_REQUEST_ID,
                                "USER_ID=%d", BENCH_USER_ID,
                                "ORDER_ID=%d", BENCH_ORDER_ID,
                                "SERVICE=%s", BENCH_SERVICE,
                                "ENV=%s", BENCH_ENV,
                                NULL);
}

const struct bench_row bench_rows_libsystemd[] = {
        { .name = "sd_journal_sendv, prebuilt iovec", .peer = "libsystemd", .to_journal = true,
          .note = "the floor: trail's fields, rendered once", .setup = raw_setup, .run = raw_run },
        { .name = "sd_journal_send (printf-style)", .peer = "libsystemd", .to_journal = true,
          .run = send_run },
        /* The floor for the thread-scaling rows of trail journald sync. */
        { .name = "sd_journal_sendv, 2 threads", .peer = "libsystemd", .threads = 2,
          .to_journal = true, .setup = raw_setup, .run = raw_run },
        { .name = "sd_journal_sendv, 4 threads", .peer = "libsystemd", .threads = 4,
          .to_journal = true, .setup = raw_setup, .run = raw_run },
        {},
};
