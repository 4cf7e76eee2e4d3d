/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Correlation: a W3C traceparent header pushed as TRACE_ID, SPAN_ID and
 * TRACE_FLAGS context fields, and the thread's context captured into an
 * object that another thread or a later callback restores (Python's
 * contextvars.copy_context() and Context.run()). */

#include <string.h>

#include "pipeline-private.h"

static bool lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool all_zero(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] != '0')
                        return false;
        return true;
}

/* W3C Trace Context §3.2: version "-" trace-id "-" parent-id "-" flags,
 * lowercase hex only. Version ff is invalid; version 00 is exactly 55
 * characters; a later version may append "-…" fields, which are ignored. */
_public_ int trail_context_push_traceparent(const char *header) {
        char trace[33], span[17], flags[3];
        size_t n;

        if (!header)
                return -EINVAL;
        n = strnlen(header, 56);
        if (n < 55)
                return -EINVAL;
        if (!lower_hex(header, 2) || memcmp(header, "ff", 2) == 0)
                return -EINVAL;
        if (memcmp(header, "00", 2) == 0 ? n != 55 : (n > 55 && header[55] != '-'))
                return -EINVAL;
        if (header[2] != '-' || header[35] != '-' || header[52] != '-')
                return -EINVAL;
        if (!lower_hex(header + 3, 32) || all_zero(header + 3, 32))
                return -EINVAL;
        if (!lower_hex(header + 36, 16) || all_zero(header + 36, 16))
                return -EINVAL;
        if (!lower_hex(header + 53, 2))
                return -EINVAL;

        memcpy(trace, header + 3, 32);
        trace[32] = '\0';
        memcpy(span, header + 36, 16);
        span[16] = '\0';
        memcpy(flags, header + 53, 2);
        flags[2] = '\0';
        return trail_context_push(TRAIL_FIELDS(TRAIL_STR("TRACE_ID", trace),
                                               TRAIL_STR("SPAN_ID", span),
                                               TRAIL_STR("TRACE_FLAGS", flags)));
}

/* The captured fields as trail_field values whose names and values point
 * into the same allocation, NUL-terminated, ready for trail_context_push(). */
struct trail_context {
        size_t n;
        trail_field *fields;
};

_public_ trail_context *trail_context_capture(void) {
        struct tls_state *t = tls_state_peek();
        const struct field_store *s = t ? &t->context : NULL;
        size_t n = s ? s->n : 0, bytes = 0;
        trail_context *c;
        char *p;

        for (size_t i = 0; i < n; i++)
                bytes += s->f[i].name_len + 1 + s->f[i].len + 1 + strlen(redact_mask_value) + 1;
        c = malloc(sizeof(*c) + n * sizeof(trail_field) + bytes);
        if (!c) {
                errno = ENOMEM;
                return NULL;
        }
        c->n = n;
        c->fields = (trail_field *) (c + 1);
        p = (char *) (c->fields + n);
        for (size_t i = 0; i < n; i++) {
                const struct stored_field *sf = &s->f[i];
                trail_field *f = &c->fields[i];

                *f = (trail_field){.name = p, .type = sf->type};
                memcpy(p, s->arena + sf->name_off, sf->name_len);
                p[sf->name_len] = '\0';
                p += sf->name_len + 1;
                if (sf->given_len > 0 &&
                    redact_given_is_secret(s->arena + sf->given_off, sf->given_len)) {
                        /* the copy carries the normalised name only, which
                         * may no longer show what the given name did: the
                         * value is masked now, with the list in force */
                        f->type = TRAIL_FIELD_STR;
                        f->len = strlen(redact_mask_value);
                        f->value.s = memcpy(p, redact_mask_value, f->len + 1);
                        p += f->len + 1;
                } else if (sf->type == TRAIL_FIELD_STR || sf->type == TRAIL_FIELD_BYTES) {
                        if (sf->len)
                                memcpy(p, s->arena + sf->off, sf->len);
                        p[sf->len] = '\0';
                        f->value.p = p;
                        f->len = sf->len;
                        p += sf->len + 1;
                } else if (sf->type == TRAIL_FIELD_DOUBLE)
                        f->value.d = sf->v.d;
                else if (sf->type == TRAIL_FIELD_BOOL)
                        f->value.b = sf->v.b;
                else
                        f->value.i = sf->v.i;
        }
        return c;
}

_public_ int trail_context_restore(const trail_context *c) {
        if (!c)
                return -EINVAL;
        return trail_context_push((trail_fields){c->fields, c->n});
}

_public_ trail_context *trail_context_free(trail_context *c) {
        free(c);
        return NULL;
}
