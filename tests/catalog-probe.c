/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logs one record through libtrail into journald carrying the MESSAGE_ID
 * named on the command line and PROBE=<argv[2]>, for tests/check-catalog.sh. */
#include <stdio.h>
#include <string.h>

#include <trail.h>

int main(int argc, char **argv) {
        if (argc != 3 || strlen(argv[1]) != 32) {
                fprintf(stderr, "usage: catalog-probe MESSAGE_ID PROBE\n");
                return 2;
        }
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = trail_get("trail.catalog.probe");
        if (!h || !lg || trail_logger_add_handler(lg, h) < 0)
                return 1;
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_MESSAGE_ID(argv[1]), TRAIL_STR("PROBE", argv[2])),
                           "catalog probe");
        trail_stats st;
        int r = trail_flush() < 0 || trail_handler_get_stats(h, &st) < 0 || st.delivered != 1;
        if (r)
                fprintf(stderr, "catalog-probe: the record did not reach journald\n");
        trail_handler_unref(h);
        trail_shutdown();
        return r;
}
