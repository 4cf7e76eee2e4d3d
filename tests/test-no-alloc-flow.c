/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Redaction, the scrubber, sampling, rate limits and backtraces allocate
 * nothing per record once a thread is warm: malloc and friends are
 * interposed and counted, as in test-no-alloc.c. Not built under sanitizers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "trail.h"

#include "alloc-count.h"

static void log_a_batch(trail_logger *lg, int n) {
        for (int i = 0; i < n; i++) {
                TRAIL_SCOPE(TRAIL_STR("SESSION_TOKEN", "ctx-secret"));
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_STR("DB_PASSWORD", "hunter2"),
                                             TRAIL_STR("NOTE", "card 4111111111111111"),
                                             TRAIL_INT("USER_ID", 42)),
                                "login password=%s with Bearer %s", "hunter2", "abc.def");
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(3), TRAIL_RATE_LIMIT(5, 1000000)),
                                "sampled and limited %d", i);
                trail_critical(lg, "with a backtrace");
        }
}

static void flow_features_allocate_nothing(void **state) {
        (void) state;
        int fd = memfd_create("noalloc-flow", 0);
        trail_logger *lg = trail_get("noalloc.flow");
        trail_handler *h = trail_handler_stream(fd, "text");

        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        trail_set_backtrace_level(TRAIL_CRITICAL);
        log_a_batch(lg, 10);
        allocations = 0;
        counting = true;
        log_a_batch(lg, 1000);
        counting = false;
        assert_int_equal(allocations, 0);

        /* and the secrets were masked */
        off_t n = lseek(fd, 0, SEEK_END);
        char *text = __libc_calloc(1, (size_t) n + 1);
        assert_int_equal(pread(fd, text, (size_t) n, 0), n);
        assert_null(strstr(text, "hunter2"));
        assert_null(strstr(text, "ctx-secret"));
        assert_null(strstr(text, "4111111111111111"));
        assert_null(strstr(text, "abc.def"));
        assert_non_null(strstr(text, "BACKTRACE="));
        __libc_free(text);
        trail_handler_unref(h);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(flow_features_allocate_nothing),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
