/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memory handler (a flight recorder): against the real journald, a
 * failed request's thread sends its own last debug records, in order, with
 * their time, and nothing of the other threads'; the ring's overwrites are
 * counted, a flush sends nothing, one ring can be shared, the target's
 * level and redaction hold, and trail.conf builds it (type = memory) and
 * refuses a missing target and a cycle. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config-util.h"
#include "journal-util.h"
#include "test-util.h"
#include "trail.h"

static int64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* SYSLOG_TIMESTAMP= as trail writes it: RFC 3339, microseconds, numeric
 * offset ("2026-12-05T13:01:02.123456+01:00"); in µs since the epoch. */
static int64_t rfc3339_usec(const char *s) {
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        int usec, oh, om;
        char sign;

        assert_non_null(rest);
        assert_int_equal(sscanf(rest, ".%6d%c%2d:%2d", &usec, &sign, &oh, &om), 4);
        int64_t t = (int64_t) timegm(&tm) - (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        return t * 1000000 + usec;
}

/* ---- 8 requests, one fails ------------------------------------------------- */

#define THREADS  8
#define PER      40
#define CAPACITY 16
#define FAILING  5

struct request {
        int n;
        const char *run;
        trail_logger *lg;
        pthread_barrier_t *barrier;
        int64_t before[PER], after[PER]; /* around each debug call */
};

static void *request_main(void *p) {
        struct request *q = p;
        char id[64];

        snprintf(id, sizeof(id), "%s-req-%d", q->run, q->n);
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", id), TRAIL_STR("MEM_RUN", q->run));
        for (int i = 0; i < PER; i++) {
                q->before[i] = realtime_usec();
                trail_debug_with(q->lg, TRAIL_FIELDS(TRAIL_INT("SEQ", i)), "request %d step %d",
                                 q->n, i);
                q->after[i] = realtime_usec();
        }
        /* every thread's debug records are in its ring before one fails */
        pthread_barrier_wait(q->barrier);
        if (q->n == FAILING) {
                usleep(200 * 1000); /* the failure comes well after the steps */
                trail_error(q->lg, "request %d failed", q->n);
        }
        pthread_barrier_wait(q->barrier);
        return NULL;
}

static void a_failed_request_sends_its_own_last_records_in_order_with_their_time(void **state) {
        (void) state;
        char run[33];
        pthread_t th[THREADS];
        struct request q[THREADS];
        pthread_barrier_t barrier;
        trail_handler *j = trail_handler_journald();
        assert_int_equal(trail_handler_set(j, "timeout", "60s"), 0);
        trail_handler *h = trail_handler_memory(j, CAPACITY, TRAIL_ERROR);
        trail_handler_unref(j);
        trail_logger *lg = logger_with("memory.requests", h);

        test_run_id(run);
        pthread_barrier_init(&barrier, NULL, THREADS);
        for (int i = 0; i < THREADS; i++) {
                q[i] = (struct request){.n = i, .run = run, .lg = lg, .barrier = &barrier};
                assert_int_equal(pthread_create(&th[i], NULL, request_main, &q[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        pthread_barrier_destroy(&barrier);
        assert_int_equal(trail_flush(), 0);

        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, THREADS * PER + 1);
        assert_int_equal(st.delivered, CAPACITY + 1);
        assert_int_equal(st.dropped, THREADS * (PER - CAPACITY));
        assert_int_equal(st.queue_high_water, CAPACITY);

        /* journald holds the failed request's last CAPACITY steps, then the
         * error; a few more seconds would show any other thread's */
        struct jentries es = journal_collect("MEM_RUN", run, CAPACITY + 2, 3000);
        char id[64];
        snprintf(id, sizeof(id), "%s-req-%d", run, FAILING);
        assert_int_equal(es.n, CAPACITY + 1);
        for (size_t i = 0; i < es.n; i++) {
                const struct jentry *e = &es.e[i];
                assert_string_equal(jentry_get(e, "REQUEST_ID", NULL), id);
                if (i == CAPACITY) {
                        assert_string_equal(jentry_get(e, "PRIORITY", NULL), "3");
                        assert_null(jentry_get(e, "TRAIL_HELD", NULL));
                        assert_null(jentry_get(e, "SYSLOG_TIMESTAMP", NULL));
                        break;
                }
                int seq = PER - CAPACITY + (int) i;
                char msg[64];
                snprintf(msg, sizeof(msg), "request %d step %d", FAILING, seq);
                assert_string_equal(jentry_get(e, "MESSAGE", NULL), msg);
                assert_int_equal(atoi(jentry_get(e, "SEQ", NULL)), seq);
                assert_string_equal(jentry_get(e, "PRIORITY", NULL), "7");
                assert_string_equal(jentry_get(e, "TRAIL_HELD", NULL), "1");
                assert_int_equal(jentry_count(e, "TRAIL_HELD"), 1);
                /* the call's own time, not the time it was sent (200 ms later) */
                const char *ts = jentry_get(e, "SYSLOG_TIMESTAMP", NULL);
                assert_non_null(ts);
                int64_t t = rfc3339_usec(ts);
                assert_true(t >= q[FAILING].before[seq]);
                assert_true(t <= q[FAILING].after[seq]);
        }
        jentries_free(&es);
        logger_without(lg, h);
}

/* ---- The ring, with a capture handler as the target ---------------------- */

static trail_handler *memory_into_capture(trail_handler **ret_capture, size_t capacity) {
        trail_handler *c = trail_handler_capture();
        assert_non_null(c);
        trail_handler *h = trail_handler_memory(c, capacity, TRAIL_ERROR);
        assert_non_null(h);
        *ret_capture = c; /* the test's reference */
        return h;
}

static const char *field_str(const trail_record *r, const char *name) {
        static char buf[128];
        trail_field_view v;
        if (trail_record_find(r, name, &v) < 0)
                return NULL;
        if (v.type == TRAIL_FIELD_UINT)
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v.value.u);
        else if (v.type == TRAIL_FIELD_INT)
                snprintf(buf, sizeof(buf), "%lld", (long long) v.value.i);
        else
                snprintf(buf, sizeof(buf), "%.*s", (int) v.len, v.value.s);
        return buf;
}

static void overwrites_are_counted_and_a_flush_sends_nothing(void **state) {
        (void) state;
        trail_handler *c;
        trail_handler *h = memory_into_capture(&c, 8);
        trail_logger *lg = logger_with("memory.ring", h);
        int64_t before[20], after[20];
        trail_stats st;

        for (int i = 0; i < 20; i++) {
                before[i] = realtime_usec();
                trail_debug(lg, "step %d", i);
                after[i] = realtime_usec();
        }
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(trail_capture_count(c), 0);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 20);
        assert_int_equal(st.delivered, 0);
        assert_int_equal(st.dropped, 12);
        assert_int_equal(st.queue_high_water, 8);

        usleep(20 * 1000);
        trail_critical(lg, "boom");
        assert_int_equal(trail_capture_count(c), 9);
        for (int i = 0; i < 8; i++) {
                const trail_record *r = trail_capture_get(c, (size_t) i);
                char msg[32];
                snprintf(msg, sizeof(msg), "step %d", 12 + i);
                assert_string_equal(trail_record_message(r, NULL), msg);
                assert_int_equal(trail_record_level(r), TRAIL_DEBUG);
                assert_string_equal(field_str(r, "TRAIL_HELD"), "1");
                assert_true(trail_record_time_usec(r) >= before[12 + i]);
                assert_true(trail_record_time_usec(r) <= after[12 + i]);
        }
        const trail_record *boom = trail_capture_get(c, 8);
        assert_string_equal(trail_record_message(boom, NULL), "boom");
        assert_null(field_str(boom, "TRAIL_HELD"));

        /* the ring is empty after it was sent: the next failure sends only
         * what came after */
        trail_info(lg, "after");
        trail_error(lg, "again");
        assert_int_equal(trail_capture_count(c), 11);
        assert_string_equal(trail_record_message(trail_capture_get(c, 9), NULL), "after");
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, 11);
        logger_without(lg, h);
        trail_handler_unref(c);
}

/* The text formatter shows the call's time of a held record. */
static void a_held_record_renders_with_its_own_time(void **state) {
        (void) state;
        int fd = memfd_new();
        trail_handler *s = trail_handler_stream(fd, "text");
        assert_int_equal(trail_handler_set(s, "pattern", "%(created)s %(message)s %(fields)s"), 0);
        trail_handler *h = trail_handler_memory(s, 4, TRAIL_WARNING);
        trail_handler_unref(s);
        trail_logger *lg = logger_with("memory.text", h);

        int64_t before = realtime_usec();
        trail_info(lg, "held");
        int64_t after = realtime_usec();
        usleep(300 * 1000);
        trail_warning(lg, "trigger");
        char *text = memfd_take(fd);
        double created = 0;
        assert_int_equal(sscanf(text, "%lf held TRAIL_HELD=1\n", &created), 1);
        assert_true(created * 1e6 >= (double) before - 1);
        assert_true(created * 1e6 <= (double) after + 1);
        assert_non_null(strstr(text, " trigger"));
        assert_int_equal(count_substr(text, "TRAIL_HELD"), 1);
        free(text);
        logger_without(lg, h);
        close(fd);
}

struct shared_arg {
        trail_logger *lg;
        int n;
};

static void *shared_main(void *p) {
        struct shared_arg *a = p;
        trail_debug(a->lg, "from thread %d", a->n);
        return NULL;
}

static void per_thread_no_shares_one_ring(void **state) {
        (void) state;
        trail_handler *c;
        trail_handler *h = memory_into_capture(&c, 16);
        pthread_t th[3];
        struct shared_arg a[3];

        assert_int_equal(trail_handler_set(h, "per_thread", "no"), 0);
        trail_logger *lg = logger_with("memory.shared", h);
        for (int i = 0; i < 3; i++) {
                a[i] = (struct shared_arg){lg, i};
                assert_int_equal(pthread_create(&th[i], NULL, shared_main, &a[i]), 0);
                pthread_join(th[i], NULL);
        }
        /* rings hold records now: the mode stays */
        assert_int_equal(trail_handler_set(h, "per_thread", "yes"), -EBUSY);
        trail_error(lg, "main fails");
        assert_int_equal(trail_capture_count(c), 4);
        for (int i = 0; i < 3; i++) {
                char msg[32];
                snprintf(msg, sizeof(msg), "from thread %d", i);
                assert_string_equal(trail_record_message(trail_capture_get(c, (size_t) i), NULL),
                                    msg);
                assert_int_not_equal(trail_record_tid(trail_capture_get(c, (size_t) i)),
                                     trail_record_tid(trail_capture_get(c, 3)));
        }
        logger_without(lg, h);
        trail_handler_unref(c);
}

/* Per thread (the default), the other threads' records stay held. */
static void per_thread_rings_are_apart(void **state) {
        (void) state;
        trail_handler *c;
        trail_handler *h = memory_into_capture(&c, 16);
        trail_logger *lg = logger_with("memory.apart", h);
        pthread_t th;
        struct shared_arg a = {lg, 1};

        assert_int_equal(pthread_create(&th, NULL, shared_main, &a), 0);
        pthread_join(th, NULL); /* its ring goes with it */
        trail_debug(lg, "mine");
        trail_error(lg, "main fails");
        assert_int_equal(trail_capture_count(c), 2);
        assert_string_equal(trail_record_message(trail_capture_get(c, 0), NULL), "mine");
        logger_without(lg, h);
        trail_handler_unref(c);
}

/* The target's filter sees each held record when it is sent. */
static bool drop_filtered(const trail_record *r, void *userdata) {
        size_t len;
        const char *m = trail_record_message(r, &len);
        (void) userdata;
        return !(len == strlen("filtered") && memcmp(m, "filtered", len) == 0);
}

static void the_targets_level_and_redaction_hold(void **state) {
        (void) state;
        trail_handler *c;
        trail_handler *h = memory_into_capture(&c, 16);
        trail_logger *lg = logger_with("memory.level", h);

        assert_int_equal(trail_handler_set_level(c, TRAIL_INFO), 0);
        assert_int_equal(trail_handler_add_filter(c, drop_filtered, NULL), 0);
        trail_info(lg, "filtered");
        trail_debug(lg, "below the target's level");
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("PASSWORD", "hunter2")), "login");
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.queue_high_water, 2); /* the debug record was not held */
        trail_error(lg, "fails");
        assert_int_equal(trail_capture_count(c), 2);
        const trail_record *r = trail_capture_get(c, 0);
        assert_string_equal(trail_record_message(r, NULL), "login");
        assert_string_not_equal(field_str(r, "PASSWORD"), "hunter2");
        assert_null(strstr(field_str(r, "PASSWORD"), "hunter2"));
        logger_without(lg, h);
        trail_handler_unref(c);
}

/* A record bigger than the ring takes is cut, not lost: the message first,
 * then the fields of lowest precedence, counted in TRUNCATED_FIELDS, which
 * stays last, after TRAIL_HELD. */
static void a_record_bigger_than_the_ring_is_cut_not_lost(void **state) {
        (void) state;
        trail_handler *c;
        trail_handler *h = memory_into_capture(&c, 1); /* 4 KiB, 2 KiB a record */
        trail_logger *lg = logger_with("memory.big", h);
        char *msg = big_value(100000, "x");
        trail_field f[300];
        char names[300][16];

        for (int i = 0; i < 300; i++) {
                snprintf(names[i], sizeof(names[i]), "F%03d", i);
                f[i] = (trail_field){.name = names[i], .type = TRAIL_FIELD_INT, .value.i = i};
        }
        trail_debug_with(lg, ((trail_fields){f, 300}), "%s", msg);
        trail_error(lg, "trigger");
        assert_int_equal(trail_capture_count(c), 2);
        const trail_record *r = trail_capture_get(c, 0);
        size_t len, n = trail_record_n_fields(r);
        const char *m = trail_record_message(r, &len);
        assert_true(len > 100 && len < 2048);
        assert_int_equal(strspn(m, "x"), len);
        trail_field_view last, held;
        assert_int_equal(trail_record_field(r, n - 1, &last), 0);
        assert_int_equal(trail_record_field(r, n - 2, &held), 0);
        assert_memory_equal(last.name, "TRUNCATED_FIELDS", last.name_len);
        assert_int_equal(last.value.u + (n - 2), 300);
        assert_memory_equal(held.name, "TRAIL_HELD", held.name_len);
        /* the call's own fields of highest precedence are the ones kept */
        assert_string_equal(field_str(r, "F299"), "299");
        free(msg);
        logger_without(lg, h);
        trail_handler_unref(c);
}

/* Configurations swapped while threads hold records: the replaced
 * handlers' rings are freed by their threads (TSan, valgrind). */
static void *reload_worker(void *p) {
        trail_logger *lg = trail_get("memory.reload");
        for (int i = 0; i < 2000; i++) {
                trail_debug(lg, "held %d", i);
                if (i % 100 == 99)
                        trail_error(lg, "failed %d", i);
        }
        (void) p;
        return NULL;
}

static void reloads_while_threads_hold_records(void **state) {
        (void) state;
        struct errbuf e = {0};
        int fd = memfd_new();
        char a[64], b[64];
        pthread_t th[4];

        strcpy(a, conf_write("[trail]\nlevel = debug\nhandlers = rec\n[handler rec]\n"
                             "type = memory\ntarget = out\ncapacity = 8\n"
                             "[handler out]\ntype = stream\nfd = %d\n",
                             fd));
        strcpy(b, conf_write("[trail]\nlevel = debug\nhandlers = rec\n[handler rec]\n"
                             "type = memory\ntarget = out\ncapacity = 4\nper_thread = no\n"
                             "[handler out]\ntype = stream\nfd = %d\n",
                             fd));
        assert_int_equal(trail_configure_full(a, 0, errbuf_add, &e), 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&th[i], NULL, reload_worker, NULL), 0);
        for (int i = 0; i < 20; i++)
                assert_int_equal(trail_configure_full(i % 2 ? a : b, 0, errbuf_add, &e), 0);
        for (int i = 0; i < 4; i++)
                pthread_join(th[i], NULL);
        assert_string_equal(e.text, "");
        char *text = memfd_take(fd);
        /* each error came with at most 8 held records */
        assert_int_equal(count_substr(text, "failed"), 4 * 20);
        assert_true(count_substr(text, "held") <= 4 * 20 * 8);
        free(text);
        unlink(a);
        unlink(b);
        trail_shutdown();
        close(fd);
}

/* A program's own TRAIL_HELD cannot pose as the mark, or hide it. */
static void a_field_named_trail_held_is_renamed(void **state) {
        (void) state;
        trail_handler *c;
        trail_handler *h = memory_into_capture(&c, 4);
        trail_logger *lg = logger_with("memory.forge", h);

        trail_debug_with(lg, TRAIL_FIELDS(TRAIL_STR("TRAIL_HELD", "forged")), "held");
        trail_error_with(lg, TRAIL_FIELDS(TRAIL_STR("TRAIL_HELD", "0")), "trigger");
        assert_int_equal(trail_capture_count(c), 2);
        const trail_record *held = trail_capture_get(c, 0), *trig = trail_capture_get(c, 1);
        assert_string_equal(field_str(held, "TRAIL_HELD"), "1");
        assert_string_equal(field_str(held, "F_TRAIL_HELD"), "forged");
        assert_null(field_str(trig, "TRAIL_HELD"));
        assert_string_equal(field_str(trig, "F_TRAIL_HELD"), "0");
        logger_without(lg, h);
        trail_handler_unref(c);
}

static void bad_arguments_are_refused(void **state) {
        (void) state;
        trail_handler *c = trail_handler_capture();

        errno = 0;
        assert_null(trail_handler_memory(NULL, 8, TRAIL_ERROR));
        assert_int_equal(errno, EINVAL);
        assert_null(trail_handler_memory(c, 8, 8));
        assert_null(trail_handler_memory(c, 8, -1));
        assert_null(trail_handler_memory(c, 65537, TRAIL_ERROR));
        trail_handler *h = trail_handler_memory(c, 0, TRAIL_ERROR);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "trigger", "loud"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "trigger", "warning"), 0);
        assert_int_equal(trail_handler_set(h, "per_thread", "maybe"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "capacityy", "1"), -ENOENT);
        assert_int_equal(trail_handler_set(h, "format", "json"), -EOPNOTSUPP);
        trail_handler_unref(h);
        trail_handler_unref(c);
}

/* ---- trail.conf ---------------------------------------------------------------- */

static void trail_conf_builds_a_memory_handler(void **state) {
        (void) state;
        struct errbuf e = {0};
        int fd = memfd_new();
        /* the memory section comes before its target: order does not matter */
        const char *path = conf_write("[trail]\nlevel = debug\nhandlers = recorder\n"
                                      "[handler recorder]\ntype = memory\ntarget = out\n"
                                      "capacity = 3\ntrigger = warning\nper_thread = no\n"
                                      "[handler out]\ntype = stream\nfd = %d\nformat = text\n"
                                      "pattern = %%(message)s %%(fields)s\n",
                                      fd);

        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_string_equal(e.text, "");
        trail_logger *lg = trail_get("memory.conf");
        for (int i = 0; i < 5; i++)
                trail_debug(lg, "d%d", i);
        trail_info(lg, "i5");
        assert_int_equal(trail_flush(), 0);
        char *text = memfd_take(fd);
        assert_string_equal(text, "");
        free(text);
        trail_warning(lg, "w");
        text = memfd_take(fd);
        assert_string_equal(text, "d3 TRAIL_HELD=1\nd4 TRAIL_HELD=1\ni5 TRAIL_HELD=1\nw\n");
        free(text);
        unlink(path);
        trail_shutdown();
        close(fd);
}

static void trail_conf_refuses_a_missing_target_and_a_cycle(void **state) {
        (void) state;
        struct errbuf e = {0};
        const char *path = conf_write("[trail]\nhandlers = a\n"
                                      "[handler a]\ntype = memory\ntarget = b\n"
                                      "[handler b]\ntype = memory\ntarget = c\n"
                                      "[handler c]\ntype = memory\ntarget = a\n"
                                      "[handler d]\ntype = memory\ntarget = nowhere\n"
                                      "[handler e]\ntype = memory\n"
                                      "[handler f]\ntype = memory\ntarget = f\n"
                                      "[handler g]\ntype = memory\ntarget = a\n"
                                      "[handler j]\ntype = journald\n"
                                      "[handler h]\ntype = memory\ntarget = j\nasync = yes\n"
                                      "capacity = 0\ntrigger = loud\nper_thread = perhaps\n");

        assert_int_equal(trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e),
                         -EINVAL);
        assert_non_null(strstr(e.text, ":5: target: memory handlers that hold for each other: "
                                       "a → b → c → a\n"));
        assert_non_null(strstr(e.text, ":14: target: no [handler nowhere] section\n"));
        assert_non_null(strstr(e.text, ":15: target: missing: a memory handler needs target"));
        assert_non_null(strstr(e.text, ":19: target: memory handlers that hold for each other: "
                                       "f → f\n"));
        assert_non_null(strstr(e.text, ":28: async: a memory handler holds records per thread"));
        assert_non_null(strstr(e.text, ":29: capacity: '0' is not a number of records"));
        assert_non_null(strstr(e.text, ":30: trigger: unknown level 'loud'"));
        assert_non_null(strstr(e.text, ":31: per_thread: 'perhaps' is not yes or no"));
        /* g only waits for the cycle: no error of its own */
        assert_int_equal(e.n, 8);
        unlink(path);

        /* a chain without a cycle is fine, and trail check describes it */
        path = conf_write("[trail]\nhandlers = m2\n[handler m2]\ntype = memory\ntarget = m1\n"
                          "[handler m1]\ntype = memory\ntarget = j\ncapacity = 5\n"
                          "[handler j]\ntype = journald\n");
        memset(&e, 0, sizeof(e));
        assert_int_equal(trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e), 0);
        assert_string_equal(e.text, "");
        unlink(path);
}

int main(void) {
        require_journald();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(
                        a_failed_request_sends_its_own_last_records_in_order_with_their_time),
                cmocka_unit_test(overwrites_are_counted_and_a_flush_sends_nothing),
                cmocka_unit_test(a_held_record_renders_with_its_own_time),
                cmocka_unit_test(per_thread_no_shares_one_ring),
                cmocka_unit_test(per_thread_rings_are_apart),
                cmocka_unit_test(the_targets_level_and_redaction_hold),
                cmocka_unit_test(a_record_bigger_than_the_ring_is_cut_not_lost),
                cmocka_unit_test(a_field_named_trail_held_is_renamed),
                cmocka_unit_test(reloads_while_threads_hold_records),
                cmocka_unit_test(bad_arguments_are_refused),
                cmocka_unit_test(trail_conf_builds_a_memory_handler),
                cmocka_unit_test(trail_conf_refuses_a_missing_target_and_a_cycle),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
