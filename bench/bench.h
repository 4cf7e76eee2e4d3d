/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The benchmark harness: one table of rows, each a small function that logs
 * n copies of the same record through one library. The harness times the
 * rows, counts heap allocations and the records that reached journald, and
 * prints the table and its CSV. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The record every row logs: the message at INFO, five fields, and the
 * call's source location. */
#define BENCH_MESSAGE_FMT "order %d placed for customer %d"
#define BENCH_MESSAGE "order 12345 placed for customer 42"
#define BENCH_ORDER_ID 12345
#define BENCH_USER_ID 42
#define BENCH_REQUEST_ID "3f2b8c1e-0a4d-4e7b-9c61-5d2a7e9f0b13"
#define BENCH_SERVICE "billing"
#define BENCH_ENV "prod"
/* For sinks without fields (syslog(3), spdlog): the fields go in the text. */
#define BENCH_FIELDS_TEXT                                                     \
        "REQUEST_ID=" BENCH_REQUEST_ID " USER_ID=42 ORDER_ID=12345 SERVICE=" \
        BENCH_SERVICE " ENV=" BENCH_ENV

enum bench_kind {
        BENCH_THROUGHPUT, /* records/s, CPU/record, allocations/record */
        BENCH_NS_PER_CALL, /* a micro-benchmark: ns per call */
        BENCH_LATENCY,     /* per-call latency percentiles */
        BENCH_FORMAT,      /* records/s rendered into memory: no sink, no ratio to raw */
};

struct bench_ctx {
        /* A per-run SYSLOG_IDENTIFIER ("tb-<pid>-<row>-<run>"): the harness
         * counts the journal entries that carry it. Every row that writes to
         * journald or syslog must send it. */
        const char *ident;
        unsigned threads; /* producer threads (the row's own count) */
        void *state;      /* the row's, from setup() to teardown() */
        /* BENCH_LATENCY rows: record the latency of each call, in ns. */
        uint64_t *lat;
        size_t n_lat;
        /* Records logged this run, warm-up included: set before teardown(),
         * for rows that count arrivals at their own sink. */
        uint64_t expected;
};

struct bench_row {
        const char *name;
        const char *peer;   /* "trail", "libsystemd", "glib", "glibc", "spdlog" */
        enum bench_kind kind;
        unsigned threads;   /* 0 or 1: the calling thread alone */
        bool to_journal;    /* count arrivals in journald by SYSLOG_IDENTIFIER */
        const char *note;
        int (*setup)(struct bench_ctx *ctx);       /* may be NULL; < 0: skip the row */
        void (*run)(struct bench_ctx *ctx, uint64_t n); /* logs n records */
        void (*teardown)(struct bench_ctx *ctx);   /* may be NULL */
        uint64_t scale;     /* iterations = records × scale (micro rows) */
        /* Rows with their own sink: the records it received this run, read
         * after teardown() (which waits for them). May be NULL. */
        uint64_t (*arrived)(struct bench_ctx *ctx);
};

/* BENCH_LATENCY rows split the run's records among their threads, and
 * offer them at this total rate, below journald's ingest rate on a small
 * machine, so that what is timed is the call, not a full queue. */
#define BENCH_LATENCY_RATE 20000

/* Monotonic nanoseconds, for latency rows. */
uint64_t bench_now_ns(void);

/* Keeps a value alive without a memory clobber: a loop around it cannot be
 * deleted, and nothing else is forced to memory. */
#define bench_keep(v) __asm__ volatile("" : : "r"(v))

/* Row tables, one per source file; each ends with a row whose name is NULL. */
extern const struct bench_row bench_rows_trail[];
extern const struct bench_row bench_rows_libsystemd[];
extern const struct bench_row bench_rows_glib[];
extern const struct bench_row bench_rows_glibc[];
extern const struct bench_row bench_rows_spdlog[];
/* Rows the issue asks for whose handlers have not landed: printed under the
 * table so that nobody mistakes their absence for a result. NULL-terminated. */
extern const char *const bench_pending[];

#ifdef __cplusplus
}
#endif
