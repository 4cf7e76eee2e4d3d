/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small worker daemon: it handles a few fake requests, each inside a
 * TRAIL_SCOPE carrying its REQUEST_ID, and logs at several levels with
 * fields. With no handler configured, its records go to journald.
 *
 *   journalctl DEMO_RUN=<run id printed at start> -o verbose
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <trail.h>

struct request {
        char id[37];
        const char *user;
        int rows;
};

static int handle_request(trail_logger *db, trail_logger *http, const struct request *req) {
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", req->id), TRAIL_STR("USER", req->user));

        trail_info(http, "GET /orders for %s", req->user);
        trail_debug_with(db, TRAIL_FIELDS(TRAIL_STR("SQL", "SELECT * FROM orders\nWHERE user = $1")),
                         "query planned");
        if (req->rows < 0)
                return trail_error_errno(db, ETIMEDOUT, "query failed: %m");
        trail_info_with(db, TRAIL_FIELDS(TRAIL_INT("ROWS", req->rows), TRAIL_DOUBLE("MS", 3.25)),
                        "query took %d ms", 3);
        if (req->rows > 100)
                trail_warning_with(http, TRAIL_FIELDS(TRAIL_INT("ROWS", req->rows)),
                                   "large response");
        trail_notice(http, "200 OK");
        return 0;
}

int main(int argc, char **argv) {
        char run[33];
        struct timespec ts;

        /* A value unique to this run, so that journalctl finds just its records. */
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(run, sizeof(run), "%08lx%08lx%08x", (unsigned long) ts.tv_sec,
                 (unsigned long) ts.tv_nsec, (unsigned) getpid());
        if (argc > 1)
                snprintf(run, sizeof(run), "%s", argv[1]);
        printf("DEMO_RUN=%s\n", run);
        fflush(stdout);

        trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("SERVICE", "demo"),
                                             TRAIL_STR("DEMO_RUN", run)));
        trail_logger *db = trail_get("demo.db");
        trail_logger *http = trail_get("demo.http");
        trail_logger_set_level(db, TRAIL_DEBUG);

        const struct request reqs[] = {
                { "3f2b8c1e-0a4d-4e7b-9c61-5d2a7e9f0b13", "alice", 12 },
                { "9a7c6e5d-4b3a-4f21-8e0d-1c2b3a4d5e6f", "bob", 250 },
                { "c0ffee00-1234-4abc-9def-0123456789ab", "carol", -1 },
        };
        for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
                (void) handle_request(db, http, &reqs[i]);

        trail_info(trail_get(NULL), "demo done, %zu requests", sizeof(reqs) / sizeof(reqs[0]));
        trail_shutdown();
        return 0;
}
