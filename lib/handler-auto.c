/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The auto handler, DESIGN.md's "journald → local syslog → stderr", and the
 * "last resort" that records nobody listens to go to. journald tells whether
 * it is there and whether it took the record (handler-journald.c); this file
 * chooses the next step. */

#include <sys/stat.h>

#include "handler-private.h"

struct auto_handler {
        trail_handler base;
        trail_handler *journald; /* the first step; its timeout is the whole call's */
        trail_handler *local;    /* the /dev/log step, made when first needed */
};

#define LOCAL_SYSLOG "/dev/log"

/* Without journald, a local syslog daemon on /dev/log gets the record as RFC
 * 3164 (it falls back to stderr itself when it does not take it), all within
 * the caller's deadline. */
static int local_syslog_emit(struct auto_handler *a, const struct trail_record *r, bool *fell_back,
                             uint64_t deadline) {
        struct stat st;
        trail_handler *l;

        if (stat(LOCAL_SYSLOG, &st) < 0 || !S_ISSOCK(st.st_mode))
                return stderr_write_text(r, deadline);
        l = __atomic_load_n(&a->local, __ATOMIC_ACQUIRE);
        if (!l) {
                trail_handler *n = trail_handler_syslog(NULL), *expected = NULL;
                if (!n)
                        return stderr_write_text(r, deadline);
                if (!__atomic_compare_exchange_n(&a->local, &expected, n, false, __ATOMIC_ACQ_REL,
                                                 __ATOMIC_ACQUIRE)) {
                        trail_handler_unref(n);
                        n = expected;
                }
                l = n;
        }
        return syslog_emit_until(l, r, fell_back, deadline);
}

/* One deadline for the whole call: journald, then the local syslog or
 * stderr, get what is left of the handler's timeout between them. journald
 * absent is no failure: the local syslog is then the sink. */
static int auto_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct auto_handler *a = (struct auto_handler *) h;
        struct tls_state *t = tls_state_get();
        uint64_t deadline = journald_deadline(a->journald, r);
        bool local_fell_back = false;
        int k;

        if (!t)
                return -ENOMEM;
        k = journald_send_record(a->journald, t, r, deadline);
        if (k >= 0)
                return 0;
        if (k == -ENOENT)
                return local_syslog_emit(a, r, fell_back, deadline);
        /* journald is there but did not take it: the next step */
        journald_report_once(a->journald, k, "the local syslog or stderr");
        *fell_back = local_syslog_emit(a, r, &local_fell_back, deadline) >= 0 || local_fell_back;
        return k;
}

/* The options are journald's ("timeout"). */
static int auto_set(trail_handler *h, const char *key, const char *value) {
        struct auto_handler *a = (struct auto_handler *) h;

        return a->journald->ops->set(a->journald, key, value);
}

static void auto_free(trail_handler *h) {
        struct auto_handler *a = (struct auto_handler *) h;

        trail_handler_unref(a->local);
        trail_handler_unref(a->journald);
        free(a);
}

static const struct handler_ops auto_ops = {
        .type = "auto",
        .emit = auto_emit,
        .set = auto_set,
        .free = auto_free,
};

_public_ trail_handler *trail_handler_auto(void) {
        struct auto_handler *a = calloc(1, sizeof(*a));

        if (!a) {
                errno = ENOMEM;
                return NULL;
        }
        a->journald = trail_handler_journald();
        if (!a->journald) {
                free(a);
                errno = ENOMEM;
                return NULL;
        }
        (void) handler_init(&a->base, &auto_ops); /* renders no text: cannot fail */
        return &a->base;
}

/* ---- Last resort -------------------------------------------------------- */

static trail_handler *last_resort;
static pthread_once_t last_resort_once = PTHREAD_ONCE_INIT;

static void last_resort_create(void) {
        __atomic_store_n(&last_resort, trail_handler_auto(), __ATOMIC_RELEASE);
}

trail_handler *handler_last_resort(void) {
        trail_handler *h = __atomic_load_n(&last_resort, __ATOMIC_ACQUIRE);
        if (_likely_(h))
                return h;
        pthread_once(&last_resort_once, last_resort_create);
        return __atomic_load_n(&last_resort, __ATOMIC_ACQUIRE);
}

trail_handler *handler_last_resort_peek(void) {
        return __atomic_load_n(&last_resort, __ATOMIC_ACQUIRE);
}
