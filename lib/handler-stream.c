/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stream handler: one line per record on a file descriptor, rendered by
 * the handler's formatter and written with one write() so lines from several
 * threads do not interleave. */

#include <stdlib.h>
#include <string.h>

#include "trail-private.h"

struct stream_handler {
        trail_handler base;
        int fd;
        bool terminal; /* a terminal, and NO_COLOR unset: "auto" colours */
        bool torn;     /* atomic: a write failed part-way, leaving part of a line */
};

/* 0, or a negative errno; *ret_partial tells whether some bytes, not all,
 * went out (a disk that filled up mid-line). */
static int write_all(int fd, const char *p, size_t n, bool *ret_partial) {
        size_t total = n;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (ret_partial)
                                *ret_partial = n < total;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* torn: NULL, or the handler's flag: after a failed write left part of a
 * line, the next line starts with a newline, so that it is whole (the cut
 * one stays a fragment of its own, and was counted as lost). */
static int write_line(int fd, trail_formatter *f, const struct trail_record *r, bool terminal,
                      bool *torn) {
        struct tls_state *t = tls_state_get();
        bool mend = torn && __atomic_exchange_n(torn, false, __ATOMIC_RELAXED), partial = false;
        int k;

        if (!t)
                return -ENOMEM;
        es_emptyStr(t->render);
        if (mend) {
                if (buf_reserve(&t->render, 1) < 0)
                        return -ENOMEM;
                es_getBufAddr(t->render)[t->render->lenStr++] = '\n';
        }
        if (terminal && f->ops->format_terminal)
                k = f->ops->format_terminal(f, r, &t->render);
        else
                k = f->ops->format(f, r, &t->render);
        if (k < 0)
                return k;
        if (buf_reserve(&t->render, 1) < 0)
                return -ENOMEM;
        es_getBufAddr(t->render)[t->render->lenStr++] = '\n';
        k = write_all(fd, (const char *) es_getBufAddr(t->render), t->render->lenStr, &partial);
        /* a line cut short now, or the cut one still not ended */
        if (torn && k < 0 && (partial || mend))
                __atomic_store_n(torn, true, __ATOMIC_RELAXED);
        return k;
}

int stream_write_text(int fd, const struct trail_record *r) {
        return write_line(fd, formatter_default_text(), r, false, NULL);
}

static int stream_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        (void) fell_back;
        struct stream_handler *s = (struct stream_handler *) h;

        return write_line(s->fd, __atomic_load_n(&h->formatter, __ATOMIC_ACQUIRE), r,
                          s->terminal, &s->torn);
}

static void stream_free(trail_handler *h) {
        free(h);
}

static const struct handler_ops stream_ops = {
        .type = "stream",
        .default_format = "text",
        .emit = stream_emit,
        .free = stream_free,
};

_public_ trail_handler *trail_handler_stream(int fd, const char *format) {
        _cleanup_(trail_formatter_unrefp) trail_formatter *f = NULL;
        struct stream_handler *s;
        int r;

        if (fd < 0) {
                errno = EINVAL;
                return NULL;
        }
        if (format) {
                f = trail_formatter_new(format);
                if (!f)
                        return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                errno = ENOMEM;
                return NULL;
        }
        s->fd = fd;
        /* https://no-color.org: set and not empty means no colour */
        const char *no_color = secure_getenv("NO_COLOR");
        int saved_errno = errno; /* isatty() sets ENOTTY */
        s->terminal = isatty(fd) == 1 && !(no_color && *no_color);
        errno = saved_errno;
        r = handler_init(&s->base, &stream_ops);
        if (r >= 0 && f)
                r = trail_handler_set_formatter(&s->base, f);
        if (r < 0) {
                trail_handler_unref(&s->base);
                errno = -r;
                return NULL;
        }
        return &s->base;
}
