/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* glibc syslog(3) to journald's syslog socket (/dev/log → /run/systemd/
 * journal/dev-log): no fields, so they ride in the text. */
#include <syslog.h>
#include <unistd.h>

#include "bench.h"

static int syslog_setup(struct bench_ctx *ctx) {
        /* glibc sends to /dev/log only, and drops records silently without it. */
        if (access("/dev/log", W_OK) < 0)
                return -1;
        openlog(ctx->ident, LOG_NDELAY | LOG_PID, LOG_DAEMON);
        return 0;
}

static void syslog_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                syslog(LOG_INFO, BENCH_MESSAGE_FMT " " BENCH_FIELDS_TEXT " CODE_FILE=%s CODE_LINE=%d",
                       BENCH_ORDER_ID, BENCH_USER_ID, __FILE__, __LINE__);
}

static void syslog_teardown(struct bench_ctx *ctx) {
        closelog();
}

const struct bench_row bench_rows_glibc[] = {
        { .name = "glibc syslog(3)", .peer = "glibc", .to_journal = true,
          .note = "fields in the text; /dev/log -> journald", .setup = syslog_setup,
          .run = syslog_run, .teardown = syslog_teardown },
        {},
};
