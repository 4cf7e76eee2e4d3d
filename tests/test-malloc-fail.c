/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Allocation failure. Along each path (logging to every kind of sink,
 * context, handler and formatter creation, configuration), the Nth heap
 * allocation fails, for N = 1, 2, … until the path runs with none failing.
 * Each time trail must return -ENOMEM (or NULL with errno ENOMEM) or drop
 * the record and count it, never crash or leak (valgrind and ASan run this),
 * and work again as soon as allocations succeed: every attempt is followed
 * by a record that must arrive, many of them in the real journald. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#include "alloc-fail.h"

/* No path allocates this often: reaching it means the loop never ends. */
#define ATTEMPTS_MAX 3000
#define FOLLOW_UP    1000000 /* ATTEMPT= of the record logged after attempt n: n + FOLLOW_UP */
#define SECRET       "hunter2"
#define CARD         "4111111111111111"

static char run_id[33];

/* ---- Sinks: where the records of a logging path go, and how to read them back */

enum sink_kind {
        SINK_STREAM,
        SINK_JOURNALD,
        SINK_SYSLOG_UNIX,
        SINK_SYSLOG_UDP,
        SINK_SYSLOG_TCP,
        SINK_ASYNC,
        SINK_CAPTURE,
        SINK_CUSTOM,
};

struct sink {
        enum sink_kind kind;
        const char *format;
        char tag[96]; /* AF_TAG= of every record of the path */
        trail_logger *lg;
        trail_handler *h;
        trail_handler *inner; /* async: the stream handler behind it */
        int fd;               /* stream, async: memfd; unix, udp: the receiving socket */
        int listen_fd;        /* tcp */
        int conns[16];        /* tcp: accepted connections */
        size_t n_conns;
        char dir[64]; /* unix: the socket's directory */
        char *seen;   /* what arrived since the last sink_reset() */
        size_t seen_len;
        unsigned long *expect; /* journald: ATTEMPT= values that must arrive */
        size_t n_expect;
};

/* The custom handler's records: messages, one per line, in a static buffer
 * (emit must not allocate, or it would shift the count). */
static pthread_mutex_t custom_lock = PTHREAD_MUTEX_INITIALIZER;
static char custom_seen[1 << 16];
static size_t custom_len;

static int custom_emit(const trail_record *r, void *userdata) {
        size_t n;
        const char *m = trail_record_message(r, &n);

        (void) userdata;
        if (n > 200)
                n = 200;
        pthread_mutex_lock(&custom_lock);
        if (custom_len + n + 1 < sizeof(custom_seen)) {
                memcpy(custom_seen + custom_len, m, n);
                custom_len += n;
                custom_seen[custom_len++] = '\n';
        }
        pthread_mutex_unlock(&custom_lock);
        return 0;
}

static const trail_handler_vtable custom_vt = {.emit = custom_emit};

static void seen_append(struct sink *s, const void *p, size_t n) {
        s->seen = realloc(s->seen, s->seen_len + n + 1);
        assert_non_null(s->seen);
        memcpy(s->seen + s->seen_len, p, n);
        s->seen_len += n;
        s->seen[s->seen_len] = '\0';
}

static void drain_fd(struct sink *s, int fd) {
        static char buf[1 << 20];
        ssize_t k;

        while ((k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
                seen_append(s, buf, (size_t) k);
}

/* Appends to s->seen what arrived since the last call. */
static void sink_collect(struct sink *s) {
        switch (s->kind) {
        case SINK_STREAM:
        case SINK_ASYNC: {
                off_t n = lseek(s->fd, 0, SEEK_END);
                if (n > 0) {
                        char *b = malloc((size_t) n);
                        assert_non_null(b);
                        assert_int_equal(pread(s->fd, b, (size_t) n, 0), n);
                        seen_append(s, b, (size_t) n);
                        free(b);
                        assert_int_equal(ftruncate(s->fd, 0), 0);
                        assert_int_equal(lseek(s->fd, 0, SEEK_SET), 0);
                }
                break;
        }
        case SINK_SYSLOG_UNIX:
        case SINK_SYSLOG_UDP:
                drain_fd(s, s->fd);
                break;
        case SINK_SYSLOG_TCP: {
                int c;
                while (s->n_conns < 16 &&
                       (c = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                        s->conns[s->n_conns++] = c;
                for (size_t i = 0; i < s->n_conns; i++)
                        drain_fd(s, s->conns[i]);
                break;
        }
        case SINK_CAPTURE:
                for (size_t i = 0; i < trail_capture_count(s->h); i++) {
                        size_t n;
                        const char *m = trail_record_message(trail_capture_get(s->h, i), &n);
                        seen_append(s, m, n);
                        seen_append(s, "\n", 1);
                }
                break;
        case SINK_CUSTOM:
                pthread_mutex_lock(&custom_lock);
                seen_append(s, custom_seen, custom_len);
                custom_len = 0;
                pthread_mutex_unlock(&custom_lock);
                break;
        case SINK_JOURNALD:
                break;
        }
}

/* Nothing that reached a sink carries a secret in clear, whatever failed. */
static void sink_reset(struct sink *s) {
        if (s->seen) {
                assert_null(memmem(s->seen, s->seen_len, SECRET, strlen(SECRET)));
                assert_null(memmem(s->seen, s->seen_len, CARD, strlen(CARD)));
        }
        free(s->seen);
        s->seen = NULL;
        s->seen_len = 0;
        if (s->kind == SINK_CAPTURE)
                assert_int_equal(trail_capture_clear(s->h), 0);
}

static bool sink_has(struct sink *s, const char *marker) {
        return s->seen && memmem(s->seen, s->seen_len, marker, strlen(marker));
}

/* Whether the record with this marker arrived (waiting a little for
 * sockets); for journald, noted to be read back at the end. */
static bool sink_arrived(struct sink *s, const char *marker, unsigned long attempt) {
        if (s->kind == SINK_JOURNALD) {
                s->expect = realloc(s->expect, (s->n_expect + 1) * sizeof(*s->expect));
                assert_non_null(s->expect);
                s->expect[s->n_expect++] = attempt;
                return true;
        }
        for (int i = 0; i < 200; i++) {
                sink_collect(s);
                if (sink_has(s, marker))
                        return true;
                if (s->kind != SINK_SYSLOG_UNIX && s->kind != SINK_SYSLOG_UDP &&
                    s->kind != SINK_SYSLOG_TCP)
                        break;
                (void) poll(NULL, 0, 5);
        }
        return false;
}

static int bind_unix(char *dir, char *target, size_t size) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        strcpy(dir, "/tmp/trail-af-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
        snprintf(target, size, "unix:%s", sa.sun_path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        int size_buf = 4 * 1024 * 1024;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size_buf, sizeof(size_buf));
        return fd;
}

static int bind_inet(int type, int *ret_port) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        if (type == SOCK_STREAM)
                assert_int_equal(listen(fd, 16), 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

static void sink_open(struct sink *s, enum sink_kind kind, const char *format, const char *path) {
        char target[160], name[160];
        int port;

        *s = (struct sink){.kind = kind, .format = format, .fd = -1, .listen_fd = -1};
        snprintf(s->tag, sizeof(s->tag), "%s-%s-%s", run_id, path, format ? format : "");
        snprintf(name, sizeof(name), "af.%s.%d.%s", path, (int) kind, format ? format : "x");
        s->lg = trail_get(name);
        assert_non_null(s->lg);
        switch (kind) {
        case SINK_STREAM:
                s->fd = memfd_create("af", MFD_CLOEXEC);
                s->h = trail_handler_stream(s->fd, format);
                break;
        case SINK_ASYNC:
                s->fd = memfd_create("af", MFD_CLOEXEC);
                s->inner = trail_handler_stream(s->fd, format);
                assert_non_null(s->inner);
                s->h = trail_handler_async(s->inner, 64, TRAIL_OVERFLOW_BLOCK);
                break;
        case SINK_JOURNALD:
                s->h = trail_handler_journald();
                break;
        case SINK_SYSLOG_UNIX:
                s->fd = bind_unix(s->dir, target, sizeof(target));
                s->h = trail_handler_syslog(target);
                break;
        case SINK_SYSLOG_UDP:
                s->fd = bind_inet(SOCK_DGRAM, &port);
                snprintf(target, sizeof(target), "udp://127.0.0.1:%d", port);
                s->h = trail_handler_syslog(target);
                break;
        case SINK_SYSLOG_TCP:
                s->listen_fd = bind_inet(SOCK_STREAM, &port);
                snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
                s->h = trail_handler_syslog(target);
                break;
        case SINK_CAPTURE:
                s->h = trail_handler_capture();
                break;
        case SINK_CUSTOM:
                s->h = trail_handler_custom(&custom_vt, NULL);
                break;
        }
        assert_non_null(s->h);
        if (format && kind != SINK_STREAM && kind != SINK_ASYNC)
                assert_int_equal(trail_handler_set(s->h, "format", format), 0);
        assert_int_equal(trail_logger_add_handler(s->lg, s->h), 0);
        assert_int_equal(trail_logger_set_propagate(s->lg, false), 0);
        assert_int_equal(trail_logger_set_level(s->lg, TRAIL_DEBUG), 0);
}

static unsigned long jentry_attempt(const struct jentry *e) {
        const char *v = jentry_get(e, "ATTEMPT", NULL);
        return v ? strtoul(v, NULL, 10) : 0;
}

static void sink_close(struct sink *s) {
        if (s->kind == SINK_JOURNALD) {
                struct jentries es = journal_collect("AF_TAG", s->tag, s->n_expect, 20000);
                for (size_t i = 0; i < s->n_expect; i++) {
                        bool found = false;
                        for (size_t k = 0; k < es.n && !found; k++)
                                found = jentry_attempt(&es.e[k]) == s->expect[i];
                        if (!found)
                                print_error("%s: ATTEMPT=%lu not in the journal\n", s->tag,
                                            s->expect[i]);
                        assert_true(found);
                }
                for (size_t k = 0; k < es.n; k++)
                        for (size_t f = 0; f < es.e[k].n; f++) {
                                const struct jfield *jf = &es.e[k].f[f];
                                assert_null(memmem(jf->value, jf->len, SECRET, strlen(SECRET)));
                                assert_null(memmem(jf->value, jf->len, CARD, strlen(CARD)));
                        }
                jentries_free(&es);
        }
        sink_collect(s);
        sink_reset(s);
        assert_int_equal(trail_logger_remove_handler(s->lg, s->h), 0);
        trail_handler_unref(s->h);
        trail_handler_unref(s->inner);
        for (size_t i = 0; i < s->n_conns; i++)
                close(s->conns[i]);
        if (s->fd >= 0)
                close(s->fd);
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        if (s->dir[0]) {
                char p[80];
                snprintf(p, sizeof(p), "%s/log", s->dir);
                unlink(p);
                rmdir(s->dir);
        }
        free(s->expect);
}

/* ---- Records: what a logging path logs ---------------------------------- */

/* Every record carries the marker in its message and ends its fields with
 * AF_TAG and ATTEMPT, so that the field cap never drops them. */
typedef int (*log_fn)(struct sink *s, const char *marker, unsigned long attempt);

#define TAG_FIELDS(s, n) TRAIL_STR("AF_TAG", (s)->tag), TRAIL_UINT("ATTEMPT", (n))

static int log_plain(struct sink *s, const char *m, unsigned long n) {
        return trail_info_with(s->lg,
                               TRAIL_FIELDS(TRAIL_STR("USER", "alice"), TRAIL_INT("COUNT", -3),
                                            TRAIL_DOUBLE("MS", 1.5), TRAIL_BOOL("OK", true),
                                            TRAIL_BYTES("BIN", "a\0b", 3), TRAIL_ERRNO(ENOENT),
                                            TRAIL_STR("lower.case", "renamed"), TAG_FIELDS(s, n)),
                               "%s plain record %d: %m", m, 42);
}

/* More fields than a record may carry, half of them renamed, some large. */
#define MANY 1100
static trail_field many[MANY + 2];
static char many_names[MANY][16];
static char large_value[8192];
static char huge_text[1 << 20];

static void records_init(void) {
        memset(large_value, 'v', sizeof(large_value) - 1);
        memset(huge_text, 'h', sizeof(huge_text) - 1);
        for (int i = 0; i < MANY; i++) {
                snprintf(many_names[i], sizeof(many_names[i]), i % 2 ? "field_%04d" : "F%04d", i);
                many[i] = i % 100 == 0 ? TRAIL_STR(many_names[i], large_value)
                                       : TRAIL_INT(many_names[i], i);
        }
}

static int log_many_fields(struct sink *s, const char *m, unsigned long n) {
        many[MANY] = TRAIL_STR("AF_TAG", s->tag);
        many[MANY + 1] = TRAIL_UINT("ATTEMPT", n);
        return trail_warning_with(s->lg, ((trail_fields){many, MANY + 2}), "%s many fields", m);
}

static int log_huge_message(struct sink *s, const char *m, unsigned long n) {
        return trail_notice_with(s->lg, TRAIL_FIELDS(TAG_FIELDS(s, n)), "%s %s", m, huge_text);
}

static int log_secrets(struct sink *s, const char *m, unsigned long n) {
        return trail_info_with(
                s->lg,
                TRAIL_FIELDS(TRAIL_STR("PASSWORD", SECRET), TRAIL_STR("db_password", SECRET),
                             TRAIL_STR("NOTE", "login password=" SECRET " card " CARD),
                             TRAIL_STR("AUTH", "Bearer " SECRET SECRET SECRET), TAG_FIELDS(s, n)),
                "%s login password=%s card %s", m, SECRET, CARD);
}

/* Of two records at a site sampling 1 in 2, exactly one is kept. */
static int log_sampled(struct sink *s, const char *m, unsigned long n) {
        int r = 0;
        for (int i = 0; i < 2; i++) {
                int k = trail_info_with(s->lg, TRAIL_FIELDS(TRAIL_SAMPLE(2), TAG_FIELDS(s, n)),
                                        "%s sampled", m);
                if (k < 0)
                        r = k;
        }
        return r;
}

/* A new window of a site that suppressed records in the last one: the
 * "suppressed" record goes first. */
static int log_rate_limited(struct sink *s, const char *m, unsigned long n) {
        int r = 0;
        for (int i = 0; i < 2; i++) {
                int k = trail_info_with(s->lg,
                                        TRAIL_FIELDS(TRAIL_RATE_LIMIT(1, 20000), TAG_FIELDS(s, n)),
                                        "%s rate limited %d", m, i);
                if (i == 0)
                        r = k;
        }
        return r;
}

static int log_backtrace(struct sink *s, const char *m, unsigned long n) {
        return trail_error_with(s->lg, TRAIL_FIELDS(TRAIL_BACKTRACE(), TAG_FIELDS(s, n)),
                                "%s with a backtrace", m);
}

/* Context and global fields, copied into the thread's record. */
static int log_with_context(struct sink *s, const char *m, unsigned long n) {
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", "req-1"), TRAIL_STR("BIG", large_value));
        return trail_info_with(s->lg, TRAIL_FIELDS(TAG_FIELDS(s, n)), "%s in context", m);
}

/* ---- Logging paths --------------------------------------------------------- */

struct log_job {
        struct sink *s;
        log_fn fn;
        unsigned long n;
        bool injected;
        int r, r_after;
        trail_stats before, after, after2;
        uint64_t dropped_fields_before, dropped_fields_after;
        int level_before;
};

static void stats_of(const struct sink *s, trail_stats *ret) {
        trail_stats a = {}, b = {};

        assert_int_equal(trail_handler_get_stats(s->h, &a), 0);
        if (s->inner) {
                assert_int_equal(trail_handler_get_stats(s->inner, &b), 0);
                a.lost += b.lost;
                a.failed += b.failed;
                a.dropped += b.dropped;
        }
        *ret = a;
}

static uint64_t losses(const trail_stats *a, const trail_stats *b) {
        return (b->lost - a->lost) + (b->failed - a->failed) + (b->dropped - a->dropped);
}

static uint64_t fields_dropped(void) {
        trail_stats st;
        trail_get_stats(&st);
        return st.fields_dropped;
}

/* On a thread of its own, so that its first record builds the thread's
 * state under the failure too: the attempt, then a record that must arrive. */
static void *log_job_run(void *p) {
        struct log_job *j = p;
        char marker[64];

        af_thread_counts();

        snprintf(marker, sizeof(marker), "AFMARK-%lu-a ", j->n);
        stats_of(j->s, &j->before);
        j->dropped_fields_before = fields_dropped();
        af_arm(j->n);
        j->r = j->fn(j->s, marker, j->n);
        (void) trail_flush();
        j->injected = af_disarm();
        stats_of(j->s, &j->after);
        j->dropped_fields_after = fields_dropped();

        snprintf(marker, sizeof(marker), "AFMARK-%lu-b ", j->n);
        j->r_after = log_plain(j->s, marker, j->n + FOLLOW_UP);
        (void) trail_flush();
        stats_of(j->s, &j->after2);
        return NULL;
}

static void log_job_check(struct log_job *j, const char *required_field) {
        struct sink *s = j->s;
        uint64_t lost = losses(&j->before, &j->after);
        char marker[64];

        if (!j->injected) {
                assert_int_equal(j->r, 0);
                assert_int_equal(lost, 0);
        } else if (j->r != 0)
                assert_int_equal(j->r, -ENOMEM);
        snprintf(marker, sizeof(marker), "AFMARK-%lu-a ", j->n);
        /* Returned 0 and counted no loss: then it arrived. */
        if (j->r == 0 && lost == 0) {
                bool arrived = sink_arrived(s, marker, j->n);
                if (!arrived)
                        print_error("%s: attempt %lu: returned 0, counted no loss, and did not "
                                    "arrive\n",
                                    s->tag, j->n);
                assert_true(arrived);
                /* A field the record must carry is there, or counted as dropped. */
                if (required_field && s->kind == SINK_CAPTURE &&
                    j->dropped_fields_after == j->dropped_fields_before) {
                        size_t k = trail_capture_count(s->h);
                        bool found = false;
                        for (size_t i = 0; i < k && !found; i++) {
                                const trail_record *r = trail_capture_get(s->h, i);
                                trail_field_view v;
                                if (strstr(trail_record_message(r, NULL), marker))
                                        found = trail_record_find(r, required_field, &v) == 0;
                        }
                        if (!found)
                                print_error("%s: attempt %lu: no %s= and none counted dropped\n",
                                            s->tag, j->n, required_field);
                        assert_true(found);
                }
        }

        /* Allocations succeed again: so does logging. */
        assert_int_equal(j->r_after, 0);
        assert_int_equal(losses(&j->after, &j->after2), 0);
        snprintf(marker, sizeof(marker), "AFMARK-%lu-b ", j->n);
        bool arrived = sink_arrived(s, marker, j->n + FOLLOW_UP);
        if (!arrived)
                print_error("%s: attempt %lu: the record after it did not arrive\n", s->tag, j->n);
        assert_true(arrived);
        sink_reset(s);
}

static void log_path(enum sink_kind kind, const char *format, const char *name, log_fn fn,
                     const char *required_field) {
        struct sink s;
        unsigned long n;

        sink_open(&s, kind, format, name);
        for (n = 1; n < ATTEMPTS_MAX; n++) {
                struct log_job j = {.s = &s, .fn = fn, .n = n};
                pthread_t th;

                if (fn == log_rate_limited)
                        (void) poll(NULL, 0, 21); /* the next window */
                assert_int_equal(pthread_create(&th, NULL, log_job_run, &j), 0);
                assert_int_equal(pthread_join(th, NULL), 0);
                log_job_check(&j, required_field);
                if (!j.injected)
                        break;
        }
        assert_true(n < ATTEMPTS_MAX);
        print_message("%-40s %4lu allocations\n", s.tag + 33, n - 1);
        sink_close(&s);
}

static void first_record_on_a_thread(void **state) {
        (void) state;
        log_path(SINK_STREAM, "text", "first", log_plain, NULL);
        log_path(SINK_JOURNALD, NULL, "first", log_plain, NULL);
        log_path(SINK_CAPTURE, NULL, "first", log_plain, "USER");
        log_path(SINK_CUSTOM, NULL, "first", log_plain, NULL);
}

static void every_formatter_on_a_stream(void **state) {
        (void) state;
        static const char *const formats[] = {"text", "json", "logfmt", "rfc5424", "rfc3164"};
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
                log_path(SINK_STREAM, formats[i], "formats", log_plain, NULL);
}

static void syslog_targets(void **state) {
        (void) state;
        log_path(SINK_SYSLOG_UNIX, NULL, "syslog", log_plain, NULL);
        log_path(SINK_SYSLOG_UNIX, "rfc5424", "syslog", log_plain, NULL);
        log_path(SINK_SYSLOG_UDP, NULL, "syslog", log_plain, NULL);
        log_path(SINK_SYSLOG_TCP, NULL, "syslog", log_plain, NULL);
        log_path(SINK_SYSLOG_TCP, "rfc3164", "syslog", log_huge_message, NULL);
}

static void many_and_large_fields(void **state) {
        (void) state;
        log_path(SINK_JOURNALD, NULL, "many", log_many_fields, NULL);
        log_path(SINK_STREAM, "json", "many", log_many_fields, NULL);
        log_path(SINK_SYSLOG_UDP, "rfc5424", "many", log_many_fields, NULL);
}

static void huge_message(void **state) {
        (void) state;
        log_path(SINK_JOURNALD, NULL, "huge", log_huge_message, NULL);
        log_path(SINK_STREAM, "logfmt", "huge", log_huge_message, NULL);
        log_path(SINK_SYSLOG_UNIX, NULL, "huge", log_huge_message, NULL);
}

static void redaction_and_scrubbing(void **state) {
        (void) state;
        log_path(SINK_JOURNALD, NULL, "secrets", log_secrets, NULL);
        log_path(SINK_STREAM, "json", "secrets", log_secrets, NULL);
        log_path(SINK_CAPTURE, NULL, "secrets", log_secrets, "PASSWORD");
}

static void sampling_and_rate_limits(void **state) {
        (void) state;
        log_path(SINK_STREAM, "text", "sampled", log_sampled, NULL);
        log_path(SINK_CAPTURE, NULL, "sampled", log_sampled, "SAMPLE_RATE");
        log_path(SINK_STREAM, "text", "ratelimit", log_rate_limited, NULL);
}

static void backtraces(void **state) {
        (void) state;
        log_path(SINK_CAPTURE, NULL, "backtrace", log_backtrace, "BACKTRACE");
        log_path(SINK_JOURNALD, NULL, "backtrace", log_backtrace, NULL);
}

static void context_and_global_fields(void **state) {
        (void) state;
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("SERVICE", "billing"),
                                                              TRAIL_STR("GBIG", large_value))),
                         0);
        log_path(SINK_CAPTURE, NULL, "context", log_with_context, "SERVICE");
        log_path(SINK_JOURNALD, NULL, "context", log_with_context, NULL);
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
}

static void async_delivery(void **state) {
        (void) state;
        log_path(SINK_ASYNC, "json", "async", log_plain, NULL);
        log_path(SINK_ASYNC, "text", "async", log_many_fields, NULL);
}

/* ---- Other paths: an operation, then what it left behind ---------------- */

struct op_job {
        unsigned long n;
        bool injected;
        int r;       /* >= 0, or a negative errno (NULL results: -errno) */
        int r_check; /* set by after(): what the check needs to know */
        int token;
        void *obj; /* whatever op made */
        uint64_t mask;
};

struct op_path {
        const char *name;
        void (*before)(struct op_job *j); /* not armed */
        void (*op)(struct op_job *j);     /* armed */
        void (*after)(struct op_job *j);  /* not armed, same thread */
        void (*check)(struct op_job *j);  /* not armed, main thread: asserts */
};

/* A capture handler on its own logger, where after() logs to see the state. */
static trail_handler *cap;
static trail_logger *cap_lg;
static int fd_out = -1;
static trail_logger *probe_lg, *first_lg;
static trail_context *saved_context;

static const trail_record *cap_last(void) {
        size_t n = trail_capture_count(cap);
        assert_true(n > 0);
        return trail_capture_get(cap, n - 1);
}

static bool cap_last_has(const char *name) {
        trail_field_view v;
        return trail_record_find(cap_last(), name, &v) == 0;
}

static void *op_job_run(void *p) {
        const struct op_path *path = ((void **) p)[0];
        struct op_job *j = ((void **) p)[1];

        af_thread_counts();

        if (path->before)
                path->before(j);
        af_arm(j->n);
        path->op(j);
        j->injected = af_disarm();
        if (path->after)
                path->after(j);
        return NULL;
}

static void op_path_run(const struct op_path *path) {
        unsigned long n;

        for (n = 1; n < ATTEMPTS_MAX; n++) {
                struct op_job j = {.n = n, .token = -1};
                void *args[2] = {(void *) path, &j};
                pthread_t th;

                assert_int_equal(trail_capture_clear(cap), 0);
                assert_int_equal(pthread_create(&th, NULL, op_job_run, args), 0);
                assert_int_equal(pthread_join(th, NULL), 0);
                if (!j.injected)
                        assert_true(j.r >= 0);
                else if (j.r < 0) {
                        if (j.r != -ENOMEM)
                                print_error("%s: attempt %lu: %s\n", path->name, n, strerror(-j.r));
                        assert_int_equal(j.r, -ENOMEM);
                }
                if (path->check)
                        path->check(&j);
                if (!j.injected)
                        break;
        }
        assert_true(n < ATTEMPTS_MAX);
        print_message("%-40s %4lu allocations\n", path->name, n - 1);
}

/* after(): one record on the capture logger, which must arrive. */
static void log_probe(struct op_job *j) {
        size_t n = trail_capture_count(cap);
        j->r_check = trail_info(cap_lg, "probe");
        assert_true(j->r_check < 0 || trail_capture_count(cap) == n + 1);
}

static void check_probe_logged(struct op_job *j) {
        assert_int_equal(j->r_check, 0);
        assert_int_equal(strcmp(trail_record_message(cap_last(), NULL), "probe"), 0);
}

/* -- context -- */

static void op_push(struct op_job *j) {
        j->r = trail_context_push(TRAIL_FIELDS(TRAIL_STR("CTX_A", "a"), TRAIL_INT("CTX_B", 2),
                                               TRAIL_STR("CTX_BIG", large_value)));
        j->token = j->r;
}
static void after_push(struct op_job *j) {
        log_probe(j);
        trail_context_pop(j->token);
}
static void check_push(struct op_job *j) {
        check_probe_logged(j);
        /* all or nothing */
        assert_int_equal(cap_last_has("CTX_A"), j->r >= 0);
        assert_int_equal(cap_last_has("CTX_B"), j->r >= 0);
        assert_int_equal(cap_last_has("CTX_BIG"), j->r >= 0);
}

#define NESTED 12
static void op_push_nested(struct op_job *j) {
        static const char *const names[NESTED] = {"N0", "N1", "N2", "N3", "N4",  "N5",
                                                  "N6", "N7", "N8", "N9", "N10", "N11"};
        j->r = 0;
        for (int i = 0; i < NESTED; i++) {
                int t = trail_context_push(TRAIL_FIELDS(TRAIL_STR(names[i], large_value)));
                if (t >= 0) {
                        j->mask |= 1u << i;
                        if (j->token < 0)
                                j->token = t;
                } else
                        j->r = t;
        }
}
static void check_push_nested(struct op_job *j) {
        check_probe_logged(j);
        for (int i = 0; i < NESTED; i++) {
                char name[8];
                snprintf(name, sizeof(name), "N%d", i);
                assert_int_equal(cap_last_has(name), (j->mask >> i) & 1);
        }
}

static void op_scope(struct op_job *j) {
        TRAIL_SCOPE(TRAIL_STR("SCOPE_A", "x"), TRAIL_STR("SCOPE_BIG", large_value));
        j->r = trail_info(cap_lg, "in scope");
}
static void check_scope(struct op_job *j) {
        check_probe_logged(j);
        assert_false(cap_last_has("SCOPE_A")); /* popped with its block */
}

static void op_traceparent(struct op_job *j) {
        j->r = trail_context_push_traceparent(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        j->token = j->r;
}
static void check_traceparent(struct op_job *j) {
        check_probe_logged(j);
        assert_int_equal(cap_last_has("TRACE_ID"), j->r >= 0);
        assert_int_equal(cap_last_has("SPAN_ID"), j->r >= 0);
}

static void before_capture(struct op_job *j) {
        j->token = trail_context_push(
                TRAIL_FIELDS(TRAIL_STR("CAP_A", "a"), TRAIL_STR("CAP_BIG", large_value)));
        assert_true(j->token >= 0);
}
static void op_capture(struct op_job *j) {
        j->obj = trail_context_capture();
        j->r = j->obj ? 0 : -errno;
}
static void after_capture(struct op_job *j) {
        trail_context_pop(j->token);
        j->token = j->obj ? trail_context_restore(j->obj) : -1;
        log_probe(j);
        trail_context_pop(j->token);
        trail_context_free(j->obj);
}
static void check_capture(struct op_job *j) {
        check_probe_logged(j);
        assert_int_equal(cap_last_has("CAP_A"), j->r >= 0);
        assert_int_equal(cap_last_has("CAP_BIG"), j->r >= 0);
}

static void op_restore(struct op_job *j) {
        j->r = trail_context_restore(saved_context);
        j->token = j->r;
}
static void check_restore(struct op_job *j) {
        check_probe_logged(j);
        assert_int_equal(cap_last_has("SAVED_A"), j->r >= 0);
}

static void context_paths(void **state) {
        (void) state;
        static const struct op_path paths[] = {
                {"trail_context_push", NULL, op_push, after_push, check_push},
                {"trail_context_push nested", NULL, op_push_nested, after_push, check_push_nested},
                {"TRAIL_SCOPE", NULL, op_scope, log_probe, check_scope},
                {"trail_context_push_traceparent", NULL, op_traceparent, after_push,
                 check_traceparent},
                {"trail_context_capture", before_capture, op_capture, after_capture, check_capture},
                {"trail_context_restore", NULL, op_restore, after_push, check_restore},
        };
        int t = trail_context_push(
                TRAIL_FIELDS(TRAIL_STR("SAVED_A", "a"), TRAIL_STR("SAVED_BIG", large_value)));

        assert_true(t >= 0);
        saved_context = trail_context_capture();
        assert_non_null(saved_context);
        trail_context_pop(t);
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                op_path_run(&paths[i]);
        saved_context = trail_context_free(saved_context);
}

/* -- handler and formatter creation -- */

static char unix_target[160], udp_target[64], tcp_target[64];
static trail_handler *async_inner;

static trail_handler *make_handler(const char *what) {
        if (strcmp(what, "journald") == 0)
                return trail_handler_journald();
        if (strcmp(what, "auto") == 0)
                return trail_handler_auto();
        if (strcmp(what, "capture") == 0)
                return trail_handler_capture();
        if (strcmp(what, "custom") == 0)
                return trail_handler_custom(&custom_vt, NULL);
        if (strcmp(what, "async") == 0)
                return trail_handler_async(async_inner, 16, TRAIL_OVERFLOW_DROP_NEW);
        if (strcmp(what, "syslog-unix") == 0)
                return trail_handler_syslog(unix_target);
        if (strcmp(what, "syslog-udp") == 0)
                return trail_handler_syslog(udp_target);
        if (strcmp(what, "syslog-tcp") == 0)
                return trail_handler_syslog(tcp_target);
        if (strcmp(what, "syslog-tls") == 0)
                return trail_handler_syslog("tls://127.0.0.1:1");
        if (strcmp(what, "syslog-default") == 0)
                return trail_handler_syslog(NULL);
        if (strncmp(what, "stream-", 7) == 0)
                return trail_handler_stream(fd_out, what + 7);
        fail_msg("unknown handler %s", what);
        return NULL;
}

static const char *handler_kind;

static void op_handler_new(struct op_job *j) {
        j->obj = make_handler(handler_kind);
        j->r = j->obj ? 0 : -errno;
}
/* A new handler works: attached, it delivers a record. */
static void after_handler_new(struct op_job *j) {
        trail_handler *h = j->obj;
        trail_logger *lg = trail_get("af.handler.new");
        trail_stats st;

        j->r_check = 1;
        if (!h)
                return;
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        j->r_check = trail_info(lg, "a new %s handler", handler_kind);
        (void) trail_flush();
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        if (strcmp(handler_kind, "syslog-tls") != 0 &&
            strcmp(handler_kind, "syslog-default") != 0 && st.delivered != 1)
                j->r_check = -EIO;
        assert_int_equal(trail_logger_remove_handler(lg, h), 0);
        trail_handler_unref(h);
}
static void check_handler_new(struct op_job *j) {
        if (j->r >= 0)
                assert_int_equal(j->r_check, 0);
}

/* A new handler's first record, all under the failure: attaching, the
 * connection, the async worker's start. */
static void op_handler_first(struct op_job *j) {
        trail_logger *lg = first_lg;
        trail_handler *h = make_handler(handler_kind);

        j->obj = h;
        if (!h) {
                j->r = -errno;
                return;
        }
        j->token = trail_logger_add_handler(lg, h);
        j->r = j->token < 0 ? j->token : trail_info(lg, "first through a new %s", handler_kind);
        (void) trail_flush();
}
/* Then it delivers (or, without a receiver, holds) the next one. */
static void after_handler_first(struct op_job *j) {
        trail_logger *lg = first_lg;
        trail_handler *h = j->obj;
        trail_stats st0, st1;

        j->r_check = 0;
        if (!h)
                return;
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        assert_int_equal(trail_handler_get_stats(h, &st0), 0);
        if (j->token < 0)
                assert_int_equal(trail_logger_add_handler(lg, h), 0);
        j->r_check = trail_info(lg, "then another through a new %s", handler_kind);
        (void) trail_flush();
        assert_int_equal(trail_handler_get_stats(h, &st1), 0);
        if (strcmp(handler_kind, "syslog-tls") != 0 &&
            strcmp(handler_kind, "syslog-default") != 0) {
                /* the first record: delivered, or counted lost or failed */
                if (j->r == 0 && st0.delivered + st0.lost + st0.failed + st0.dropped == 0)
                        print_error("%s: attempt %lu: the first record is neither delivered nor "
                                    "counted\n",
                                    handler_kind, j->n);
                if (j->r == 0 && st0.delivered + st0.lost + st0.failed + st0.dropped == 0)
                        j->r_check = -EBADMSG;
                if (st1.delivered != st0.delivered + 1) {
                        print_error("%s: attempt %lu: the next record was not delivered\n",
                                    handler_kind, j->n);
                        j->r_check = -EIO;
                }
        }
        assert_int_equal(trail_logger_remove_handler(lg, h), 0);
        trail_handler_unref(h);
}
static void check_handler_first(struct op_job *j) {
        assert_int_equal(j->r_check, 0);
}

static const char *formatter_name;

static void op_formatter_new(struct op_job *j) {
        j->obj = trail_formatter_new(formatter_name);
        j->r = j->obj ? 0 : -errno;
}
static void after_formatter_new(struct op_job *j) {
        trail_formatter_unref(j->obj);
}

static void handler_creation(void **state) {
        (void) state;
        static const char *const kinds[] = {
                "journald",    "auto",        "capture",       "custom",         "async",
                "syslog-unix", "syslog-udp",  "syslog-tcp",    "syslog-tls",     "syslog-default",
                "stream-text", "stream-json", "stream-logfmt", "stream-rfc5424", "stream-rfc3164",
        };
        static const char *const formatters[] = {"text", "json", "logfmt", "rfc5424", "rfc3164"};
        char dir[64], name[64];
        int port, ufd, dfd, tfd;

        ufd = bind_unix(dir, unix_target, sizeof(unix_target));
        dfd = bind_inet(SOCK_DGRAM, &port);
        snprintf(udp_target, sizeof(udp_target), "udp://127.0.0.1:%d", port);
        tfd = bind_inet(SOCK_STREAM, &port);
        snprintf(tcp_target, sizeof(tcp_target), "tcp://127.0.0.1:%d", port);
        async_inner = trail_handler_stream(fd_out, "json");
        assert_non_null(async_inner);

        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                snprintf(name, sizeof(name), "trail_handler_%s", kinds[i]);
                handler_kind = kinds[i];
                op_path_run(&(struct op_path){name, NULL, op_handler_new, after_handler_new,
                                              check_handler_new});
                snprintf(name, sizeof(name), "first record, new %s", kinds[i]);
                op_path_run(&(struct op_path){name, NULL, op_handler_first, after_handler_first,
                                              check_handler_first});
        }
        for (size_t i = 0; i < sizeof(formatters) / sizeof(formatters[0]); i++) {
                snprintf(name, sizeof(name), "trail_formatter_new(%s)", formatters[i]);
                formatter_name = formatters[i];
                op_path_run(
                        &(struct op_path){name, NULL, op_formatter_new, after_formatter_new, NULL});
        }

        async_inner = trail_handler_unref(async_inner);
        close(ufd);
        close(dfd);
        close(tfd);
        unlink(unix_target + strlen("unix:"));
        rmdir(dir);
}

/* -- configuration calls -- */

static const char *set_format, *set_key, *set_value, *set_expect;

/* The text a probe record through h renders to fd_out. */
static char *render_probe(trail_handler *h) {
        off_t n;
        char *text;

        assert_int_equal(ftruncate(fd_out, 0), 0);
        assert_int_equal(lseek(fd_out, 0, SEEK_SET), 0);
        assert_int_equal(trail_logger_add_handler(probe_lg, h), 0);
        assert_int_equal(
                trail_info_with(probe_lg, TRAIL_FIELDS(TRAIL_STR("USER", "alice")), "probe"), 0);
        assert_int_equal(trail_logger_remove_handler(probe_lg, h), 0);
        n = lseek(fd_out, 0, SEEK_END);
        text = calloc(1, (size_t) n + 1);
        assert_non_null(text);
        assert_int_equal(pread(fd_out, text, (size_t) n, 0), n);
        return text;
}

static void before_handler_set(struct op_job *j) {
        j->obj = trail_handler_stream(fd_out, set_format);
        assert_non_null(j->obj);
}
static void op_handler_set(struct op_job *j) {
        j->r = trail_handler_set(j->obj, set_key, set_value);
}
/* The option took effect when it succeeded, and only then. */
static void after_handler_set(struct op_job *j) {
        char *text = render_probe(j->obj);
        j->r_check = strstr(text, set_expect) != NULL;
        if (j->r_check != (j->r >= 0))
                print_error("attempt %lu returned %d; rendered: %s\n", j->n, j->r, text);
        free(text);
        trail_handler_unref(j->obj);
}
static void check_handler_set(struct op_job *j) {
        assert_int_equal(j->r_check, j->r >= 0);
}

static void before_formatter_set(struct op_job *j) {
        j->obj = trail_formatter_new(set_format);
        assert_non_null(j->obj);
}
static void op_formatter_set(struct op_job *j) {
        j->r = trail_formatter_set(j->obj, set_key, set_value);
}
static void after_formatter_set(struct op_job *j) {
        trail_handler *h = trail_handler_stream(fd_out, "text");
        char *text;

        assert_non_null(h);
        assert_int_equal(trail_handler_set_formatter(h, j->obj), 0);
        text = render_probe(h);
        j->r_check = strstr(text, set_expect) != NULL;
        free(text);
        trail_handler_unref(h);
        trail_formatter_unref(j->obj);
}

static void before_set_formatter(struct op_job *j) {
        before_handler_set(j);
        j->mask = (uintptr_t) trail_formatter_new("json");
        assert_true(j->mask != 0);
}
static void op_set_formatter(struct op_job *j) {
        j->r = trail_handler_set_formatter(j->obj, (trail_formatter *) (uintptr_t) j->mask);
}
static void after_set_formatter(struct op_job *j) {
        trail_formatter_unref((trail_formatter *) (uintptr_t) j->mask);
        after_handler_set(j);
}

static bool drop_marked(const trail_record *r, void *userdata) {
        (void) userdata;
        return strstr(trail_record_message(r, NULL), "DROPME") == NULL;
}

static void op_logger_add_filter(struct op_job *j) {
        j->r = trail_logger_add_filter(cap_lg, drop_marked, NULL);
}
static void op_handler_add_filter(struct op_job *j) {
        j->r = trail_handler_add_filter(cap, drop_marked, NULL);
}
/* Whether a DROPME record still gets through. */
static void after_filter(struct op_job *j) {
        size_t n = trail_capture_count(cap);
        assert_int_equal(trail_info(cap_lg, "DROPME"), 0);
        j->r_check = trail_capture_count(cap) > n;
        (void) trail_logger_remove_filter(cap_lg, drop_marked, NULL);
        (void) trail_handler_remove_filter(cap, drop_marked, NULL);
}
static void check_filter_added(struct op_job *j) {
        assert_int_equal(j->r_check, j->r < 0);
}

static void before_remove_filter(struct op_job *j) {
        (void) j;
        assert_int_equal(trail_logger_add_filter(cap_lg, drop_marked, NULL), 0);
        assert_int_equal(trail_logger_add_filter(cap_lg, drop_marked, &cap), 0);
}
static void op_logger_remove_filter(struct op_job *j) {
        j->r = trail_logger_remove_filter(cap_lg, drop_marked, NULL);
}
static void after_remove_filter(struct op_job *j) {
        j->mask = (uint64_t) trail_logger_remove_filter(cap_lg, drop_marked, NULL);
        (void) trail_logger_remove_filter(cap_lg, drop_marked, &cap);
}
static void check_filter_removed(struct op_job *j) {
        /* Removed by the attempt (then not there any more), or still there. */
        assert_int_equal((int) j->mask, j->r >= 0 ? -ENOENT : 0);
}

static void op_add_handler(struct op_job *j) {
        j->r = trail_logger_add_handler(probe_lg, cap);
}
static void after_add_handler(struct op_job *j) {
        size_t n = trail_capture_count(cap);
        assert_int_equal(trail_info(probe_lg, "via probe"), 0);
        j->r_check = trail_capture_count(cap) > n;
        (void) trail_logger_remove_handler(probe_lg, cap);
}
static void check_add_handler(struct op_job *j) {
        assert_int_equal(j->r_check, j->r >= 0);
}

static void op_get(struct op_job *j) {
        char name[64];
        snprintf(name, sizeof(name), "af.get.n%lu.a.b", j->n);
        j->obj = trail_get(name);
        j->r = j->obj ? 0 : -errno;
}
/* Whatever failed, asking again gives a logger in a consistent tree: it
 * inherits a level set on its grandparent. */
static void after_get(struct op_job *j) {
        char name[64];
        trail_logger *lg, *top;

        snprintf(name, sizeof(name), "af.get.n%lu.a.b", j->n);
        lg = trail_get(name);
        snprintf(name, sizeof(name), "af.get.n%lu", j->n);
        top = trail_get(name);
        j->r_check = lg && top && (!j->obj || lg == j->obj) &&
                     trail_logger_set_level(top, TRAIL_DEBUG) == 0 &&
                     trail_logger_level(lg) == TRAIL_DEBUG &&
                     trail_logger_set_level(top, TRAIL_ERROR) == 0 &&
                     trail_logger_level(lg) == TRAIL_ERROR;
}
static void check_true(struct op_job *j) {
        assert_true(j->r_check);
}

static void before_globals(struct op_job *j) {
        (void) j;
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("GLOBAL_OLD", "old"))), 0);
}
static void op_globals(struct op_job *j) {
        j->r = trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("GLOBAL_NEW", "new"),
                                                    TRAIL_STR("GLOBAL_BIG", large_value),
                                                    TRAIL_INT("global_lower", 1)));
}
static void after_globals(struct op_job *j) {
        log_probe(j);
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
}
/* The new set in force, or the old one: never a mixture. */
static void check_globals(struct op_job *j) {
        check_probe_logged(j);
        assert_int_equal(cap_last_has("GLOBAL_NEW"), j->r >= 0);
        assert_int_equal(cap_last_has("GLOBAL_BIG"), j->r >= 0);
        assert_int_equal(cap_last_has("GLOBAL_OLD"), j->r < 0);
}

static void op_ident(struct op_job *j) {
        j->r = trail_set_ident("af-ident");
}
static void after_ident(struct op_job *j) {
        trail_handler *h = trail_handler_stream(fd_out, "rfc5424");
        char *text;

        assert_non_null(h);
        text = render_probe(h);
        j->r_check = strstr(text, " af-ident ") != NULL;
        free(text);
        trail_handler_unref(h);
        assert_int_equal(trail_set_ident(NULL), 0);
}

static void op_redact_fields(struct op_job *j) {
        static const char *const names[] = {"MY_PIN", "PASSWORD", NULL};
        j->r = trail_set_redact_fields(names);
}
static void op_add_redact_field(struct op_job *j) {
        j->r = trail_add_redact_field("MY_PIN");
}
static void after_redact(struct op_job *j) {
        trail_field_view v;
        assert_int_equal(trail_info_with(cap_lg, TRAIL_FIELDS(TRAIL_STR("MY_PIN", "1234")), "pin"),
                         0);
        assert_int_equal(trail_record_find(cap_last(), "MY_PIN", &v), 0);
        j->r_check = v.len == 4 && memcmp(v.value.s, "****", 4) == 0;
        assert_int_equal(trail_set_redact_fields(NULL), 0);
}
static void check_set_as_returned(struct op_job *j) {
        assert_int_equal(j->r_check, j->r >= 0);
}

static void configuration_calls(void **state) {
        (void) state;
        static const struct {
                const char *format, *key, *value, *expect;
        } handler_sets[] = {
                {"text", "format", "json", "\"message\":\"probe\""},
                {"text", "pattern", "AFPAT %(levelname)s %(message)s %(USER)s",
                 "AFPAT INFO probe alice"},
                {"rfc5424", "app_name", "af-app", " af-app "},
                {"rfc3164", "tag", "aftag", "aftag"},
        };
        static const struct op_path paths[] = {
                {"trail_handler_set_formatter", before_set_formatter, op_set_formatter,
                 after_set_formatter, check_handler_set},
                {"trail_logger_add_filter", NULL, op_logger_add_filter, after_filter,
                 check_filter_added},
                {"trail_handler_add_filter", NULL, op_handler_add_filter, after_filter,
                 check_filter_added},
                {"trail_logger_remove_filter", before_remove_filter, op_logger_remove_filter,
                 after_remove_filter, check_filter_removed},
                {"trail_logger_add_handler", NULL, op_add_handler, after_add_handler,
                 check_add_handler},
                {"trail_get", NULL, op_get, after_get, check_true},
                {"trail_set_global_fields", before_globals, op_globals, after_globals,
                 check_globals},
                {"trail_set_ident", NULL, op_ident, after_ident, check_set_as_returned},
                {"trail_set_redact_fields", NULL, op_redact_fields, after_redact,
                 check_set_as_returned},
                {"trail_add_redact_field", NULL, op_add_redact_field, after_redact,
                 check_set_as_returned},
        };
        char name[96];

        for (size_t i = 0; i < sizeof(handler_sets) / sizeof(handler_sets[0]); i++) {
                set_format = handler_sets[i].format;
                set_key = handler_sets[i].key;
                set_value = handler_sets[i].value;
                set_expect = handler_sets[i].expect;
                snprintf(name, sizeof(name), "trail_handler_set(%s, %s)", set_format, set_key);
                op_path_run(&(struct op_path){name, before_handler_set, op_handler_set,
                                              after_handler_set, check_handler_set});
                if (strcmp(set_key, "format") == 0)
                        continue;
                snprintf(name, sizeof(name), "trail_formatter_set(%s, %s)", set_format, set_key);
                op_path_run(&(struct op_path){name, before_formatter_set, op_formatter_set,
                                              after_formatter_set, check_handler_set});
        }
        set_format = "text";
        set_expect = "\"message\":\"probe\"";
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                op_path_run(&paths[i]);
}

/* ---- Configuration load: the new one in force, or the old one ---------- */

static char conf_dir[64], conf_old[96], conf_new[96];
static int fd_old = -1, fd_new = -1, fd_new_async = -1, udp_new = -1;
static trail_logger *cfg_lg;
static char config_errors[4096];
static size_t config_errors_len;

/* Called while allocations fail: copies into a static buffer. */
static void config_error(const char *file, unsigned line, const char *key, const char *message,
                         void *userdata) {
        (void) file, (void) userdata;
        int k = snprintf(config_errors + config_errors_len,
                         sizeof(config_errors) - config_errors_len, "%u: %s: %s\n", line,
                         key ? key : "", message);
        if (k > 0 && config_errors_len + (size_t) k < sizeof(config_errors))
                config_errors_len += (size_t) k;
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static char *fd_take(int fd) {
        off_t n = lseek(fd, 0, SEEK_END);
        char *text = calloc(1, (size_t) n + 1);

        assert_non_null(text);
        if (n > 0)
                assert_int_equal(pread(fd, text, (size_t) n, 0), n);
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return text;
}

static void config_files_write(void) {
        char text[4096];
        int port;

        strcpy(conf_dir, "/tmp/trail-af-conf-XXXXXX");
        assert_non_null(mkdtemp(conf_dir));
        snprintf(conf_old, sizeof(conf_old), "%s/old.conf", conf_dir);
        snprintf(conf_new, sizeof(conf_new), "%s/new.conf", conf_dir);
        fd_old = memfd_create("af-old", MFD_CLOEXEC);
        fd_new = memfd_create("af-new", MFD_CLOEXEC);
        fd_new_async = memfd_create("af-new-async", MFD_CLOEXEC);
        udp_new = bind_inet(SOCK_DGRAM, &port);
        snprintf(text, sizeof(text),
                 "[trail]\n"
                 "level = warning\n"
                 "ident = af-old\n"
                 "fields = CFG=old\n"
                 "[logger af.cfg]\n"
                 "level = info\n"
                 "handlers = old\n"
                 "propagate = no\n"
                 "[handler old]\n"
                 "type = stream\n"
                 "fd = %d\n"
                 "format = text\n"
                 "pattern = OLD %%(levelname)s %%(message)s %%(CFG)s\n",
                 fd_old);
        write_file(conf_old, text);
        snprintf(text, sizeof(text),
                 "[trail]\n"
                 "level = notice\n"
                 "ident = af-new\n"
                 "facility = local3\n"
                 "fields = CFG=new SERVICE=\"billing and more\" VERSION=2\n"
                 "backtrace = critical\n"
                 "[logger af.cfg]\n"
                 "level = debug\n"
                 "handlers = new, newasync, newudp\n"
                 "propagate = no\n"
                 "rate_limit = 1000/1s\n"
                 "[logger af.cfg.child.grandchild]\n"
                 "level = error\n"
                 "sample = 2\n"
                 "[handler new]\n"
                 "type = stream\n"
                 "fd = %d\n"
                 "format = json\n"
                 "[handler newasync]\n"
                 "type = stream\n"
                 "fd = %d\n"
                 "format = logfmt\n"
                 "async = yes\n"
                 "queue = 64\n"
                 "overflow = drop-new\n"
                 "[handler newudp]\n"
                 "type = syslog\n"
                 "target = udp://127.0.0.1:%d\n"
                 "format = rfc5424\n"
                 "app_name = af-udp\n"
                 "[filter]\n"
                 "redact = MY_PIN PASSWORD\n",
                 fd_new, fd_new_async, port);
        write_file(conf_new, text);
}

static void config_files_remove(void) {
        unlink(conf_old);
        unlink(conf_new);
        rmdir(conf_dir);
        close(fd_old);
        close(fd_new);
        close(fd_new_async);
        close(udp_new);
}

static void before_configure(struct op_job *j) {
        (void) j;
        config_errors_len = 0;
        assert_int_equal(trail_configure_full(conf_old, 0, config_error, NULL), 0);
        free(fd_take(fd_old));
        free(fd_take(fd_new));
        free(fd_take(fd_new_async));
}
static void op_configure(struct op_job *j) {
        j->r = trail_configure_full(conf_new, 0, config_error, NULL);
}
/* What a record at notice (enabled by both) and one at debug (by the new
 * only) find: mask bit 0: the old handler got it; 1: the new stream; 2: the
 * new async one; 3: the new syslog one; 4: the global fields of the new;
 * 5: debug was enabled; 6: MY_PIN was redacted; 7: the grandchild's level. */
static void after_configure(struct op_job *j) {
        char buf[65536];
        char *old, *new, *async;
        ssize_t k;

        assert_int_equal(
                trail_notice_with(cfg_lg, TRAIL_FIELDS(TRAIL_STR("MY_PIN", "1234")), "cfgprobe"),
                0);
        (void) trail_debug(cfg_lg, "cfgdebug");
        (void) trail_flush();
        old = fd_take(fd_old);
        new = fd_take(fd_new);
        async = fd_take(fd_new_async);
        k = recv(udp_new, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        buf[k > 0 ? k : 0] = '\0';
        while (recv(udp_new, buf + 1, sizeof(buf) - 2, MSG_DONTWAIT) > 0)
                ;
        j->mask = (strstr(old, "OLD NOTICE cfgprobe old") != NULL) << 0 |
                  (strstr(new, "cfgprobe") != NULL) << 1 |
                  (strstr(async, "cfgprobe") != NULL) << 2 |
                  (strstr(buf, "cfgprobe") != NULL && strstr(buf, " af-udp ")) << 3 |
                  (strstr(new, "\"CFG\":\"new\"") && strstr(new, "\"VERSION\":\"2\"")) << 4 |
                  (strstr(new, "cfgdebug") != NULL) << 5 |
                  (strstr(new, "\"MY_PIN\":\"****\"") != NULL) << 6 |
                  (trail_logger_level(trail_get("af.cfg.child.grandchild")) == TRAIL_ERROR) << 7;
        free(old);
        free(new);
        free(async);
        /* the old configuration again, for the next attempt */
        assert_int_equal(trail_configure_full(conf_old, 0, config_error, NULL), 0);
}
static void check_configure(struct op_job *j) {
        if (j->r >= 0) {
                if (j->mask != 0xfe)
                        print_error("attempt %lu applied but left 0x%lx:\n%.*s", j->n,
                                    (unsigned long) j->mask, (int) config_errors_len,
                                    config_errors);
                assert_int_equal(j->mask, 0xfe);
        } else {
                if (j->mask != 0x01)
                        print_error("attempt %lu refused (%s) but left 0x%lx:\n%.*s", j->n,
                                    strerror(-j->r), (unsigned long) j->mask,
                                    (int) config_errors_len, config_errors);
                assert_int_equal(j->mask, 0x01); /* nothing of the new one, all of the old */
                /* and the caller's error callback was told, whatever failed */
                if (config_errors_len == 0)
                        print_error("attempt %lu refused (%s) without an error reported\n", j->n,
                                    strerror(-j->r));
                assert_true(config_errors_len > 0);
        }
}

static void configuration_load(void **state) {
        (void) state;
        config_files_write();
        cfg_lg = trail_get("af.cfg");
        assert_non_null(cfg_lg);
        op_path_run(&(struct op_path){"trail_configure_full", before_configure, op_configure,
                                      after_configure, check_configure});
        /* Out of memory for good from the Nth allocation on: even the
         * errors that say so cannot be kept. */
        af_set_persist(true);
        op_path_run(&(struct op_path){"trail_configure_full, persistent", before_configure,
                                      op_configure, after_configure, check_configure});
        af_set_persist(false);
        /* leave the built-in configuration for the next tests */
        assert_int_equal(unsetenv("TRAIL_CONFIG"), 0);
        assert_int_equal(trail_configure_full(NULL, 0, config_error, NULL), 0);
        config_files_remove();
}

/* ---- After it all: logging works, into the real journald ------------------ */

static void logging_works_afterwards(void **state) {
        (void) state;
        trail_logger *lg = trail_get("af.final");
        trail_handler *h = trail_handler_journald();
        char tag[64];

        snprintf(tag, sizeof(tag), "%s-final", run_id);
        assert_non_null(h);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        assert_int_equal(trail_info_with(lg,
                                         TRAIL_FIELDS(TRAIL_STR("AF_TAG", tag),
                                                      TRAIL_STR("PASSWORD", SECRET)),
                                         "all paths done"),
                         0);
        struct jentries es = journal_collect("AF_TAG", tag, 1, 10000);
        assert_int_equal(es.n, 1);
        assert_string_equal(jentry_get(&es.e[0], "MESSAGE", NULL), "all paths done");
        assert_string_equal(jentry_get(&es.e[0], "PASSWORD", NULL), "****");
        jentries_free(&es);
        assert_int_equal(trail_logger_remove_handler(lg, h), 0);
        trail_handler_unref(h);
}

static int setup(void **state) {
        (void) state;
        require_journald();
        af_thread_counts();
        test_run_id(run_id);
        records_init();
        fd_out = memfd_create("af-out", MFD_CLOEXEC);
        cap = trail_handler_capture();
        cap_lg = trail_get("af.cap");
        probe_lg = trail_get("af.probe");
        first_lg = trail_get("af.handler.first");
        if (fd_out < 0 || !cap || !cap_lg || !probe_lg || !first_lg)
                return -1;
        trail_logger_add_handler(cap_lg, cap);
        trail_logger_set_propagate(cap_lg, false);
        trail_logger_set_propagate(probe_lg, false);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        trail_logger_remove_handler(cap_lg, cap);
        trail_handler_unref(cap);
        close(fd_out);
        trail_shutdown();
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(first_record_on_a_thread),
                cmocka_unit_test(every_formatter_on_a_stream),
                cmocka_unit_test(syslog_targets),
                cmocka_unit_test(many_and_large_fields),
                cmocka_unit_test(huge_message),
                cmocka_unit_test(redaction_and_scrubbing),
                cmocka_unit_test(sampling_and_rate_limits),
                cmocka_unit_test(backtraces),
                cmocka_unit_test(context_and_global_fields),
                cmocka_unit_test(async_delivery),
                cmocka_unit_test(context_paths),
                cmocka_unit_test(handler_creation),
                cmocka_unit_test(configuration_calls),
                cmocka_unit_test(configuration_load),
                cmocka_unit_test(logging_works_afterwards),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
