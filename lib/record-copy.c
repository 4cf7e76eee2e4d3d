/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A record copied into memory a handler owns, and rebuilt from it later: the
 * async handler's queue slots and the memory handler's ring hold records in
 * this one form (a header, "MESSAGE=" and the message, then per field a
 * header, its name and, for strings and bytes, its value). */

#include <string.h>

#include "handler-private.h"

struct qrecord {
        const struct trail_logger *logger; /* loggers live for the process */
        const char *logger_field;          /* in the logger */
        /* static at the call site; NULL: a borrowed location, copied by
         * source_copy_put() after the message */
        const trail_source *src;
        struct timespec time;
        int32_t level, errnum, tid;
        uint32_t message_len, n_fields, logger_field_len;
        uint32_t flags; /* QRECORD_* */
};
enum { QRECORD_DEFERRED = 1 << 0, QRECORD_HELD = 1 << 1 };

struct qfield {
        uint32_t name_len;
        int32_t type;
        uint64_t len;
        union {
                int64_t i;
                uint64_t u;
                double d;
                bool b;
        } v;
};

static bool has_bytes(int type) {
        return type == TRAIL_FIELD_STR || type == TRAIL_FIELD_BYTES;
}

static size_t qfield_size(const struct rfield *f) {
        return sizeof(struct qfield) + f->name_len + (has_bytes(f->type) ? f->len : 0);
}

/* Each field takes at least its header in the copy (a name is never
 * empty, but the bound does not depend on it). */
size_t record_copy_fields_max(size_t bytes) {
        size_t n = bytes / sizeof(struct qfield);
        return n < RECORD_FIELDS_MAX ? n : RECORD_FIELDS_MAX;
}

/* When r does not fit in max bytes, the message is cut first (down to a
 * quarter of the room), then the fields of lowest precedence (global, then
 * outer context) are left out, then the message is cut further.
 * TRUNCATED_FIELDS (record_truncated()) is never left out: the fields cut
 * here are added to it, or it is added. */
size_t record_copy_plan(const struct trail_record *r, size_t max, struct record_copy_plan *p) {
        /* a borrowed location (trail_log_with_location()) travels with the
         * copy, its names cut to an eighth of the room each */
        p->name_max = max / 8;
        p->src_size = r->src_borrowed ? source_copy_size(r->src, p->name_max) : 0;
        max -= p->src_size;
        const struct rfield *tf = record_truncated(r);
        size_t size, message_len = r->message_len, first = 0;
        size_t n_fields = r->n_fields - (tf != NULL);

        p->tf = (struct rfield){.name = "TRUNCATED_FIELDS",
                                .name_len = STRLEN("TRUNCATED_FIELDS"),
                                .type = TRAIL_FIELD_UINT,
                                .v.u = tf ? tf->v.u : 0};
        size = sizeof(struct qrecord) + STRLEN("MESSAGE=") + message_len + qfield_size(&p->tf);
        for (size_t i = 0; i < n_fields; i++)
                size += qfield_size(&r->fields[i]);
        if (_unlikely_(size > max)) {
                size_t keep_msg = message_len < max / 4 ? message_len : max / 4;
                size_t cut =
                        size - max < message_len - keep_msg ? size - max : message_len - keep_msg;
                message_len -= cut;
                size -= cut;
                while (size > max && first < n_fields)
                        size -= qfield_size(&r->fields[first++]);
                if (first > 0)
                        __atomic_add_fetch(&trail_stat_fields_dropped, first, __ATOMIC_RELAXED);
                if (size > max) {
                        message_len -= size - max;
                        size = max;
                }
                if (message_len < r->message_len)
                        atomic_inc(&trail_stat_truncated);
                /* not inside a UTF-8 sequence */
                while (message_len > 0 &&
                       ((unsigned char) r->message[message_len] & 0xc0) == 0x80) {
                        message_len--;
                        size--;
                }
        }
        p->tf.v.u += first;
        p->n_fields = n_fields;
        p->first = first;
        p->message_len = message_len;
        p->size = size + p->src_size;
        return p->size;
}

static void copy_put(struct record_copy_writer *w, const void *src, size_t n) {
        const unsigned char *b = src;

        while (n > 0) {
                size_t k = w->chunk - w->off < n ? w->chunk - w->off : n;
                memcpy(w->base + (w->pos & w->mask) * w->stride + w->off, b, k);
                b += k;
                n -= k;
                w->off += k;
                if (w->off == w->chunk) {
                        w->pos++;
                        w->off = 0;
                }
        }
}

static void copy_put_any(void *w, const void *src, size_t n) {
        copy_put(w, src, n);
}

void record_copy_write(struct record_copy_writer *w, const struct trail_record *r,
                       const struct record_copy_plan *p) {
        bool with_tf = p->tf.v.u > 0;
        struct qrecord q = {
                .logger = r->logger,
                .logger_field = r->logger_field,
                .logger_field_len = (uint32_t) r->logger_field_len,
                .src = r->src_borrowed ? NULL : r->src,
                .time = r->time,
                .level = r->level,
                .errnum = r->errnum,
                .tid = r->tid,
                .message_len = (uint32_t) p->message_len,
                .n_fields = (uint32_t) (p->n_fields - p->first + with_tf),
                .flags = (r->deferred ? QRECORD_DEFERRED : 0) | (r->held ? QRECORD_HELD : 0),
        };

        copy_put(w, &q, sizeof(q));
        copy_put(w, r->message - STRLEN("MESSAGE="), STRLEN("MESSAGE=") + p->message_len);
        if (!q.src)
                source_copy_put(r->src, p->name_max, copy_put_any, w);
        for (size_t i = p->first; i < p->n_fields + with_tf; i++) {
                const struct rfield *f = i < p->n_fields ? &r->fields[i] : &p->tf;
                struct qfield qf = {.name_len = f->name_len, .type = f->type, .len = f->len};
                if (!has_bytes(f->type))
                        memcpy(&qf.v, &f->v, sizeof(qf.v));
                copy_put(w, &qf, sizeof(qf));
                copy_put(w, f->name, f->name_len);
                if (has_bytes(f->type))
                        copy_put(w, f->v.p, f->len);
        }
}

void record_copy_rebuild(const void *copy, struct rfield *fields, trail_source *src,
                         struct trail_record *ret) {
        const unsigned char *p = copy;
        struct qrecord q;

        memcpy(&q, p, sizeof(q));
        p += sizeof(q);
        *ret = (struct trail_record){
                .level = q.level,
                .logger = q.logger,
                .logger_field = q.logger_field,
                .logger_field_len = q.logger_field_len,
                .src = q.src,
                .errnum = q.errnum,
                .message = (const char *) p + STRLEN("MESSAGE="),
                .message_len = q.message_len,
                .fields = fields,
                .n_fields = q.n_fields,
                .tid = q.tid,
                .time = q.time,
                .deferred = q.flags & QRECORD_DEFERRED,
                .held = q.flags & QRECORD_HELD,
        };
        p += STRLEN("MESSAGE=") + q.message_len;
        if (!q.src)
                p = source_copy_get(src, p), ret->src = src;
        for (uint32_t i = 0; i < q.n_fields; i++) {
                struct rfield *f = &fields[i];
                struct qfield qf;

                memcpy(&qf, p, sizeof(qf));
                p += sizeof(qf);
                *f = (struct rfield){.name = (const char *) p,
                                     .name_len = qf.name_len,
                                     .type = qf.type,
                                     .len = (size_t) qf.len};
                p += qf.name_len;
                if (has_bytes(qf.type)) {
                        f->v.p = p;
                        p += qf.len;
                } else
                        memcpy(&f->v, &qf.v, sizeof(qf.v));
        }
}
