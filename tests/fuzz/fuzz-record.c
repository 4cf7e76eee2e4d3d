/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: building a record (record.c, context.c) through the public
 * API, read back from a capture handler. Arbitrary message bytes (NULs
 * included) and fields of every type and layer (global, context, call) go
 * in; the oracle is a model written here from trail.h and trail_fields(3):
 * exactly one record comes out, with the level, logger, call site and
 * message bytes given, and exactly the fields the model predicts (names
 * normalised, empty names dropped and counted, a call field over a context
 * one over a global one, in the place of the first), each value intact. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-input.h"

#define RECORD_FIELDS_CAP 1005 /* record-private.h: RECORD_FIELDS_MAX - RECORD_EXTRA_FIELDS */

static trail_handler *capture;
static trail_logger *lg;

struct expect_field {
        char name[REF_NAME_MAX + 1];
        size_t name_len;
        const struct fuzz_field *src;
};

static void setup(void) {
        static const char *const none[] = {NULL};

        if (capture)
                return;
        capture = trail_handler_capture();
        lg = trail_get("fuzz.record");
        if (!capture || !lg || trail_logger_add_handler(lg, capture) < 0 ||
            trail_logger_set_propagate(lg, false) < 0 ||
            trail_logger_set_level(lg, TRAIL_DEBUG) < 0)
                abort();
        /* the values must come back as given: no redaction, no scrubbing */
        if (trail_set_redact_fields(none) < 0 || trail_set_scrub(false) < 0)
                abort();
}

static void expect_add(struct expect_field *e, size_t *n, const struct fuzz_field *f,
                       const char *name, size_t name_len) {
        for (size_t i = 0; i < *n; i++)
                if (e[i].name_len == name_len && memcmp(e[i].name, name, name_len) == 0) {
                        e[i].src = f; /* replaced in place */
                        return;
                }
        memcpy(e[*n].name, name, name_len + 1);
        e[*n].name_len = name_len;
        e[*n].src = f;
        (*n)++;
}

static void check_value(const trail_field_view *v, const struct fuzz_field *f) {
        const trail_field *in = &f->f;

        FUZZ_CHECK(v->type == in->type, "%.*s: type %d, want %d", (int) v->name_len, v->name,
                   v->type, in->type);
        switch (in->type) {
        case TRAIL_FIELD_STR:
                FUZZ_CHECK(v->len == strlen(in->value.s) &&
                                   memcmp(v->value.s, in->value.s, v->len) == 0,
                           "%.*s: string value differs", (int) v->name_len, v->name);
                break;
        case TRAIL_FIELD_BYTES:
                FUZZ_CHECK(v->len == in->len &&
                                   (v->len == 0 || memcmp(v->value.p, in->value.p, v->len) == 0),
                           "%.*s: bytes differ", (int) v->name_len, v->name);
                break;
        case TRAIL_FIELD_DOUBLE:
                FUZZ_CHECK(memcmp(&v->value.d, &in->value.d, sizeof(double)) == 0,
                           "%.*s: double differs", (int) v->name_len, v->name);
                break;
        case TRAIL_FIELD_BOOL:
                FUZZ_CHECK(v->value.b == in->value.b, "%.*s: bool", (int) v->name_len, v->name);
                break;
        case TRAIL_FIELD_ERRNO: {
                /* the magnitude: TRAIL_ERRNO(-e) and TRAIL_ERRNO(e) are one
                 * errno; an errno is an int, so beyond that INT_MAX */
                uint64_t mag =
                        in->value.i < 0 ? 0 - (uint64_t) in->value.i : (uint64_t) in->value.i;
                if (mag > INT_MAX)
                        mag = INT_MAX;
                FUZZ_CHECK(v->value.i >= 0 && (uint64_t) v->value.i == mag,
                           "%.*s: errno %lld from %lld", (int) v->name_len, v->name,
                           (long long) v->value.i, (long long) in->value.i);
                break;
        }
        default:
                FUZZ_CHECK(v->value.u == in->value.u, "%.*s: %llu, want %llu", (int) v->name_len,
                           v->name, (unsigned long long) v->value.u,
                           (unsigned long long) in->value.u);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_parts parts;
        struct fuzz_message msg;
        struct fuzz_field *ff;
        size_t nf;
        int level;

        setup();
        fuzz_split(data, size, &parts);
        if (parts.n < 2) {
                free(parts.v);
                return 0;
        }
        level = fuzz_byte(parts.v[0], 0) & 7;
        fuzz_message(parts.v[1], &msg);
        nf = fuzz_fields(&parts, 2, false, &ff);

        /* The three layers, as the API gets them. */
        trail_field *global = calloc(nf + 1, sizeof(*global)),
                    *call = calloc(nf + 1, sizeof(*call));
        struct expect_field *expect = calloc(nf + 1, sizeof(*expect));
        const struct fuzz_field **seq = calloc(nf + 1, sizeof(*seq));
        int *tokens = calloc(nf + 1, sizeof(*tokens));
        size_t n_global = 0, n_call = 0, n_seq = 0, n_ctx = 0, n_expect = 0, dropped = 0;
        bool global_ok = true;
        if (!global || !call || !expect || !seq || !tokens)
                abort();
        for (size_t i = 0; i < nf; i++)
                if (ff[i].layer == LAYER_GLOBAL)
                        global[n_global++] = ff[i].f;
                else if (ff[i].layer == LAYER_CALL)
                        call[n_call++] = ff[i].f;

        /* Global fields: all or nothing; an unusable name or type refuses the set. */
        char nm[REF_NAME_MAX + 1];
        for (size_t i = 0; i < nf; i++)
                if (ff[i].layer == LAYER_GLOBAL &&
                    (ff[i].invalid_type || !ref_normalise(ff[i].name, nm)))
                        global_ok = false;
        int r = trail_set_global_fields((trail_fields){global, n_global});
        FUZZ_CHECK(global_ok ? r == 0 : r == -EINVAL, "set_global_fields: %d", r);
        if (global_ok)
                for (size_t i = 0; i < nf; i++)
                        if (ff[i].layer == LAYER_GLOBAL)
                                seq[n_seq++] = &ff[i];

        /* Context: one push per field, outermost first; a refused push leaves nothing. */
        for (size_t i = 0; i < nf; i++) {
                if (ff[i].layer != LAYER_CONTEXT)
                        continue;
                bool ok = !ff[i].invalid_type && ref_normalise(ff[i].name, nm) > 0;
                int t = trail_context_push((trail_fields){&ff[i].f, 1});
                FUZZ_CHECK(ok ? t >= 0 : t == -EINVAL, "context push of \"%s\": %d", ff[i].name, t);
                if (t >= 0) {
                        tokens[n_ctx++] = t;
                        seq[n_seq++] = &ff[i];
                }
        }

        /* Call fields: unusable names and types are dropped and counted. */
        size_t total = n_seq + n_call,
               skip = total > RECORD_FIELDS_CAP ? total - RECORD_FIELDS_CAP : 0;
        for (size_t i = 0; i < nf; i++) {
                if (ff[i].layer != LAYER_CALL)
                        continue;
                if (ff[i].invalid_type || !ref_normalise(ff[i].name, nm))
                        dropped++;
                else
                        seq[n_seq++] = &ff[i];
        }
        /* Past the cap, the fields of lowest precedence are left out. */
        dropped += skip < n_seq ? skip : n_seq;
        for (size_t i = skip; i < n_seq; i++) {
                size_t len = ref_normalise(seq[i]->name, nm);
                expect_add(expect, &n_expect, seq[i], nm, len);
        }

        trail_stats before, after;
        FUZZ_CHECK(trail_get_stats(&before) == 0, "stats");
        r = FUZZ_LOG(lg, level, ((trail_fields){call, n_call}), &msg);
        FUZZ_CHECK(r == 0, "log: %d", r);
        FUZZ_CHECK(trail_get_stats(&after) == 0, "stats");

        /* Exactly one record, and it is the one logged. */
        FUZZ_CHECK(trail_capture_count(capture) == 1, "%zu records", trail_capture_count(capture));
        const trail_record *rec = trail_capture_get(capture, 0);
        size_t mlen;
        const char *m = trail_record_message(rec, &mlen);
        FUZZ_CHECK(mlen == msg.expect.n && memcmp(m, msg.expect.p, mlen) == 0 && m[mlen] == '\0',
                   "message differs (%zu bytes, want %zu)", mlen, msg.expect.n);
        FUZZ_CHECK(trail_record_level(rec) == level, "level");
        FUZZ_CHECK(strcmp(trail_record_logger(rec), "fuzz.record") == 0, "logger");
        const char *file, *func;
        int line;
        FUZZ_CHECK(trail_record_source(rec, &file, &line, &func) == 0 &&
                           strstr(file, "fuzz-record.c") &&
                           strcmp(func, "LLVMFuzzerTestOneInput") == 0 && line > 0,
                   "source");
        FUZZ_CHECK(after.fields_dropped - before.fields_dropped == dropped,
                   "%llu fields dropped, want %zu",
                   (unsigned long long) (after.fields_dropped - before.fields_dropped), dropped);

        /* Past the cap, the record ends with TRUNCATED_FIELDS=<fields left out>. */
        size_t cut = skip < n_seq ? skip : n_seq;
        FUZZ_CHECK(trail_record_n_fields(rec) == n_expect + (cut > 0), "%zu fields, want %zu",
                   trail_record_n_fields(rec), n_expect + (cut > 0));
        if (cut > 0) {
                trail_field_view tv = record_field_at(rec, n_expect);
                FUZZ_CHECK(tv.name_len == 16 && memcmp(tv.name, "TRUNCATED_FIELDS", 16) == 0 &&
                                   tv.type == TRAIL_FIELD_UINT && tv.value.u == cut,
                           "TRUNCATED_FIELDS=%llu, want %zu", (unsigned long long) tv.value.u, cut);
        }
        for (size_t i = 0; i < n_expect; i++) {
                trail_field_view v = record_field_at(rec, i), found;
                FUZZ_CHECK(v.name_len == expect[i].name_len &&
                                   memcmp(v.name, expect[i].name, v.name_len) == 0,
                           "field %zu is \"%.*s\", want \"%s\"", i, (int) v.name_len, v.name,
                           expect[i].name);
                check_value(&v, expect[i].src);
                FUZZ_CHECK(trail_record_find(rec, expect[i].name, &found) == 0 &&
                                   found.name == v.name,
                           "find %s", expect[i].name);
        }

        trail_capture_clear(capture);
        if (n_ctx > 0)
                trail_context_pop(tokens[0]);
        trail_set_global_fields(TRAIL_NO_FIELDS);
        free(global);
        free(call);
        free(expect);
        free(seq);
        free(tokens);
        fuzz_fields_free(ff, nf);
        fuzz_message_free(&msg);
        free(parts.v);
        return 0;
}
