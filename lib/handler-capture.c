/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The capture handler, for users' unit tests: a copy of every record it
 * handles (level, logger, message, fields, source, time, thread) kept in
 * memory until cleared, readable with the ordinary record accessors. */

#include <string.h>

#include "handler-private.h"

struct capture_handler {
        trail_handler base;
        pthread_mutex_t lock;
        struct trail_record **records; /* each one allocation: record, fields, bytes */
        size_t n, cap;
};

static const struct handler_ops capture_ops;

static struct capture_handler *capture_of(trail_handler *h) {
        return h && h->ops == &capture_ops ? (struct capture_handler *) h : NULL;
}

static void put_bytes(void *w, const void *p, size_t n) {
        char **at = w;
        memcpy(*at, p, n);
        *at += n;
}

/* One allocation holds the record, its fields, and the bytes of the
 * message, names and string values. */
static struct trail_record *record_copy(const struct trail_record *r) {
        size_t bytes = r->message_len + 1, off;
        struct trail_record *c;
        struct rfield *f;
        char *p;

        for (size_t i = 0; i < r->n_fields; i++) {
                bytes += r->fields[i].name_len;
                if (r->fields[i].type == TRAIL_FIELD_STR || r->fields[i].type == TRAIL_FIELD_BYTES)
                        bytes += r->fields[i].len;
        }
        /* a location that lived only during the call: a copy of it too */
        if (r->src_borrowed)
                bytes += sizeof(trail_source) + source_copy_size(r->src, SIZE_MAX);
        off = sizeof(*c) + r->n_fields * sizeof(*f);
        c = malloc(off + bytes);
        if (!c)
                return NULL;
        f = (struct rfield *) (c + 1);
        p = (char *) c + off;

        *c = *r;
        if (r->src_borrowed) {
                trail_source *src = (trail_source *) (void *) p;
                char *w = p + sizeof(*src);
                source_copy_put(r->src, SIZE_MAX, put_bytes, &w);
                p = (char *) source_copy_get(src, p + sizeof(*src));
                c->src = src;
                c->src_borrowed = false;
        }
        memcpy(p, r->message, r->message_len);
        p[r->message_len] = '\0';
        c->message = p;
        p += r->message_len + 1;
        for (size_t i = 0; i < r->n_fields; i++) {
                f[i] = r->fields[i];
                memcpy(p, r->fields[i].name, r->fields[i].name_len);
                f[i].name = p;
                p += r->fields[i].name_len;
                if (f[i].type == TRAIL_FIELD_STR || f[i].type == TRAIL_FIELD_BYTES) {
                        if (f[i].len)
                                memcpy(p, r->fields[i].v.p, f[i].len);
                        f[i].v.p = p;
                        p += f[i].len;
                }
        }
        c->fields = f;
        return c;
}

static int capture_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct capture_handler *c = (struct capture_handler *) h;
        struct trail_record *copy;
        int k = 0;

        (void) fell_back;
        copy = record_copy(r);
        if (!copy)
                return -ENOMEM;
        pthread_mutex_lock(&c->lock);
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                struct trail_record **p = realloc(c->records, cap * sizeof(*p));
                if (p) {
                        c->records = p;
                        c->cap = cap;
                } else
                        k = -ENOMEM;
        }
        if (k == 0)
                c->records[c->n++] = copy;
        pthread_mutex_unlock(&c->lock);
        if (k < 0)
                free(copy);
        return k;
}

static void capture_clear_locked(struct capture_handler *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->records[i]);
        c->n = 0;
}

static void capture_free(trail_handler *h) {
        struct capture_handler *c = (struct capture_handler *) h;

        capture_clear_locked(c);
        free(c->records);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

/* fork(): the list is changed only under the lock, which is held briefly. */
static void capture_fork_prepare(trail_handler *h) {
        pthread_mutex_lock(&((struct capture_handler *) h)->lock);
}

static void capture_fork_release(trail_handler *h) {
        pthread_mutex_unlock(&((struct capture_handler *) h)->lock);
}

static const struct handler_ops capture_ops = {
        .type = "capture",
        .emit = capture_emit,
        .free = capture_free,
        .fork_prepare = capture_fork_prepare,
        .fork_parent = capture_fork_release,
        .fork_child = capture_fork_release,
};

_public_ trail_handler *trail_handler_capture(void) {
        struct capture_handler *c = calloc(1, sizeof(*c));
        int r;

        if (!c) {
                errno = ENOMEM;
                return NULL;
        }
        pthread_mutex_init(&c->lock, NULL);
        r = handler_init(&c->base, &capture_ops);
        if (r < 0) {
                trail_handler_unref(&c->base);
                errno = -r;
                return NULL;
        }
        handler_fork_track(&c->base);
        return &c->base;
}

_public_ size_t trail_capture_count(trail_handler *h) {
        struct capture_handler *c = capture_of(h);
        size_t n;

        if (!c)
                return 0;
        pthread_mutex_lock(&c->lock);
        n = c->n;
        pthread_mutex_unlock(&c->lock);
        return n;
}

_public_ const trail_record *trail_capture_get(trail_handler *h, size_t i) {
        struct capture_handler *c = capture_of(h);
        const trail_record *r = NULL;

        if (!c)
                return NULL;
        pthread_mutex_lock(&c->lock);
        if (i < c->n)
                r = c->records[i];
        pthread_mutex_unlock(&c->lock);
        return r;
}

_public_ int trail_capture_find(trail_handler *h, int level, const char *substring) {
        struct capture_handler *c = capture_of(h);
        int found = -ENOENT;

        if (!c || level < -1 || level > TRAIL_DEBUG)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n && i <= INT32_MAX; i++) {
                const struct trail_record *r = c->records[i];
                if (level >= 0 && r->level > level)
                        continue;
                if (substring && !strstr(r->message, substring))
                        continue;
                found = (int) i;
                break;
        }
        pthread_mutex_unlock(&c->lock);
        return found;
}

_public_ int trail_capture_clear(trail_handler *h) {
        struct capture_handler *c = capture_of(h);

        if (!c)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        capture_clear_locked(c);
        pthread_mutex_unlock(&c->lock);
        return 0;
}
