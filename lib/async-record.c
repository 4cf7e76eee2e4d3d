/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The async handler's records in its ring (handler-async.c): how much room
 * a record takes, cut to fit, and the record rebuilt from its copy. */

#include <string.h>

#include "handler-private.h"

static size_t qfield_size(const struct rfield *f) {
        size_t n = sizeof(struct qfield) + f->name_len;
        if (f->type == TRAIL_FIELD_STR || f->type == TRAIL_FIELD_BYTES)
                n += f->len;
        return n;
}

size_t async_record_fit(const struct trail_record *r, size_t max, size_t n_fields,
                        const struct rfield *tf_new, size_t *ret_message_len, size_t *ret_first) {
        size_t size, message_len = r->message_len, first = 0;

        size = sizeof(struct qrecord) + STRLEN("MESSAGE=") + message_len + qfield_size(tf_new);
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
        *ret_message_len = message_len;
        *ret_first = first;
        return size;
}

uint32_t async_record_rebuild(const unsigned char *p, struct rfield *fields,
                              struct trail_record *r) {
        struct qrecord q;

        memcpy(&q, p, sizeof(q));
        p += sizeof(q);
        *r = (struct trail_record){
                .level = q.level,
                .logger = q.logger,
                .src = q.src,
                .errnum = q.errnum,
                .message = (const char *) p + STRLEN("MESSAGE="),
                .message_len = q.message_len,
                .fields = fields,
                .n_fields = q.n_fields,
                .tid = q.tid,
                .time = q.time,
                .deferred = true,
        };
        p += STRLEN("MESSAGE=") + q.message_len;
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
                if (qf.type == TRAIL_FIELD_STR || qf.type == TRAIL_FIELD_BYTES) {
                        f->v.p = p;
                        p += qf.len;
                } else
                        memcpy(&f->v, &qf.v, sizeof(qf.v));
        }
        return q.n_fields;
}
