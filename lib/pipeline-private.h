/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The settings layer (settings.c, level.c) and the pipeline layer (filter.c,
 * grace.c, flow.c, redact.c, backtrace.c, context.c, correlation.c): what is
 * decided about or added to a record before handlers see it. */
#pragma once

#include "record-private.h"

/* ---- Filters (filter.c) -------------------------------------------------- */

struct filter_entry {
        trail_filter_fn fn;
        void *userdata;
};

/* Immutable, replaced as a whole like handler sets. */
struct filter_list {
        size_t n;
        struct filter_entry e[];
};

/* Adds (add) or removes a filter under the caller's lock. */
int filter_list_change(struct filter_list **list, struct retired **retired, trail_filter_fn fn,
                       void *userdata, bool add);
static inline bool filter_list_pass(const struct filter_list *l, const struct trail_record *r) {
        if (_likely_(!l))
                return true;
        for (size_t i = 0; i < l->n; i++)
                if (!l->e[i].fn(r, l->e[i].userdata))
                        return false;
        return true;
}

/* grace.c: each thread that logs has a dispatch slot, so that a swap of the
 * whole configuration (config.c) can hold new records at the door, wait for
 * those already walking handler sets, and then free what it replaced. */
struct dispatch_slot {
        struct dispatch_slot *prev, *next; /* the registry, under its lock */
        uint64_t seq;  /* odd while this thread dispatches; written by it only */
        uint64_t snap; /* the swapper's: seq when it started waiting */
        bool wait;     /* the swapper's: still waiting for this slot */
};

extern int dispatch_swap_pending;
/* This thread's slot, registered at its first call; NULL on ENOMEM. */
struct dispatch_slot *dispatch_slot_get(void);
/* For the thread that unloads or exits the program (no destructor runs). */
void dispatch_slot_release(void);
void dispatch_wait_swap(struct dispatch_slot *s);

/* One seq_cst store and one load of a flag that is almost never set: against
 * the swapper's store of the flag and load of seq, either this thread sees
 * the swap coming or the swapper sees this thread in dispatch. */
static inline void dispatch_enter(struct dispatch_slot *s) {
        __atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_SEQ_CST);
        if (_unlikely_(__atomic_load_n(&dispatch_swap_pending, __ATOMIC_SEQ_CST)))
                dispatch_wait_swap(s);
}

static inline void dispatch_exit(struct dispatch_slot *s) {
        __atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/* The swapper's side: holds new records back (swap_begin) and waits up to
 * timeout_ms for those in dispatch to finish; true when they all did. */
bool dispatch_swap_begin(int timeout_ms);
void dispatch_swap_end(void);
/* Waits up to timeout_ms for every record in dispatch now to finish. */
bool dispatch_grace_wait(int timeout_ms);

/* context.c */
void globals_refresh(struct tls_state *t);
void globals_free(void);

/* settings.c: ident and facility, read on every record */
struct ident {
        size_t len; /* of "SYSLOG_IDENTIFIER=..." */
        char field[];
};
const struct ident *ident_get(void);
int facility_get(void);
/* Two halves of trail_set_ident(), so that a configuration can prepare the
 * new identifier aside and publish it with the rest without failing. */
struct ident_prepared;
int ident_prepare(const char *name, struct ident_prepared **ret);
void ident_publish(struct ident_prepared *p);
void ident_prepared_free(struct ident_prepared *p); /* NULL-safe; not after publish */
/* The same for global fields (context.c), in two layers: the program's
 * and the configuration's, which wins on a name set in both. */
enum globals_layer {
        GLOBALS_PROGRAM, /* trail_set_global_fields() */
        GLOBALS_CONFIG,  /* trail.conf's "fields =" */
        _GLOBALS_LAYER_MAX,
};
int globals_prepare(trail_fields fields, struct field_store *ret);
void globals_publish(enum globals_layer layer, struct field_store *s); /* takes over *s */
void settings_free(void);

/* flow.c: the verdict on one call, taken before its message is formatted. */
struct flow_verdict {
        uint64_t sample_rate; /* > 1: add SAMPLE_RATE= */
        uint64_t suppressed;  /* > 0: first log the "suppressed" record */
        bool backtrace;       /* add BACKTRACE= */
};
/* A logger's sampling and rate limit (in its node, struct trail_logger);
 * atomics, read on every record without a lock. */
struct flow_limits {
        unsigned sample;      /* keep 1 in n per call site; 0, 1: all */
        unsigned rl_burst;    /* per call site and interval; 0: no limit */
        uint64_t rl_interval; /* microseconds */
};
int flow_limits_set_sample(struct flow_limits *l, unsigned n);
int flow_limits_set_rate_limit(struct flow_limits *l, unsigned burst, uint64_t interval_usec);
/* false: drop the record. */
bool flow_admit(const struct flow_limits *l, int level, const trail_source *src,
                trail_fields fields, struct flow_verdict *ret);
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
