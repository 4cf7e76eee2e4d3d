/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers the cmocka tests share: a handler alone on a logger of its own,
 * fd 2 captured so that a test can read trail's fallback output and failure
 * reports, counting a string in a text, a large value, reading a pipe to
 * its end in a thread, and a mount namespace of the test's own. What a test logs and asserts stays
 * in the test. */
#pragma once

#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "trail.h"

/* In a forked child, cmocka's asserts would jump into the child's copy of
 * the test runner: a failed check says why on stdout (stderr may be what
 * the test fills or captures) and ends the child. */
#define CHECK(c)                                                                                   \
        do {                                                                                       \
                if (!(c)) {                                                                        \
                        printf("%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);               \
                        fflush(stdout);                                                            \
                        _exit(1);                                                                  \
                }                                                                                  \
        } while (0)

/* The number of times needle occurs in s, without overlaps. */
static inline size_t count_substr(const char *s, const char *needle) {
        size_t n = 0;
        for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* A malloc'd string of n bytes of a repeated pattern: a large value. */
static inline char *big_value(size_t n, const char *pattern) {
        size_t k = strlen(pattern);
        char *b = malloc(n + 1);
        if (!b)
                abort();
        for (size_t i = 0; i < n; i++)
                b[i] = pattern[i % k];
        b[n] = '\0';
        return b;
}

static inline uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* ---- A logger of the test's own ---------------------------------------- */

/* The logger name with h as its only handler: nothing propagates to the
 * root's handlers, and every level passes the logger. */
static inline trail_logger *logger_with(const char *name, trail_handler *h) {
        trail_logger *lg = trail_get(name);
        assert_non_null(lg);
        assert_non_null(h);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        assert_int_equal(trail_logger_set_level(lg, TRAIL_DEBUG), 0);
        return lg;
}

/* Takes h off lg again and drops the test's reference to it. */
static inline void logger_without(trail_logger *lg, trail_handler *h) {
        assert_int_equal(trail_logger_remove_handler(lg, h), 0);
        trail_handler_unref(h);
}

/* h's counters are exactly these. */
static inline void assert_handler_stats(trail_handler *h, uint64_t records, uint64_t delivered,
                                        uint64_t failed, uint64_t lost) {
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, records);
        assert_int_equal(st.delivered, delivered);
        assert_int_equal(st.failed, failed);
        assert_int_equal(st.lost, lost);
}

/* Logs SEQ=first..first+n-1 with RUN=run at INFO, one record each; returns
 * the slowest call in microseconds. */
static inline uint64_t log_numbered(trail_logger *lg, const char *run, int first, int n) {
        uint64_t worst = 0;
        for (int i = first; i < first + n; i++) {
                uint64_t t0 = now_usec(), d;
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("SEQ", i)),
                                "record %d", i);
                d = now_usec() - t0;
                if (d > worst)
                        worst = d;
        }
        return worst;
}

/* ---- fd 2 in a memfd ------------------------------------------------------ */

/* Where trail's fallback and its once-only failure reports go is fd 2:
 * stderr_capture() puts a memfd there (cmocka reports on stdout, which
 * stays), and stderr_restore() puts fd 2 back. */
static int stderr_memfd = -1, stderr_saved = -1;

static inline void stderr_capture(void) {
        stderr_memfd = memfd_create("stderr", MFD_CLOEXEC);
        stderr_saved = dup(STDERR_FILENO);
        if (stderr_memfd < 0 || stderr_saved < 0 || dup2(stderr_memfd, STDERR_FILENO) < 0)
                abort();
        setvbuf(stdout, NULL, _IONBF, 0);
}

/* How much has been written to fd 2 so far: a start for stderr_from(). */
static inline off_t stderr_offset(void) {
        return lseek(stderr_memfd, 0, SEEK_END);
}

/* What was written to fd 2 from offset start on, NUL-terminated; valid
 * until the next call. */
static inline const char *stderr_from(off_t start) {
        static char *buf;
        off_t n = stderr_offset() - start;

        free(buf);
        buf = calloc(1, (size_t) n + 1);
        assert_non_null(buf);
        if (n > 0)
                assert_int_equal(pread(stderr_memfd, buf, (size_t) n, start), n);
        return buf;
}

/* Puts the real fd 2 back; with print, writes there everything captured
 * (cmocka's reasons for a failure are among it). */
static inline void stderr_restore(bool print) {
        dup2(stderr_saved, STDERR_FILENO);
        if (print)
                fputs(stderr_from(0), stderr);
}

/* ---- A pipe read to its end ----------------------------------------------- */

struct fd_reader {
        int fd;
        char *buf; /* NUL-terminated when read_to_eof() returns */
        size_t len, cap;
};

/* A thread's start routine: reads r->fd until end of file or an error. */
static inline void *read_to_eof(void *arg) {
        struct fd_reader *r = arg;
        for (;;) {
                if (r->cap - r->len < 65536) {
                        r->cap = r->cap * 2 + 65536;
                        r->buf = realloc(r->buf, r->cap + 1);
                        if (!r->buf)
                                abort();
                }
                ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
                if (n <= 0)
                        break;
                r->len += (size_t) n;
        }
        r->buf[r->len] = '\0';
        return NULL;
}

/* ---- A mount namespace of the test's own ---------------------------------- */

/* Moves the process into a mount namespace whose mounts do not propagate
 * back, so that the test may mount over anything. 0, or after saying why
 * on stderr 77 (skip: no CAP_SYS_ADMIN) or 1. */
static inline int private_mount_namespace(void) {
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNS): %m: skipped (needs root)\n");
                return 77;
        }
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "cannot make / a private mount: %m\n");
                return 1;
        }
        return 0;
}
