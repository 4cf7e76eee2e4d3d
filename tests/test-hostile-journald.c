/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile corpus (tests/hostile/corpus.h) through the real journald,
 * read back with sd-journal: each call is exactly one entry, with trail's
 * own fields once each and untouched, every value byte for byte, no
 * secret, and no entry that trail did not send. Then journald's limits:
 * past the iovec budget of one native-protocol datagram and the per-record cap, the
 * entry still arrives with trail's fields and the call's last fields, and
 * TRUNCATED_FIELDS says exactly how many were left out. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostile/corpus.h"
#include "journal-util.h"
#include "test-util.h"
#include "trail.h"

#define IDENT      "hostile-journald"
#define TIMEOUT_MS 15000

static char run[33];

static trail_logger *journald_logger(const char *name) {
        trail_logger *lg = trail_get(name);
        trail_handler *h = trail_handler_journald();

        assert_non_null(lg);
        assert_non_null(h);
        (void) trail_logger_add_handler(lg, h); /* -EEXIST the second time */
        trail_handler_unref(h);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        assert_int_equal(trail_logger_set_level(lg, TRAIL_DEBUG), 0);
        return lg;
}

static int64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void assert_once(const struct jentry *e, const char *name, const char *value) {
        size_t len;
        const char *v = jentry_get(e, name, &len);

        if (jentry_count(e, name) != 1)
                fail_msg("%s: %zu times", name, jentry_count(e, name));
        if (value && (len != strlen(value) || memcmp(v, value, len) != 0))
                fail_msg("%s=%s, not %s", name, v, value);
}

/* trail's own fields once each, with trail's values; every other field a
 * valid journald name; the trusted _PID journald's; no secret anywhere. */
static void assert_clean_entry(const struct jentry *e, int level, const char *logger) {
        char num[32];

        snprintf(num, sizeof(num), "%d", level);
        assert_once(e, "MESSAGE", NULL);
        assert_once(e, "PRIORITY", num);
        assert_once(e, "SYSLOG_IDENTIFIER", IDENT);
        assert_once(e, "SYSLOG_FACILITY", "3");
        assert_once(e, "LOGGER", logger);
        assert_once(e, "CODE_FILE", NULL);
        assert_once(e, "CODE_LINE", NULL);
        assert_once(e, "CODE_FUNC", NULL);
        assert_once(e, "TID", NULL);
        snprintf(num, sizeof(num), "%d", (int) getpid());
        assert_once(e, "_PID", num);
        assert_once(e, "_TRANSPORT", "journal");
        for (size_t i = 0; i < e->n; i++) {
                const char *name = e->f[i].name, *secret;
                if (name[0] == '_')
                        continue; /* journald's own, checked above */
                if (!(name[0] >= 'A' && name[0] <= 'Z') ||
                    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(name))
                        fail_msg("field name %s", name);
                if ((secret = find_secret(e->f[i].value, e->f[i].len)))
                        fail_msg("secret %s in %s", secret, name);
        }
}

static int setup(void **state) {
        (void) state;
        require_journald();
        test_run_id(run);
        return hostile_setup(run, IDENT, -1);
}

static int teardown(void **state) {
        (void) state;
        trail_shutdown();
        return 0;
}

/* Each value of the corpus as a byte field, a string field and inside the
 * message, among field names posing as trail's and journald's own and
 * secrets: one entry per call, every value exact, nothing forged. The
 * journal holds no other entry from this process. */
static void every_hostile_value_is_one_exact_entry(void **state) {
        (void) state;
        trail_logger *lg = journald_logger("hostile.journald");
        char pid[16];
        int64_t start = realtime_usec();

        {
                TRAIL_SCOPE(TRAIL_STR("SESSION_TOKEN", "ctx-tok-9e0b"));
                for (size_t i = 0; i < N_HOSTILE; i++) {
                        trail_field f[HOSTILE_FIELDS];
                        size_t n = hostile_fields(f, i, "forged");

                        trail_log_with(lg, (int) (i % 8), ((trail_fields){f, n}),
                                       "m:%s pay 4111111111111111 Bearer %s password=%s",
                                       hostile_values[i].v, "eyJhbGciOiJub25lIn0.bearer-e1e1",
                                       "msg-pw-6d2e");
                }
        }

        struct jentries es = journal_collect("RUN", run, N_HOSTILE, TIMEOUT_MS);
        assert_int_equal(es.n, N_HOSTILE);
        for (size_t i = 0; i < es.n; i++) {
                const struct jentry *e = &es.e[i];
                const struct hostile *h = &hostile_values[i];
                char seq[24], *m;
                size_t len;
                const char *v;

                snprintf(seq, sizeof(seq), "%zu", i);
                assert_once(e, "SEQ", seq);
                assert_clean_entry(e, (int) (i % 8), "hostile.journald");
                /* byte for byte, NUL and invalid UTF-8 included */
                v = jentry_get(e, "VALUE", &len);
                assert_non_null(v);
                if (len != h->len || memcmp(v, h->v, len) != 0)
                        fail_msg("VALUE %s does not round-trip", h->name);
                v = jentry_get(e, "SVALUE", &len);
                assert_true(v && len == strnlen(h->v, h->len) && memcmp(v, h->v, len) == 0);
                /* the value is data, never a format: "%n" arrives as "%n" */
                assert_true(asprintf(&m, "m:%s pay ****", h->v) > 0);
                v = jentry_get(e, "MESSAGE", &len);
                if (len < strlen(m) || memcmp(v, m, strlen(m)) != 0)
                        fail_msg("MESSAGE %s: %s", h->name, v);
                free(m);
                /* the forged names arrive renamed, never as what they pose as */
                assert_once(e, "F_MESSAGE", "forged");
                assert_once(e, "F_PRIORITY", "forged");
                assert_once(e, "F_TRUNCATED_FIELDS", "forged");
                assert_once(e, "PID", "forged");
                assert_once(e, "CURSOR", "forged");
                assert_once(e, "PRIORITY_MESSAGE", "forged");
                assert_null(jentry_get(e, "TRUNCATED_FIELDS", NULL));
                assert_once(e, "PASSWORD", "****");
                assert_once(e, "DB_PASSWORD", "****");
                assert_once(e, "SESSION_TOKEN", "****");
                assert_once(e, "API_KEY", "****");
        }
        jentries_free(&es);

        /* nothing else from this process: an injected entry would lack RUN */
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        es = journal_collect("_PID", pid, N_HOSTILE, TIMEOUT_MS);
        size_t mine = 0;
        for (size_t i = 0; i < es.n; i++) {
                const char *ts = jentry_get(&es.e[i], "_SOURCE_REALTIME_TIMESTAMP", NULL);
                if (ts && strtoll(ts, NULL, 10) < start)
                        continue;
                mine++;
                assert_once(&es.e[i], "RUN", run);
        }
        assert_int_equal(mine, N_HOSTILE);
        jentries_free(&es);
}

/* A mebibyte in a field and in the message: journald takes values up to
 * DATA_SIZE_MAX (768 MiB); the handler sends an entry too large for a
 * datagram through a memfd (this one fits the 8 MiB send buffer it asks
 * for; test-journal-send takes the memfd path); both arrive whole. */
static void a_mebibyte_value_arrives_whole(void **state) {
        (void) state;
        trail_logger *lg = journald_logger("hostile.journald.big");
        char *big = big_value(1 << 20, "0123456789abcdef\n");
        char id[33];
        size_t len;

        test_run_id(id);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("BIG_RUN", id), TRAIL_STR("BIG", big)), "%s",
                        big);
        struct jentries es = journal_collect("BIG_RUN", id, 1, TIMEOUT_MS);
        assert_int_equal(es.n, 1);
        assert_clean_entry(&es.e[0], TRAIL_INFO, "hostile.journald.big");
        const char *v = jentry_get(&es.e[0], "BIG", &len);
        assert_true(v && len == 1 << 20 && memcmp(v, big, len) == 0);
        v = jentry_get(&es.e[0], "MESSAGE", &len);
        assert_true(v && len == 1 << 20 && memcmp(v, big, len) == 0);
        jentries_free(&es);
        free(big);
}

/* Logs n fields F0..F(n-1) (with a newline in every value when nl), then
 * checks the entry: trail's fields, the last K user fields and nothing
 * else, TRUNCATED_FIELDS=N with N + K = every field given, and N counted
 * in fields_dropped. Returns K. */
static size_t many_fields(trail_logger *lg, size_t n, bool nl) {
        trail_field *f = calloc(n + 1, sizeof(*f));
        char(*names)[24] = calloc(n, sizeof(*names));
        char id[33];
        trail_stats before, after;

        assert_non_null(f);
        assert_non_null(names);
        test_run_id(id);
        for (size_t i = 0; i < n; i++) {
                snprintf(names[i], sizeof(names[i]), "F%zu", i);
                f[i] = nl ? TRAIL_STR(names[i], "two\nlines") : TRAIL_UINT(names[i], i);
        }
        f[n] = TRAIL_STR("MANY_RUN", id);
        assert_int_equal(trail_get_stats(&before), 0);
        {
                TRAIL_SCOPE(TRAIL_STR("CTX", "c"));
                trail_warning_with(lg, ((trail_fields){f, n + 1}), "many fields");
        }
        assert_int_equal(trail_flush(), 0); /* an async handler's worker counts too */
        assert_int_equal(trail_get_stats(&after), 0);

        struct jentries es = journal_collect("MANY_RUN", id, 1, TIMEOUT_MS);
        assert_int_equal(es.n, 1);
        const struct jentry *e = &es.e[0];
        assert_clean_entry(e, TRAIL_WARNING, trail_logger_name(lg));
        assert_once(e, "MESSAGE", "many fields");

        /* the user fields that arrived are F(n-k)..F(n-1), then MANY_RUN */
        size_t k = 0, lowest = n;
        for (size_t i = 0; i < e->n; i++)
                if (e->f[i].name[0] == 'F' && e->f[i].name[1] >= '0' && e->f[i].name[1] <= '9') {
                        size_t idx = strtoul(e->f[i].name + 1, NULL, 10);
                        k++;
                        lowest = idx < lowest ? idx : lowest;
                }
        assert_true(k > 0);
        assert_int_equal(lowest, n - k);
        size_t others =
                jentry_count(e, "RUN") + jentry_count(e, "API_KEY") + jentry_count(e, "CTX");
        /* given: RUN, API_KEY (global), CTX (context), F0..F(n-1), MANY_RUN */
        size_t given = 3 + n + 1, arrived = k + others + 1;
        const char *t = jentry_get(e, "TRUNCATED_FIELDS", NULL);
        uint64_t truncated = t ? strtoull(t, NULL, 10) : 0;
        if (truncated != given - arrived)
                fail_msg("%zu fields left out, TRUNCATED_FIELDS=%s", given - arrived,
                         t ? t : "(none)");
        assert_int_equal(after.fields_dropped - before.fields_dropped, truncated);
        jentries_free(&es);
        free(f);
        free(names);
        return k;
}

/* The native protocol takes a field as 2 iovecs (5 with a newline) and
 * sendmsg() takes at most IOV_MAX (1024): about 500 fields fit, well under
 * journald's own ENTRY_FIELD_COUNT_MAX (1024), past which it would drop the
 * whole entry. */
static void past_the_iovec_budget_the_last_fields_arrive_and_the_rest_is_counted(void **state) {
        (void) state;
        trail_logger *lg = journald_logger("hostile.journald.iov");

        size_t k = many_fields(lg, 600, false);
        assert_true(k > 450 && k < 600);
        k = many_fields(lg, 600, true); /* 5 iovecs each */
        assert_true(k > 150 && k < 220);
}

/* 10 000 fields: first the per-record cap, then the iovec budget. */
static void ten_thousand_fields_arrive_cut_and_counted(void **state) {
        (void) state;
        trail_logger *lg = journald_logger("hostile.journald.cap");

        size_t k = many_fields(lg, 10000, false);
        assert_true(k > 450);
}

/* The same through an async handler with a backtrace on every record (a
 * field trail adds after the cap): the queued copy holds every field. */
static void ten_thousand_fields_through_async_with_a_backtrace(void **state) {
        (void) state;
        trail_logger *lg = trail_get("hostile.journald.async");
        trail_handler *j = trail_handler_journald();
        trail_handler *a = trail_handler_async(j, 0, TRAIL_OVERFLOW_BLOCK);

        assert_non_null(a);
        trail_handler_unref(j);
        assert_int_equal(trail_logger_add_handler(lg, a), 0);
        trail_handler_unref(a);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        assert_int_equal(trail_set_backtrace_level(TRAIL_DEBUG), 0);
        size_t k = many_fields(lg, 10000, false);
        assert_int_equal(trail_set_backtrace_level(-1), 0);
        fprintf(stderr, "async: %zu fields arrived\n", k);
        assert_true(k > 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_hostile_value_is_one_exact_entry),
                cmocka_unit_test(a_mebibyte_value_arrives_whole),
                cmocka_unit_test(
                        past_the_iovec_budget_the_last_fields_arrive_and_the_rest_is_counted),
                cmocka_unit_test(ten_thousand_fields_arrive_cut_and_counted),
                cmocka_unit_test(ten_thousand_fields_through_async_with_a_backtrace),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
