/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Redaction judges every name a field goes by (trail_set_redact_fields(3)):
 * generated names (redact-gen.h) that end in a listed name are given as call,
 * context (also captured and restored) and global fields, and each record is
 * rendered by every formatter; no rendering may hold the value. The real journald:
 * test-redact-journald.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "redact-gen.h"
#include "trail.h"

static const char *const formats[] = {"text", "json", "logfmt", "rfc5424", "rfc3164"};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

enum path { PATH_CALL, PATH_CONTEXT, PATH_GLOBAL, PATH_CAPTURED, N_PATHS };
static const char *const path_names[] = {"call", "context", "global", "captured context"};

struct check {
        trail_formatter *f[N_FORMATS];
        char buf[1 << 16];
        const char *name; /* the generated name of the record, for messages */
        enum path path;
        bool visible;   /* gen_visible: the value must be there */
        size_t records; /* seen by the filter */
        size_t failures;
};

static bool field_has(const trail_record *r, const char *value) {
        for (size_t i = 0; i < trail_record_n_fields(r); i++) {
                trail_field_view v;
                if (trail_record_field(r, i, &v) < 0)
                        continue;
                if ((v.type == TRAIL_FIELD_STR || v.type == TRAIL_FIELD_BYTES) &&
                    v.len == strlen(value) && memcmp(v.value.s, value, v.len) == 0)
                        return true;
        }
        return false;
}

static void report(struct check *c, const char *where, const char *what) {
        if (c->failures++ < 20)
                fprintf(stderr, "%s field '%s' (%zu bytes), %s: %s\n", path_names[c->path], c->name,
                        strlen(c->name), where, what);
}

/* Sees each record before any handler: renders it with every formatter. */
static bool check_filter(const trail_record *r, void *userdata) {
        struct check *c = userdata;
        const char *want = c->visible ? GEN_VISIBLE_VALUE : "****";

        c->records++;
        if (field_has(r, GEN_SECRET) && !c->visible)
                report(c, "record", "the value in clear");
        if (!field_has(r, want))
                report(c, "record", c->visible ? "the value masked" : "no masked field");
        for (size_t i = 0; i < N_FORMATS; i++) {
                int n = trail_formatter_format(c->f[i], r, c->buf, sizeof(c->buf));
                if (n < 0 || (size_t) n >= sizeof(c->buf)) {
                        report(c, formats[i], "not rendered");
                        continue;
                }
                if (!c->visible && strstr(c->buf, GEN_SECRET))
                        report(c, formats[i], c->buf);
                if (!strstr(c->buf, want))
                        report(c, formats[i], c->buf);
        }
        return false; /* checked: no handler needed */
}

/* One record with the field name=value given through path. */
static void log_through(trail_logger *lg, struct check *c, enum path path, const char *name,
                        bool bytes, const char *value) {
        trail_field f = bytes ? TRAIL_BYTES(name, value, strlen(value)) : TRAIL_STR(name, value);
        trail_fields one = {&f, 1};
        size_t before = c->records;

        c->name = name;
        c->path = path;
        switch (path) {
        case PATH_CALL:
                trail_info_with(lg, one, "generated");
                break;
        case PATH_CONTEXT: {
                int token = trail_context_push(one);
                assert_true(token >= 0);
                trail_info(lg, "generated");
                trail_context_pop(token);
                break;
        }
        case PATH_CAPTURED: { /* trail_context_capture(), then restored */
                int token = trail_context_push(one);
                assert_true(token >= 0);
                trail_context *cx = trail_context_capture();
                assert_non_null(cx);
                trail_context_pop(token);
                token = trail_context_restore(cx);
                assert_true(token >= 0);
                trail_info(lg, "generated");
                trail_context_pop(token);
                trail_context_free(cx);
                break;
        }
        default:
                assert_int_equal(trail_set_global_fields(one), 0);
                trail_info(lg, "generated");
                assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
                break;
        }
        if (c->records != before + 1)
                report(c, "logger", "no record");
}

static void every_name_ending_in_a_listed_name_is_masked_in_every_format(void **state) {
        (void) state;
        static struct check c;
        trail_logger *lg = trail_get("redact.names");
        char name[512];
        size_t names = 0;

        for (size_t i = 0; i < N_FORMATS; i++)
                assert_non_null(c.f[i] = trail_formatter_new(formats[i]));
        gen_add_custom_names();
        assert_int_equal(trail_logger_add_filter(lg, check_filter, &c), 0);
        for (size_t l = 0; l < GEN_N_LISTED; l++)
                for (size_t k = 0; k < GEN_N_KINDS; k++)
                        for (size_t n = 0; n < GEN_N_LENGTHS; n++) {
                                if (!gen_name(l, k, n, name))
                                        continue;
                                names++;
                                for (int p = 0; p < N_PATHS; p++)
                                        log_through(lg, &c, (enum path) p, name,
                                                    (names + (size_t) p) % 2, GEN_SECRET);
                        }
        c.visible = true;
        for (size_t v = 0; v < sizeof(gen_visible) / sizeof(gen_visible[0]); v++)
                for (int p = 0; p < N_PATHS; p++)
                        log_through(lg, &c, (enum path) p, gen_visible[v], false,
                                    GEN_VISIBLE_VALUE);
        trail_logger_remove_filter(lg, check_filter, &c);
        for (size_t i = 0; i < N_FORMATS; i++)
                trail_formatter_unref(c.f[i]);
        fprintf(stderr, "%zu names, %zu records\n", names, c.records);
        assert_true(names > 5000);
        if (c.failures > 0)
                fail_msg("%zu failures", c.failures);
        assert_int_equal(trail_set_redact_fields(NULL), 0);
}

/* The list in force when a record is built judges the names of context and
 * global fields set before it changed, over-long ones included. */
static void a_name_added_later_masks_fields_set_before(void **state) {
        (void) state;
        static struct check c;
        trail_logger *lg = trail_get("redact.later");
        static const char *const names[] = {
                "x_pin_code",
                "1234567890123456789012345678901234567890123456789012345_pin_code",
                "tenant.billing.region.eu-west.cluster.primary.replica.seven.pin-code",
        };

        for (size_t i = 0; i < N_FORMATS; i++)
                assert_non_null(c.f[i] = trail_formatter_new(formats[i]));
        assert_int_equal(trail_logger_add_filter(lg, check_filter, &c), 0);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                trail_field f = TRAIL_STR(names[i], GEN_SECRET);
                trail_fields one = {&f, 1};

                assert_int_equal(trail_set_redact_fields(NULL), 0);
                assert_int_equal(trail_set_global_fields(one), 0);
                int token = trail_context_push(one);
                assert_true(token >= 0);
                assert_int_equal(trail_add_redact_field("PIN_CODE"), 0);
                c.name = names[i];
                c.path = PATH_CONTEXT;
                trail_info(lg, "context");
                trail_context_pop(token);
                c.path = PATH_GLOBAL;
                trail_info(lg, "global");
                assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
        }
        trail_logger_remove_filter(lg, check_filter, &c);
        for (size_t i = 0; i < N_FORMATS; i++)
                trail_formatter_unref(c.f[i]);
        assert_int_equal(c.records, 2 * sizeof(names) / sizeof(names[0]));
        if (c.failures > 0)
                fail_msg("%zu failures", c.failures);
        assert_int_equal(trail_set_redact_fields(NULL), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_name_ending_in_a_listed_name_is_masked_in_every_format),
                cmocka_unit_test(a_name_added_later_masks_fields_set_before),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
