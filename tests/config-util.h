/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration tests: a config file written from a string, errors collected
 * as the "FILE:LINE: key: why" lines trail_configure() would print, and a
 * memfd a [handler] can name by number. */
#pragma once

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test-util.h"
#include "trail.h"

static char conf_path[64];

/* Writes the text (printf format) to a new temporary file; returns its path. */
__attribute__((format(printf, 1, 2))) static inline const char *conf_write(const char *fmt, ...) {
        va_list ap;
        int fd;
        FILE *f;

        strcpy(conf_path, "/tmp/trail-test-XXXXXX");
        fd = mkstemp(conf_path);
        if (fd < 0 || !(f = fdopen(fd, "w")))
                abort();
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
        return conf_path;
}

struct errbuf {
        char text[8192];
        unsigned n;
};

static inline void errbuf_add(const char *file, unsigned line, const char *key, const char *message,
                              void *userdata) {
        struct errbuf *b = userdata;
        size_t len = strlen(b->text);

        if (line)
                snprintf(b->text + len, sizeof(b->text) - len, "%s:%u: %s%s%s\n", file, line,
                         key ? key : "", key ? ": " : "", message);
        else
                snprintf(b->text + len, sizeof(b->text) - len, "%s: %s%s%s\n", file, key ? key : "",
                         key ? ": " : "", message);
        b->n++;
}

/* A sink file and the text written to it so far (truncating it). O_APPEND:
 * handlers in several threads write to it at once, and a shared file
 * offset alone does not keep their lines apart on every kernel. */
static inline int memfd_new(void) {
        char path[] = "/tmp/trail-sink-XXXXXX";
        int fd = mkostemp(path, O_APPEND);
        if (fd >= 0)
                unlink(path);
        return fd;
}

static inline char *memfd_take(int fd) {
        off_t n = lseek(fd, 0, SEEK_END);
        char *text = calloc(1, (size_t) n + 1);
        if (!text || (n > 0 && pread(fd, text, (size_t) n, 0) != n))
                abort();
        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        return text;
}

/* The sink every good configuration of a test file logs into, opened and
 * closed by the cmocka group fixtures sink_setup() and sink_teardown()
 * (which shuts trail down first). */
static int sink = -1;

static inline int sink_setup(void **state) {
        (void) state;
        sink = memfd_new();
        return sink < 0;
}

static inline int sink_teardown(void **state) {
        (void) state;
        trail_shutdown();
        close(sink);
        return 0;
}
