/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail's rows. A row for a handler that has not landed yet is one more
 * setup (attach the handler to the "bench" logger) plus trail_run() or
 * trail_latency_run(); see bench/README.md for the ones still to add. */
#include <trail.h>

#include "bench.h"

static trail_logger *bench_logger(void) {
        return trail_get("bench");
}

/* The bench record through whatever handlers the "bench" logger has. */
static void trail_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        for (uint64_t i = 0; i < n; i++)
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", BENCH_REQUEST_ID),
                                                 TRAIL_INT("USER_ID", BENCH_USER_ID),
                                                 TRAIL_INT("ORDER_ID", BENCH_ORDER_ID),
                                                 TRAIL_STR("SERVICE", BENCH_SERVICE),
                                                 TRAIL_STR("ENV", BENCH_ENV)),
                                BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
}

/* The same, timing each call: the caller's latency. */
static void trail_latency_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        for (uint64_t i = 0; i < n; i++) {
                uint64_t t0 = bench_now_ns();
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", BENCH_REQUEST_ID),
                                                 TRAIL_INT("USER_ID", BENCH_USER_ID),
                                                 TRAIL_INT("ORDER_ID", BENCH_ORDER_ID),
                                                 TRAIL_STR("SERVICE", BENCH_SERVICE),
                                                 TRAIL_STR("ENV", BENCH_ENV)),
                                BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
                ctx->lat[ctx->n_lat++] = bench_now_ns() - t0;
        }
}

/* Replaces the bench logger's handler with h (taking the reference) and
 * sets this run's SYSLOG_IDENTIFIER. */
static int use_handler(struct bench_ctx *ctx, trail_handler *h) {
        trail_logger *lg = bench_logger();

        if (!h)
                return -1;
        trail_logger_set_level(lg, TRAIL_INFO);
        trail_logger_set_propagate(lg, false);
        trail_set_ident(ctx->ident);
        if (trail_logger_add_handler(lg, h) < 0) {
                trail_handler_unref(h);
                return -1;
        }
        ctx->state = h;
        return 0;
}

static void drop_handler(struct bench_ctx *ctx) {
        trail_handler *h = ctx->state;

        trail_flush();
        trail_logger_remove_handler(bench_logger(), h);
        trail_handler_unref(h);
        trail_set_ident(NULL);
}

static int journald_setup(struct bench_ctx *ctx) {
        return use_handler(ctx, trail_handler_journald());
}

/* trail_debug() on a logger at INFO: the inline level check alone. */
static void disabled_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        for (uint64_t i = 0; i < n; i++) {
                trail_debug(lg, BENCH_MESSAGE_FMT, (int) i, BENCH_USER_ID);
                bench_keep(i);
        }
}

#define JOURNALD_SYNC(label, thr)                                                  \
        { .name = label, .peer = "trail", .threads = (thr),                        \
          .to_journal = true, .setup = journald_setup, .run = trail_run,           \
          .teardown = drop_handler }

/* An empty loop of the same shape as the disabled-call rows: what the
 * loop itself costs, so that ns/call can be read net of it. */
static void empty_loop_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                bench_keep(i);
}

const struct bench_row bench_rows_trail[] = {
        JOURNALD_SYNC("trail journald sync", 1),
        { .name = "trail disabled call (debug at info)", .peer = "trail", .kind = BENCH_NS_PER_CALL,
          .setup = journald_setup, .run = disabled_run, .teardown = drop_handler, .scale = 1000 },
        { .name = "empty loop (baseline for ns/call)", .peer = "baseline", .kind = BENCH_NS_PER_CALL,
          .run = empty_loop_run, .scale = 1000 },
        JOURNALD_SYNC("trail journald sync, 2 threads", 2),
        JOURNALD_SYNC("trail journald sync, 4 threads", 4),
        { .name = "trail journald sync, caller latency", .peer = "trail", .kind = BENCH_LATENCY,
          .to_journal = true, .setup = journald_setup, .run = trail_latency_run,
          .teardown = drop_handler, .note = "sync: for the async rows to beat" },
        {},
};

/* Each becomes one row above when its handler lands; see bench/README.md. */
const char *const bench_pending[] = {
        "trail journald async (issue 5): trail_handler_async(trail_handler_journald(), "
        "capacity, overflow) + trail_run; arrivals counted after trail_flush()",
        "trail async caller latency p50/p99/p99.9, 1/4/16 producers (issue 5): the same handler "
        "+ trail_latency_run, .threads = 1, 4, 16",
        "trail RFC 5424 over UDP and TCP to a loopback sink (issue 3): "
        "trail_handler_syslog(\"udp://127.0.0.1:PORT\") / \"tcp://…\" + trail_run",
        "trail stream json to /dev/null (issue 4): trail_handler_stream(open(\"/dev/null\"), \"json\") + trail_run",
        "RFC 5424 and JSON formatting into memory, records/s (issues 3, 4): "
        "trail_handler_stream(memfd, \"rfc5424\" | \"json\") + trail_run, lseek back each run",
        NULL,
};
