/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile corpus (tests/hostile/corpus.h) through the stream handler in
 * every format, read back from the file descriptor: each call is exactly
 * one line that parses as one record with the fields it was given and
 * nothing else, no secret is in it, no byte a terminal or a line reader
 * acts on is in it, and what is cut is counted. */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostile/corpus.h"
#include "hostile/parse.h"
#include "test-util.h"
#include "trail.h"

#define IDENT    "hostile-ident"
#define FACILITY 16 /* local0 */
#define MAX_KV   12000

static const char *const level_lower[] = {"emergency", "alert",  "critical", "error",
                                          "warning",   "notice", "info",     "debug"};
static const char *const level_upper[] = {"EMERGENCY", "ALERT",  "CRITICAL", "ERROR",
                                          "WARNING",   "NOTICE", "INFO",     "DEBUG"};

static char run[33];
static struct kv *kvs;
static struct sd_param *sds;

struct sink {
        const char *format;
        int fd;
        trail_handler *h;
        trail_logger *lg;
        char logger[64];
        char *text;
        size_t len;
};

static void sink_open(struct sink *s, const char *format) {
        s->format = format;
        s->fd = memfd_create(format, MFD_CLOEXEC);
        assert_true(s->fd >= 0);
        s->h = trail_handler_stream(s->fd, format);
        snprintf(s->logger, sizeof(s->logger), "hostile.stream.%s", format);
        s->lg = logger_with(s->logger, s->h);
        s->text = NULL;
}

/* Everything written since the last call. */
static void sink_take(struct sink *s) {
        off_t n = lseek(s->fd, 0, SEEK_END);
        assert_true(n >= 0);
        free(s->text);
        s->text = malloc((size_t) n + 1);
        assert_non_null(s->text);
        assert_int_equal(pread(s->fd, s->text, (size_t) n, 0), n);
        s->text[n] = '\0';
        s->len = (size_t) n;
        assert_int_equal(ftruncate(s->fd, 0), 0);
        assert_int_equal(lseek(s->fd, 0, SEEK_SET), 0);
}

static void sink_close(struct sink *s) {
        logger_without(s->lg, s->h);
        close(s->fd);
        free(s->text);
}

/* Exactly one line, no secret, nothing a terminal acts on. */
static void assert_one_clean_line(const struct sink *s) {
        const char *nl = memchr(s->text, '\n', s->len);
        const char *secret = find_secret(s->text, s->len);
        long bad = first_dangerous(s->text, s->len - 1);

        if (!nl || (size_t) (nl - s->text) != s->len - 1)
                fail_msg("%s: not exactly one line (%zu bytes, first LF at %ld): %.300s", s->format,
                         s->len, nl ? (long) (nl - s->text) : -1L, s->text);
        if (secret)
                fail_msg("%s: the secret %s is in the output: %.300s", s->format, secret, s->text);
        if (bad >= 0)
                fail_msg("%s: byte 0x%02x at %ld is not escaped: %.300s", s->format,
                         (unsigned char) s->text[bad], bad, s->text);
}

/* Every key once. */
static void assert_unique_keys(const struct kv *kv, int n, const char *what) {
        for (int i = 0; i < n; i++)
                for (int k = i + 1; k < n; k++)
                        if (kv[i].key_len == kv[k].key_len &&
                            memcmp(kv[i].key, kv[k].key, kv[i].key_len) == 0)
                                fail_msg("%s: key %.*s twice", what, (int) kv[i].key_len,
                                         kv[i].key);
}

/* A field name as trail writes it: [A-Z][A-Z0-9_]* and none of its own. */
static void assert_field_name(const char *name, size_t n, const char *what) {
        assert_true(n > 0 && n <= 64);
        if (!(name[0] >= 'A' && name[0] <= 'Z'))
                fail_msg("%s: field name %.*s", what, (int) n, name);
        for (size_t i = 0; i < n; i++)
                if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
                      name[i] == '_'))
                        fail_msg("%s: field name %.*s", what, (int) n, name);
        for (size_t i = 0; i < N_TRAIL_OWN; i++)
                if (strlen(trail_own_names[i]) == n && memcmp(trail_own_names[i], name, n) == 0)
                        fail_msg("%s: a user field is named %s", what, trail_own_names[i]);
}

struct expect {
        int level;
        unsigned seq;
        const char *value; /* the VALUE field, as TRAIL_BYTES */
        size_t value_len;
        const char *message; /* NULL: do not compare */
        size_t message_len;
        bool value_is_bytes; /* else VALUE is a string field */
        bool run_cut;        /* RUN (a global field) was left out */
};

static void check_bytes_b64(const char *b64, size_t n, const struct expect *e, const char *what) {
        unsigned char *out = malloc(n + 4);
        assert_non_null(out);
        long k = base64_decode(b64, n, out);
        if (k < 0 || (size_t) k != e->value_len || memcmp(out, e->value, e->value_len) != 0)
                fail_msg("%s: VALUE does not round-trip", what);
        free(out);
}

static void check_json(const struct sink *s, const struct expect *e) {
        json_tokener *tok = json_tokener_new_ex(64);
        json_object *o = json_tokener_parse_ex(tok, s->text, (int) s->len - 1), *v;
        char seq[24];

        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != s->len - 1)
                fail_msg("json: not one JSON value: %.300s", s->text);
        json_tokener_free(tok);
        assert_true(json_object_is_type(o, json_type_object));
        static const char *const builtin[] = {"time",    "level", "priority", "logger",
                                              "message", "ident", "file",     "line",
                                              "func",    "pid",   "tid"};
        json_object_object_foreach(o, key, val) {
                bool known = false;
                (void) val;
                for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
                        known = known || strcmp(key, builtin[i]) == 0;
                if (!known)
                        assert_field_name(key, strlen(key), "json");
        }
        assert_true(json_object_object_get_ex(o, "level", &v));
        assert_string_equal(json_object_get_string(v), level_lower[e->level]);
        assert_true(json_object_object_get_ex(o, "priority", &v));
        assert_int_equal(json_object_get_int(v), e->level);
        assert_true(json_object_object_get_ex(o, "logger", &v));
        assert_string_equal(json_object_get_string(v), s->logger);
        assert_true(json_object_object_get_ex(o, "ident", &v));
        assert_string_equal(json_object_get_string(v), IDENT);
        if (!e->run_cut) {
                assert_true(json_object_object_get_ex(o, "RUN", &v));
                assert_string_equal(json_object_get_string(v), run);
        }
        snprintf(seq, sizeof(seq), "%u", e->seq);
        assert_true(json_object_object_get_ex(o, "SEQ", &v));
        assert_string_equal(json_object_get_string(v), seq);
        assert_true(json_object_object_get_ex(o, "VALUE", &v));
        if (e->value_is_bytes)
                check_bytes_b64(json_object_get_string(v), (size_t) json_object_get_string_len(v),
                                e, "json");
        else if (json_object_get_string_len(v) != (int) e->value_len ||
                 memcmp(json_object_get_string(v), e->value, e->value_len) != 0)
                fail_msg("json: VALUE does not round-trip");
        if (e->message) {
                assert_true(json_object_object_get_ex(o, "message", &v));
                if ((size_t) json_object_get_string_len(v) < e->message_len ||
                    memcmp(json_object_get_string(v), e->message, e->message_len) != 0)
                        fail_msg("json: message is not what was logged: %s",
                                 json_object_get_string(v));
        }
        json_object_put(o);
}

static void check_logfmt(const struct sink *s, const struct expect *e) {
        int n = kv_parse(s->text, s->len - 1, kvs, MAX_KV);
        char seq[24];

        if (n < 0)
                fail_msg("logfmt: not a KEY=value list: %.300s", s->text);
        assert_unique_keys(kvs, n, "logfmt");
        assert_true(n >= 4);
        assert_true(kv_count(kvs, n, "time") == 1 && kvs[0].key_len == 4);
        assert_true(kv_is(kvs, n, "level", level_lower[e->level]));
        assert_true(kv_is(kvs, n, "logger", s->logger));
        assert_true(kv_get(kvs, n, "msg") == &kvs[3]);
        for (int i = 4; i < n; i++)
                assert_field_name(kvs[i].key, kvs[i].key_len, "logfmt");
        assert_true(e->run_cut || kv_is(kvs, n, "RUN", run));
        snprintf(seq, sizeof(seq), "%u", e->seq);
        assert_true(kv_is(kvs, n, "SEQ", seq));
        const struct kv *v = kv_get(kvs, n, "VALUE");
        assert_non_null(v);
        if (e->value_is_bytes)
                check_bytes_b64(v->val, v->len, e, "logfmt");
}

/* The KEY=value tail of a text or RFC 3164 line, from the message on. */
static void check_tail(const struct sink *s, const char *from, const struct expect *e) {
        size_t rest = s->len - 1 - (size_t) (from - s->text);
        long off = after_message(from, rest);
        char seq[24];

        if (off < 0)
                fail_msg("%s: the message does not end: %.300s", s->format, from);
        int n = kv_parse(from + off, rest - (size_t) off, kvs, MAX_KV);
        if (n < 0)
                fail_msg("%s: the fields are not a KEY=value list: %.300s", s->format, from + off);
        assert_unique_keys(kvs, n, s->format);
        for (int i = 0; i < n; i++)
                assert_field_name(kvs[i].key, kvs[i].key_len, s->format);
        assert_true(e->run_cut || kv_is(kvs, n, "RUN", run));
        snprintf(seq, sizeof(seq), "%u", e->seq);
        assert_true(kv_is(kvs, n, "SEQ", seq));
        assert_non_null(kv_get(kvs, n, "VALUE"));
}

static void check_text(const struct sink *s, const struct expect *e) {
        /* "TIME LEVEL logger: message KEY=value …" */
        const char *sp = memchr(s->text, ' ', s->len);
        char head[128];

        assert_non_null(sp);
        int k = snprintf(head, sizeof(head), " %s %s: ", level_upper[e->level], s->logger);
        if (strncmp(sp, head, (size_t) k) != 0)
                fail_msg("text: the line does not start as a record: %.300s", s->text);
        check_tail(s, sp + k, e);
}

static void check_rfc3164(const struct sink *s, const struct expect *e) {
        /* "<PRI>Mmm dd hh:mm:ss TAG[pid]: message KEY=value …" */
        char head[64], tag[64];
        int pri = FACILITY * 8 + e->level;

        int k = snprintf(head, sizeof(head), "<%d>", pri);
        if (strncmp(s->text, head, (size_t) k) != 0)
                fail_msg("rfc3164: PRI is not <%d>: %.300s", pri, s->text);
        int t = snprintf(tag, sizeof(tag), " %s[%d]: ", IDENT, (int) getpid());
        if ((size_t) (k + 15 + t) > s->len || memcmp(s->text + k + 15, tag, (size_t) t) != 0)
                fail_msg("rfc3164: the tag is not %s: %.300s", tag, s->text);
        check_tail(s, s->text + k + 15 + t, e);
}

static void check_rfc5424(const struct sink *s, const struct expect *e) {
        /* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [BOM MSG]" */
        const char *p = s->text, *end = s->text + s->len - 1;
        char head[32], pid[16], seq[16];
        int n = 0, elements = 0;

        int k = snprintf(head, sizeof(head), "<%d>1 ", FACILITY * 8 + e->level);
        if (strncmp(p, head, (size_t) k) != 0)
                fail_msg("rfc5424: PRI is not %s: %.300s", head, s->text);
        const char *tok[5];
        p += k;
        for (int i = 0; i < 5; i++) {
                tok[i] = p;
                p = memchr(p, ' ', (size_t) (end - p));
                assert_non_null(p);
                p++;
        }
        assert_true(strncmp(tok[2], IDENT " ", strlen(IDENT) + 1) == 0);
        snprintf(pid, sizeof(pid), "%d ", (int) getpid());
        assert_true(strncmp(tok[3], pid, strlen(pid)) == 0);
        size_t used = sd_parse(p, (size_t) (end - p), sds, MAX_KV, &n, &elements);
        if (used == 0)
                fail_msg("rfc5424: the structured data does not parse: %.300s", p);
        if (elements != 1)
                fail_msg("rfc5424: %d SD-ELEMENTs: %.300s", elements, p);
        p += used;
        assert_true(p == end || strncmp(p, " \xef\xbb\xbf", 4) == 0);
        bool has_run = false, has_seq = false;
        snprintf(seq, sizeof(seq), "%u", e->seq);
        for (int i = 0; i < n; i++) {
                assert_true(sds[i].elem_len == 11 && memcmp(sds[i].elem, "trail@32473", 11) == 0);
                for (int j = i + 1; j < n; j++)
                        if (sds[i].name_len == sds[j].name_len &&
                            memcmp(sds[i].name, sds[j].name, sds[i].name_len) == 0)
                                fail_msg("rfc5424: SD-PARAM %.*s twice", (int) sds[i].name_len,
                                         sds[i].name);
                if (sds[i].name_len == 3 && memcmp(sds[i].name, "RUN", 3) == 0) {
                        assert_true(sds[i].len == 32 && memcmp(sds[i].val, run, 32) == 0);
                        has_run = true;
                }
                if (sds[i].name_len == 3 && memcmp(sds[i].name, "SEQ", 3) == 0) {
                        assert_true(sds[i].len == strlen(seq) &&
                                    memcmp(sds[i].val, seq, sds[i].len) == 0);
                        has_seq = true;
                }
        }
        assert_true((has_run || e->run_cut) && has_seq);
}

static void check(const struct sink *s, const struct expect *e) {
        assert_one_clean_line(s);
        if (strcmp(s->format, "json") == 0)
                check_json(s, e);
        else if (strcmp(s->format, "logfmt") == 0)
                check_logfmt(s, e);
        else if (strcmp(s->format, "text") == 0)
                check_text(s, e);
        else if (strcmp(s->format, "rfc3164") == 0)
                check_rfc3164(s, e);
        else
                check_rfc5424(s, e);
}

static const char *const formats[] = {"text", "json", "logfmt", "rfc5424", "rfc3164"};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

static int setup(void **state) {
        (void) state;
        unsigned char b[16];
        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
                return -1;
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(run + 2 * i, 3, "%02x", b[i]);
        kvs = calloc(MAX_KV, sizeof(*kvs));
        sds = calloc(MAX_KV, sizeof(*sds));
        if (!kvs || !sds)
                return -1;
        return hostile_setup(run, IDENT, FACILITY);
}

static int teardown(void **state) {
        (void) state;
        free(kvs);
        free(sds);
        trail_shutdown();
        return 0;
}

/* Each value of the corpus, as a byte field, a string field, inside the
 * message, among hostile field names and secrets: one clean record each. */
static void every_hostile_value_is_one_clean_record(void **state) {
        (void) state;
        for (size_t fi = 0; fi < N_FORMATS; fi++) {
                struct sink s;
                sink_open(&s, formats[fi]);
                TRAIL_SCOPE(TRAIL_STR("SESSION_TOKEN", "ctx-tok-9e0b"));
                for (size_t i = 0; i < N_HOSTILE; i++) {
                        const struct hostile *h = &hostile_values[i];
                        int level = (int) (i % 8);
                        size_t slen = strnlen(h->v, h->len);
                        trail_field f[HOSTILE_FIELDS];
                        size_t n = hostile_fields(f, i, "n");

                        /* the value as data, never as the format */
                        trail_log_with(s.lg, level, ((trail_fields){f, n}),
                                       "m:%s pay 4111111111111111 Bearer %s password=%s", h->v,
                                       "eyJhbGciOiJub25lIn0.bearer-e1e1", "msg-pw-6d2e");
                        sink_take(&s);
                        char *m = NULL;
                        if (asprintf(&m, "m:%.*s pay ", (int) slen, h->v) < 0)
                                fail();
                        bool valid = slen == h->len;
                        for (size_t k = 0; valid && k < h->len;)
                                k += (size_t) (test_utf8_len((const unsigned char *) h->v + k,
                                                             h->len - k)
                                                       ?: (valid = false, 1));
                        struct expect e = {level,     (unsigned) i, h->v, h->len, valid ? m : NULL,
                                           strlen(m), true,         false};
                        check(&s, &e);
                        free(m);
                }
                sink_close(&s);
        }
}

/* An identifier taken from argv[0] (the default) is hostile too: a setuid
 * program does not choose its argv[0]. */
static void a_hostile_program_name_forges_nothing(void **state) {
        (void) state;
        char *saved = program_invocation_short_name;
        program_invocation_short_name = (char *) "evil\n<8>1 - - forged[1]: x";
        assert_int_equal(trail_set_ident(NULL), 0);
        for (size_t fi = 0; fi < N_FORMATS; fi++) {
                struct sink s;
                sink_open(&s, formats[fi]);
                trail_notice_with(s.lg, TRAIL_FIELDS(TRAIL_UINT("SEQ", 1)), "argv0");
                sink_take(&s);
                assert_one_clean_line(&s);
                sink_close(&s);
        }
        program_invocation_short_name = saved;
        assert_int_equal(trail_set_ident(IDENT), 0);
}

/* A value of a mebibyte, in a field and in the message, is written whole,
 * on one line. */
static void a_mebibyte_value_is_one_line(void **state) {
        (void) state;
        char *big = big_value(1 << 20, "0123456789abcdef\n");

        for (size_t fi = 0; fi < N_FORMATS; fi++) {
                struct sink s;
                sink_open(&s, formats[fi]);
                trail_info_with(s.lg,
                                TRAIL_FIELDS(TRAIL_UINT("SEQ", 7), TRAIL_STR("BIG", big),
                                             TRAIL_BYTES("VALUE", "v", 1)),
                                "%s", big);
                sink_take(&s);
                assert_one_clean_line(&s);
                assert_true(s.len > 2 * (1 << 20));
                struct expect e = {TRAIL_INFO, 7, "v", 1, NULL, 0, true, false};
                check(&s, &e);
                sink_close(&s);
        }
        free(big);
}

/* 10 000 fields in one record: one line; every field is either in it or
 * counted in fields_dropped, and the record says how many with
 * TRUNCATED_FIELDS. The call's own fields (the last) are kept. */
static void ten_thousand_fields_are_cut_and_counted(void **state) {
        (void) state;
        const size_t n = 10000;
        trail_field *f = calloc(n + 2, sizeof(*f));
        char(*names)[24] = calloc(n, sizeof(*names));

        assert_non_null(f);
        assert_non_null(names);
        for (size_t i = 0; i < n; i++) {
                snprintf(names[i], sizeof(names[i]), "F%zu", i);
                f[i] = TRAIL_UINT(names[i], i);
        }
        f[n] = TRAIL_UINT("SEQ", 9);
        f[n + 1] = TRAIL_BYTES("VALUE", "v", 1);
        for (size_t fi = 0; fi < N_FORMATS; fi++) {
                struct sink s;
                trail_stats before, after;
                sink_open(&s, formats[fi]);
                assert_int_equal(trail_get_stats(&before), 0);
                {
                        TRAIL_SCOPE(TRAIL_STR("SESSION_TOKEN", "ctx-tok-9e0b"));
                        trail_info_with(s.lg, ((trail_fields){f, n + 2}), "many");
                }
                assert_int_equal(trail_get_stats(&after), 0);
                sink_take(&s);
                assert_one_clean_line(&s);
                struct expect e = {TRAIL_INFO, 9, "v", 1, NULL, 0, true, true};
                check(&s, &e);

                /* global (2) + context (1) + call (n + 2) fields went in */
                size_t present = 0;
                uint64_t truncated = 0;
                const char *p = s.text;
                while ((p = strstr(p, strcmp(s.format, "json") == 0 ? "\"F" : " F"))) {
                        p += 2;
                        present += *p >= '0' && *p <= '9';
                }
                for (const char *k = s.text; (k = strstr(k, "TRUNCATED_FIELDS")); k++)
                        truncated = strtoull(k + strlen("TRUNCATED_FIELDS") +
                                                     (strcmp(s.format, "text") &&
                                                                      strcmp(s.format, "logfmt") &&
                                                                      strcmp(s.format, "rfc3164")
                                                              ? 2
                                                              : 1),
                                             NULL, 10);
                bool has_global = strstr(s.text, "API_KEY") != NULL;
                bool has_run = strstr(s.text, run) != NULL;
                bool has_ctx = strstr(s.text, "SESSION_TOKEN") != NULL;
                size_t cut = n + 5 - (present + 2 + has_global + has_run + has_ctx);
                if (truncated != cut)
                        fail_msg("%s: %zu fields left out, TRUNCATED_FIELDS=%llu", s.format, cut,
                                 (unsigned long long) truncated);
                assert_int_equal(after.fields_dropped - before.fields_dropped, cut);
                assert_true(cut > 0);
                assert_non_null(strstr(s.text, "F9999"));
                sink_close(&s);
        }
        free(f);
        free(names);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_hostile_value_is_one_clean_record),
                cmocka_unit_test(a_hostile_program_name_forges_nothing),
                cmocka_unit_test(a_mebibyte_value_is_one_line),
                cmocka_unit_test(ten_thousand_fields_are_cut_and_counted),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
