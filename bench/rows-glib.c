/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GLib: g_log_structured() through g_log_writer_journald(), and a disabled
 * g_debug(). One writer per process, set once: it drops debug records the
 * way g_log_writer_default() does (G_MESSAGES_DEBUG unset) and sends the
 * rest to journald, as a daemon writing to journald with GLib would. */
#define G_LOG_DOMAIN "bench"
#include <glib.h>

#include "bench.h"

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                               gpointer user_data) {
        if ((level & G_LOG_LEVEL_DEBUG) && g_log_writer_default_would_drop(level, G_LOG_DOMAIN))
                return G_LOG_WRITER_HANDLED;
        return g_log_writer_journald(level, fields, n_fields, user_data);
}

static int glib_setup(struct bench_ctx *ctx) {
        static bool once;
        if (!once) {
                g_log_set_writer_func(writer, NULL, NULL);
                once = true;
        }
        return 0;
}

/* g_log_structured() adds CODE_FILE, CODE_LINE, CODE_FUNC and GLIB_DOMAIN.
 * Its field values are strings (only MESSAGE is a format), so the numbers
 * are given pre-rendered, which favours GLib slightly. */
static void structured_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                                 "SYSLOG_IDENTIFIER", ctx->ident,
                                 "REQUEST_ID", BENCH_REQUEST_ID,
                                 "USER_ID", "42",
                                 "ORDER_ID", "12345",
                                 "SERVICE", BENCH_SERVICE,
                                 "ENV", BENCH_ENV,
                                 "MESSAGE", BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
}

static void debug_disabled_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++) {
                g_debug(BENCH_MESSAGE_FMT, (int) i, BENCH_USER_ID);
                bench_keep(i);
        }
}

const struct bench_row bench_rows_glib[] = {
        { .name = "glib g_log_structured -> journald", .peer = "glib", .to_journal = true,
          .setup = glib_setup, .run = structured_run },
        { .name = "glib g_debug, disabled", .peer = "glib", .kind = BENCH_NS_PER_CALL,
          .note = "G_MESSAGES_DEBUG unset", .setup = glib_setup, .run = debug_disabled_run,
          .scale = 10 },
        {},
};
