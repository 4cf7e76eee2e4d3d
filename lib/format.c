/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatters in general: their reference counting, options and copies, and
 * rendering one record into a caller's buffer. Each formatter lives in its
 * own format-*.c, the table of them by name in format-registry.c; the
 * helpers they share are in shared/ (escape.c, util.c). */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "format-private.h"

trail_formatter *formatter_new(const struct formatter_ops *ops) {
        trail_formatter *f = calloc(1, ops->size);

        if (!f) {
                errno = ENOMEM;
                return NULL;
        }
        f->ops = ops;
        f->refcount = 1;
        if (ops->init) {
                int r = ops->init(f);
                if (r < 0) {
                        free(f);
                        errno = -r;
                        return NULL;
                }
        }
        return f;
}

_public_ trail_formatter *trail_formatter_ref(trail_formatter *f) {
        if (f)
                __atomic_add_fetch(&f->refcount, 1, __ATOMIC_RELAXED);
        return f;
}

_public_ trail_formatter *trail_formatter_unref(trail_formatter *f) {
        if (f && __atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
                PROTECT_ERRNO;
                if (f->ops->done)
                        f->ops->done(f);
                for (size_t i = 0; i < f->n_options; i++)
                        free(f->options[i]);
                free(f->options);
                free(f);
        }
        return NULL;
}

_public_ const char *trail_formatter_name(const trail_formatter *f) {
        return f ? f->ops->name : NULL;
}

/* A formatter in use is read by every logging thread without a lock, so its
 * options are fixed once it is attached: build a new one to change them. */
void formatter_freeze(trail_formatter *f) {
        __atomic_store_n(&f->frozen, true, __ATOMIC_RELEASE);
}

_public_ int trail_formatter_set(trail_formatter *f, const char *key, const char *value) {
        PROTECT_ERRNO;

        if (!f || !key || !value)
                return -EINVAL;
        if (__atomic_load_n(&f->frozen, __ATOMIC_ACQUIRE))
                return -EBUSY;
        if (!f->ops->set)
                return -ENOENT;

        /* Kept for formatter_clone(); room first, so a success is never
         * forgotten. */
        char **o = realloc(f->options, (f->n_options + 2) * sizeof(char *));
        if (!o)
                return -ENOMEM;
        f->options = o;
        o[f->n_options] = strdup(key);
        o[f->n_options + 1] = strdup(value);
        if (!o[f->n_options] || !o[f->n_options + 1]) {
                free(o[f->n_options]);
                free(o[f->n_options + 1]);
                return -ENOMEM;
        }
        int r = f->ops->set(f, key, value);
        if (r < 0) {
                free(o[f->n_options]);
                free(o[f->n_options + 1]);
                return r;
        }
        f->n_options += 2;
        return r;
}

trail_formatter *formatter_clone(const trail_formatter *f) {
        trail_formatter *c = formatter_new(f->ops);

        if (!c)
                return NULL;
        for (size_t i = 0; i < f->n_options; i += 2) {
                int r = trail_formatter_set(c, f->options[i], f->options[i + 1]);
                if (r < 0) {
                        trail_formatter_unref(c);
                        errno = -r;
                        return NULL;
                }
        }
        return c;
}

_public_ int trail_formatter_format(const trail_formatter *f, const trail_record *r, char *buf,
                                    size_t size) {
        PROTECT_ERRNO;
        struct tls_state *t;
        es_str_t *s;
        int k;

        if (!f || !r || (!buf && size > 0))
                return -EINVAL;
        /* rendered into the thread's buffer: no allocation per record */
        t = tls_state_get();
        if (!t)
                return -ENOMEM;
        if (!t->formatted && !(t->formatted = es_newStr(256)))
                return -ENOMEM;
        es_emptyStr(t->formatted);
        k = f->ops->format(f, r, FORMAT_FRAME_LINES, &t->formatted);
        s = t->formatted;
        if (k >= 0) {
                size_t n = s->lenStr;
                if (n > INT32_MAX)
                        k = -E2BIG;
                else {
                        if (size > 0) {
                                size_t c = n < size - 1 ? n : size - 1;
                                memcpy(buf, es_getBufAddr(s), c);
                                buf[c] = '\0';
                        }
                        k = (int) n;
                }
        }
        buf_trim(&t->formatted, 256);
        return k;
}
