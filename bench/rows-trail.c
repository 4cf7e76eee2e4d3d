/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail's rows: a setup that attaches a handler to the "bench" logger, and
 * trail_run() (throughput) or trail_latency_run() (per-call latency). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <trail.h>

#include "bench.h"
#include "sink.h"

static trail_logger *bench_logger(void) {
        return trail_get("bench");
}

/* The bench record through whatever handlers the "bench" logger has. */
static void trail_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        for (uint64_t i = 0; i < n; i++)
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", BENCH_REQUEST_ID),
                                             TRAIL_INT("USER_ID", BENCH_USER_ID),
                                             TRAIL_INT("ORDER_ID", BENCH_ORDER_ID),
                                             TRAIL_STR("SERVICE", BENCH_SERVICE),
                                             TRAIL_STR("ENV", BENCH_ENV)),
                                BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
}

/* The same, timing each call: the caller's latency. The records are offered
 * at BENCH_LATENCY_RATE in total, spread over the producers, so that the
 * timing is of the call, not of a queue that a burst has filled. */
static void trail_latency_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        uint64_t interval = 1000000000ull * ctx->threads / BENCH_LATENCY_RATE;
        struct timespec next;

        clock_gettime(CLOCK_MONOTONIC, &next);
        for (uint64_t i = 0; i < n; i++) {
                uint64_t t0 = bench_now_ns();
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", BENCH_REQUEST_ID),
                                             TRAIL_INT("USER_ID", BENCH_USER_ID),
                                             TRAIL_INT("ORDER_ID", BENCH_ORDER_ID),
                                             TRAIL_STR("SERVICE", BENCH_SERVICE),
                                             TRAIL_STR("ENV", BENCH_ENV)),
                                BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
                ctx->lat[ctx->n_lat++] = bench_now_ns() - t0;
                next.tv_nsec += (long) interval;
                while (next.tv_nsec >= 1000000000) {
                        next.tv_nsec -= 1000000000;
                        next.tv_sec++;
                }
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
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

/* The async handler over journald: a 4096-record queue, callers wait for
 * room when it is full (nothing is dropped, so every record must arrive).
 * teardown's trail_flush() drains it before the journal is counted. */
static int async_journald_setup(struct bench_ctx *ctx) {
        trail_handler *inner = trail_handler_journald();
        trail_handler *h = inner ? trail_handler_async(inner, 0, TRAIL_OVERFLOW_BLOCK) : NULL;

        trail_handler_unref(inner);
        return use_handler(ctx, h);
}

/* The flight recorder: a memory handler over journald (64 records per
 * thread, trigger error). The bench record at debug is held in the
 * calling thread's ring and never sent: the cost of keeping debug records
 * this way (the ring is made by the warm-up's first record). */
static int memory_setup(struct bench_ctx *ctx) {
        trail_handler *target = trail_handler_journald();
        trail_handler *h = target ? trail_handler_memory(target, 64, TRAIL_ERROR) : NULL;

        trail_handler_unref(target);
        if (use_handler(ctx, h) < 0)
                return -1;
        trail_logger_set_level(bench_logger(), TRAIL_DEBUG);
        return 0;
}

static void memory_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        for (uint64_t i = 0; i < n; i++)
                trail_debug_with(lg,
                                 TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", BENCH_REQUEST_ID),
                                              TRAIL_INT("USER_ID", BENCH_USER_ID),
                                              TRAIL_INT("ORDER_ID", BENCH_ORDER_ID),
                                              TRAIL_STR("SERVICE", BENCH_SERVICE),
                                              TRAIL_STR("ENV", BENCH_ENV)),
                                 BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
}

static int stream_json_setup(struct bench_ctx *ctx) {
        static int devnull = -1;

        if (devnull < 0)
                devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        return devnull < 0 ? -1 : use_handler(ctx, trail_handler_stream(devnull, "json"));
}

/* The file handler, JSON, to a file of the row's own in $TMPDIR (or /tmp),
 * removed at teardown: one write() per record, a stat() of the path once a
 * second. */
static char file_path[256];

static int file_json_setup(struct bench_ctx *ctx) {
        const char *tmp = getenv("TMPDIR");
        int fd;

        snprintf(file_path, sizeof(file_path), "%s/trail-bench-%d.log", tmp && *tmp ? tmp : "/tmp",
                 (int) getpid());
        fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        close(fd);
        return use_handler(ctx, trail_handler_file(file_path, "json"));
}

static void file_teardown(struct bench_ctx *ctx) {
        drop_handler(ctx);
        unlink(file_path);
}

/* RFC 5424 over UDP, TCP or TLS to a receiver thread on 127.0.0.1. */
static struct sink *sink;
static uint64_t sink_received;

enum syslog_path { SYNC, ASYNC_BATCHED, ASYNC_UNBATCHED };

static int syslog_setup(struct bench_ctx *ctx, const char *scheme, enum syslog_path path) {
        bool tls = strcmp(scheme, "tls") == 0;
        char target[64];
        int port;

        sink = sink_start(strcmp(scheme, "udp") != 0, tls, &port);
        if (!sink)
                return -1;
        snprintf(target, sizeof(target), "%s://127.0.0.1:%d", scheme, port);
        trail_handler *h = trail_handler_syslog(target);
        if (h && tls)
                (void) trail_handler_set(h, "verify", "no"); /* the sink's certificate is its own */
        if (h && path != SYNC) {
                /* 4096 records, callers wait for room: nothing is dropped */
                trail_handler *a = trail_handler_async(h, 0, TRAIL_OVERFLOW_BLOCK);
                trail_handler_unref(h);
                h = a;
                /* the same path, one record per send: the ratio's baseline */
                if (h && path == ASYNC_UNBATCHED)
                        (void) trail_handler_set(h, "batch", "1");
        }
        if (use_handler(ctx, h) < 0) {
                sink_stop(sink, 0);
                return -1;
        }
        return 0;
}

static int syslog_udp_setup(struct bench_ctx *ctx) {
        return syslog_setup(ctx, "udp", SYNC);
}

static int syslog_tcp_setup(struct bench_ctx *ctx) {
        return syslog_setup(ctx, "tcp", SYNC);
}

#define ASYNC_SETUPS(scheme)                                                                       \
        static int async_##scheme##_setup(struct bench_ctx *ctx) {                                 \
                return syslog_setup(ctx, #scheme, ASYNC_BATCHED);                                  \
        }                                                                                          \
        static int async_##scheme##_unbatched_setup(struct bench_ctx *ctx) {                       \
                return syslog_setup(ctx, #scheme, ASYNC_UNBATCHED);                                \
        }
ASYNC_SETUPS(udp)
ASYNC_SETUPS(tcp)
ASYNC_SETUPS(tls)

/* The async rows: the caller's clock runs until the receiver has counted
 * the run's records (or its count stood still for 300 ms), so records/s is
 * the rate records reached the receiver, not the rate they were queued. */
static void async_to_sink_run(struct bench_ctx *ctx, uint64_t n) {
        uint64_t want = sink_count(sink) + n;

        trail_run(ctx, n);
        sink_wait(sink, want, 300);
}

static void syslog_teardown(struct bench_ctx *ctx) {
        drop_handler(ctx);
        sink_received = sink_stop(sink, ctx->expected);
        sink = NULL;
}

static uint64_t syslog_arrived(struct bench_ctx *ctx) {
        return sink_received;
}

/* Formatting only: a logger filter (it sees the record before any handler)
 * renders the record into a reused buffer n times, then drops it. One call
 * to trail_info_with(), n formats. */
static trail_formatter *formatter;
static uint64_t format_n;

static bool format_filter(const trail_record *r, void *userdata) {
        static char buf[4096];
        for (uint64_t i = 0; i < format_n; i++) {
                int k = trail_formatter_format(formatter, r, buf, sizeof(buf));
                bench_keep(k);
        }
        return false;
}

static int format_setup(struct bench_ctx *ctx, const char *name) {
        trail_logger *lg = trail_get("bench.format");

        formatter = trail_formatter_new(name);
        if (!formatter)
                return -1;
        trail_logger_set_level(lg, TRAIL_INFO);
        trail_logger_set_propagate(lg, false);
        trail_set_ident(ctx->ident);
        return trail_logger_add_filter(lg, format_filter, NULL) < 0 ? -1 : 0;
}

static int format_rfc5424_setup(struct bench_ctx *ctx) {
        return format_setup(ctx, "rfc5424");
}

static int format_json_setup(struct bench_ctx *ctx) {
        return format_setup(ctx, "json");
}

static void format_run(struct bench_ctx *ctx, uint64_t n) {
        format_n = n;
        trail_info_with(trail_get("bench.format"),
                        TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", BENCH_REQUEST_ID),
                                     TRAIL_INT("USER_ID", BENCH_USER_ID),
                                     TRAIL_INT("ORDER_ID", BENCH_ORDER_ID),
                                     TRAIL_STR("SERVICE", BENCH_SERVICE),
                                     TRAIL_STR("ENV", BENCH_ENV)),
                        BENCH_MESSAGE_FMT, BENCH_ORDER_ID, BENCH_USER_ID);
}

static void format_teardown(struct bench_ctx *ctx) {
        trail_logger_remove_filter(trail_get("bench.format"), format_filter, NULL);
        formatter = trail_formatter_unref(formatter);
        trail_set_ident(NULL);
}

/* trail_debug() on a logger at INFO: the inline level check alone. */
static void disabled_run(struct bench_ctx *ctx, uint64_t n) {
        trail_logger *lg = bench_logger();
        for (uint64_t i = 0; i < n; i++) {
                trail_debug(lg, BENCH_MESSAGE_FMT, (int) i, BENCH_USER_ID);
                bench_keep(i);
        }
}

#define JOURNALD_SYNC(label, thr)                                                                  \
        {                                                                                          \
                .name = label, .peer = "trail", .threads = (thr), .to_journal = true,              \
                .setup = journald_setup, .run = trail_run, .teardown = drop_handler                \
        }

/* An empty loop of the same shape as the disabled-call rows: what the
 * loop itself costs, so that ns/call can be read net of it. */
static void empty_loop_run(struct bench_ctx *ctx, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                bench_keep(i);
}

/* An async row: "trail RFC 5424 over TCP, async" and its unbatched twin
 * "trail RFC 5424 over TCP, async, batch 1" (print_targets() finds them by
 * these names), counted at the receiver. */
#define ASYNC_ROW(label, setup_fn, what)                                                           \
        {                                                                                          \
                .name = "trail RFC 5424 over " label, .peer = "trail", .setup = setup_fn,          \
                .run = async_to_sink_run, .teardown = syslog_teardown, .arrived = syslog_arrived,  \
                .note = what "; counted at the receiver"                                           \
        }

const struct bench_row bench_rows_trail[] = {
        JOURNALD_SYNC("trail journald sync", 1),
        {.name = "trail disabled call (debug at info)",
         .peer = "trail",
         .kind = BENCH_NS_PER_CALL,
         .setup = journald_setup,
         .run = disabled_run,
         .teardown = drop_handler,
         .scale = 1000},
        {.name = "empty loop (baseline for ns/call)",
         .peer = "baseline",
         .kind = BENCH_NS_PER_CALL,
         .run = empty_loop_run,
         .scale = 1000},
        JOURNALD_SYNC("trail journald sync, 2 threads", 2),
        JOURNALD_SYNC("trail journald sync, 4 threads", 4),
        {.name = "trail journald async",
         .peer = "trail",
         .to_journal = true,
         .setup = async_journald_setup,
         .run = trail_run,
         .teardown = drop_handler,
         .note = "queue 4096, block when full; the caller's rate"},
        {.name = "trail debug held in a memory ring",
         .peer = "trail",
         .kind = BENCH_NS_PER_CALL,
         .setup = memory_setup,
         .run = memory_run,
         .teardown = drop_handler,
         .scale = 1,
         .note = "flight recorder: 64 per thread, not sent"},
        {.name = "trail debug held in a memory ring, 4 threads",
         .peer = "trail",
         .kind = BENCH_NS_PER_CALL,
         .threads = 4,
         .setup = memory_setup,
         .run = memory_run,
         .teardown = drop_handler,
         .scale = 1,
         .note = "a ring per thread; ns/call is wall / all calls"},
        {.name = "trail RFC 5424 over UDP (loopback)",
         .peer = "trail",
         .setup = syslog_udp_setup,
         .run = trail_run,
         .teardown = syslog_teardown,
         .arrived = syslog_arrived,
         .note = "counted at the receiver"},
        {.name = "trail RFC 5424 over TCP (loopback)",
         .peer = "trail",
         .setup = syslog_tcp_setup,
         .run = trail_run,
         .teardown = syslog_teardown,
         .arrived = syslog_arrived,
         .note = "octet counting; counted at the receiver"},
        ASYNC_ROW("UDP, async", async_udp_setup, "sendmmsg() of the records waiting"),
        ASYNC_ROW("UDP, async, batch 1", async_udp_unbatched_setup, "one send() per record"),
        ASYNC_ROW("TCP, async", async_tcp_setup, "many frames per sendmsg()"),
        ASYNC_ROW("TCP, async, batch 1", async_tcp_unbatched_setup, "one frame per sendmsg()"),
        ASYNC_ROW("TLS, async", async_tls_setup, "many frames per TLS record"),
        ASYNC_ROW("TLS, async, batch 1", async_tls_unbatched_setup, "one frame per TLS record"),
        {.name = "trail stream json to /dev/null",
         .peer = "trail",
         .setup = stream_json_setup,
         .run = trail_run,
         .teardown = drop_handler},
        {.name = "trail stream json to /dev/null, 4 threads",
         .peer = "trail",
         .threads = 4,
         .setup = stream_json_setup,
         .run = trail_run,
         .teardown = drop_handler},
        {.name = "trail file json",
         .peer = "trail",
         .setup = file_json_setup,
         .run = trail_run,
         .teardown = file_teardown,
         .note = "a file in $TMPDIR"},
        {.name = "trail file json, 4 threads",
         .peer = "trail",
         .threads = 4,
         .setup = file_json_setup,
         .run = trail_run,
         .teardown = file_teardown,
         .note = "a file in $TMPDIR"},
        {.name = "trail format RFC 5424 into memory",
         .peer = "trail",
         .kind = BENCH_FORMAT,
         .setup = format_rfc5424_setup,
         .run = format_run,
         .teardown = format_teardown,
         .note = "trail_formatter_format, one record"},
        {.name = "trail format JSON into memory",
         .peer = "trail",
         .kind = BENCH_FORMAT,
         .setup = format_json_setup,
         .run = format_run,
         .teardown = format_teardown,
         .note = "trail_formatter_format, one record"},
        {.name = "trail journald sync, caller latency",
         .peer = "trail",
         .kind = BENCH_LATENCY,
         .to_journal = true,
         .setup = journald_setup,
         .run = trail_latency_run,
         .teardown = drop_handler,
         .note = "20k records/s offered"},
        {.name = "trail journald async, caller latency",
         .peer = "trail",
         .kind = BENCH_LATENCY,
         .to_journal = true,
         .setup = async_journald_setup,
         .run = trail_latency_run,
         .teardown = drop_handler,
         .note = "20k records/s offered"},
        {.name = "trail journald async, caller latency, 4 producers",
         .peer = "trail",
         .kind = BENCH_LATENCY,
         .threads = 4,
         .to_journal = true,
         .setup = async_journald_setup,
         .run = trail_latency_run,
         .teardown = drop_handler,
         .note = "20k records/s offered"},
        {.name = "trail journald async, caller latency, 16 producers",
         .peer = "trail",
         .kind = BENCH_LATENCY,
         .threads = 16,
         .to_journal = true,
         .setup = async_journald_setup,
         .run = trail_latency_run,
         .teardown = drop_handler,
         .note = "20k records/s offered"},
        {},
};

/* Rows the issue asks for that are not measured yet. */
const char *const bench_pending[] = {
        NULL,
};
