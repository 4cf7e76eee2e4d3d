/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream handler on a memfd attached to a private logger, and a way to
 * read back what it wrote: how unit tests see rendered records. */
#pragma once

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trail.h"

struct capture {
        int fd;
        trail_handler *h;
        trail_logger *lg;
        char *text;
};

static inline void capture_start(struct capture *c, const char *logger) {
        c->fd = memfd_create("capture", 0);
        c->h = trail_handler_stream(c->fd, "text");
        c->lg = trail_get(logger);
        c->text = NULL;
        trail_logger_add_handler(c->lg, c->h);
        trail_logger_set_propagate(c->lg, false);
}

/* Everything written so far, NUL-terminated; truncates the memfd. */
static inline const char *capture_take(struct capture *c) {
        off_t n = lseek(c->fd, 0, SEEK_END);
        free(c->text);
        c->text = calloc(1, (size_t) n + 1);
        if (n > 0 && pread(c->fd, c->text, (size_t) n, 0) != n)
                abort();
        if (ftruncate(c->fd, 0) < 0 || lseek(c->fd, 0, SEEK_SET) < 0)
                abort();
        return c->text;
}

static inline void capture_stop(struct capture *c) {
        trail_logger_remove_handler(c->lg, c->h);
        trail_handler_unref(c->h);
        close(c->fd);
        free(c->text);
}
