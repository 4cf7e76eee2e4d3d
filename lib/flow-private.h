/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the record builder asks of sampling and rate limits (flow.c),
 * redaction and the scrubber (redact.c) and backtraces (backtrace.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "trail.h"

struct tls_state;
struct rfield;

/* flow.c: the verdict on one call, taken before its message is formatted. */
struct flow_verdict {
        uint64_t sample_rate; /* > 1: add SAMPLE_RATE= */
        uint64_t suppressed;  /* > 0: first log the "suppressed" record */
        bool backtrace;       /* add BACKTRACE= */
};
/* false: drop the record. */
bool flow_admit(const trail_logger *lg, int level, const trail_source *src, trail_fields fields,
                struct flow_verdict *ret);
/* CLOCK_MONOTONIC in microseconds, or the test's clock once set. */
uint64_t flow_now_usec(void);
void flow_set_clock_for_test(uint64_t usec); /* 0: the real clock again */

/* redact.c */
/* The built-in redaction list, NULL-terminated (trail.conf's "default"). */
extern const char *const redact_default_names[];
/* Replaces the values of fields named in the redaction list by "****", and
 * scrubs string values; may point values into t->scrub. */
void redact_fields(struct tls_state *t, struct rfield *f, size_t n);
/* Scrubs the message in t->message, using t->render as scratch. */
void redact_message(struct tls_state *t);
void redact_free(void);
/* Whether a name longer than FIELD_NAME_MAX ends in a listed name (after
 * '_'): normalising cuts such a name to its first 64 characters, which
 * loses the end where redact_fields() would find DB_PASSWORD. Its field
 * then has its value masked where it is built (redact_mask()). */
bool redact_long_name(const char *name);
void redact_mask(struct rfield *f);
extern const char redact_mask_value[];

/* backtrace.c: BACKTRACE= text in t->backtrace, without the name; the
 * frames above caller (a return address in the caller of trail__log) are
 * left out. Returns the length, 0 when there is none. */
size_t backtrace_render(struct tls_state *t, const void *caller);
int backtrace_level(void);
