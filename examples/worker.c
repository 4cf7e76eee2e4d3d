/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The README's first daemon: each argument is a request (an order file to
 * read), handled under its own REQUEST_ID, with a sub-logger for storage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <trail.h>

static trail_logger *log_main, *log_db;

/* Reads the order; returns its size or a negative errno (logged here, once). */
static int read_order(const char *path) {
        char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return trail_error_errno(log_db, errno, "cannot open %s: %m", path);
        ssize_t n = read(fd, buf, sizeof(buf));
        int e = errno;
        close(fd);
        if (n < 0)
                return trail_error_errno(log_db, e, "cannot read %s: %m", path);
        trail_debug_with(log_db, TRAIL_FIELDS(TRAIL_INT("BYTES", n)), "read %s", path);
        if (n == 0)
                trail_warning(log_db, "order %s is empty", path);
        return (int) n;
}

static void handle_request(const char *path) {
        unsigned char r[16] = {0};
        char id[33];

        (void) getrandom(r, sizeof(r), 0);
        for (int i = 0; i < 16; i++)
                snprintf(id + 2 * i, 3, "%02x", r[i]);
        printf("REQUEST_ID=%s %s\n", id, path);

        /* Every record until the end of this block carries REQUEST_ID. */
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", id));
        trail_info(log_main, "request for %s", path);
        if (read_order(path) < 0)
                trail_warning(log_main, "request failed");
        else
                trail_info(log_main, "request done");
}

int main(int argc, char **argv) {
        /* The first trail_get() applies the trail.conf that $TRAIL_CONFIG names. */
        log_main = trail_get("worker");
        log_db = trail_get("worker.db");
        /* On every record of every thread. */
        trail_set_global_fields(
                TRAIL_FIELDS(TRAIL_STR("SERVICE", "worker"), TRAIL_STR("VERSION", "1.0")));

        for (int i = 1; i < argc; i++)
                handle_request(argv[i]);
        return 0; /* trail flushes at exit */
}
