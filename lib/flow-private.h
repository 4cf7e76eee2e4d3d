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
/* A field is masked when any name it goes by is, or ends in '_' and, a
 * listed name: the name sinks show (normalised, and its first SD_NAME_MAX
 * characters, as RFC 5424 shows it; redact_fields() judges both), and the
 * name as given (each byte as normalising makes it, and nothing added,
 * removed or cut: normalising may add "F_", and cutting to 64 may lose
 * the end where DB_PASSWORD would be found).
 * redact_given_tail() writes the end of a given name that decides this,
 * each byte normalised, to out and returns its length; redact_given_is_secret()
 * judges it with the list in force. */
size_t redact_given_tail(const char *name, char *out); /* REDACT_TAIL_MAX bytes */
bool redact_given_is_secret(const char *tail, size_t n);
void redact_mask(struct rfield *f);
extern const char redact_mask_value[];

/* backtrace.c: BACKTRACE= text in t->backtrace, without the name; the
 * frames above caller (a return address in the caller of trail__log) are
 * left out. Returns the length, 0 when there is none. */
size_t backtrace_render(struct tls_state *t, const void *caller);
int backtrace_level(void);
