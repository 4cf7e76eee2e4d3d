// SPDX-License-Identifier: LGPL-2.1-or-later
// trail.h compiled as C++ (g++ and clang++, -std=c++17 -pedantic -Werror,
// see tests/meson.build): every public macro expanded, and run. Nothing is
// logged: the logger's level is TRAIL_EMERGENCY - 1 ... debug is disabled,
// and the records that are enabled go to a capture handler.
#include "trail.h"

#include <cerrno>
#include <climits>
#include <cstdio>

static int evaluated;

static int touch(int v) {
        evaluated++;
        return v;
}

static int wrapper_v(const trail_logger *lg, const char *fmt, ...) TRAIL__PRINTF(2, 3);
static int wrapper_v(const trail_logger *lg, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = trail_logv(lg, TRAIL_INFO, TRAIL_FIELDS(TRAIL_STR("VIA", "logv")), fmt, ap);
        va_end(ap);
        return r;
}

static int wrapper_loc(const trail_logger *lg, const char *fmt, ...) TRAIL__PRINTF(2, 3);
static int wrapper_loc(const trail_logger *lg, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = trail_logv_with_location(lg, TRAIL_INFO, "caller.cc", 7, "caller", TRAIL_NO_FIELDS,
                                         fmt, ap);
        va_end(ap);
        return r;
}

static int check(bool ok, const char *what) {
        if (!ok)
                std::fprintf(stderr, "FAIL: %s\n", what);
        return ok ? 0 : 1;
}

int main() {
        trail_logger *lg = trail_get("header.cxx");
        trail_handler *cap = trail_handler_capture();
        int fail = 0;
        static const unsigned char bytes[] = {1, 2, 3};

        trail_logger_add_handler(lg, cap);
        trail_logger_set_propagate(lg, false);
        trail_logger_set_level(lg, TRAIL_INFO);

        trail_log(lg, TRAIL_INFO, "log %d", 1);
        trail_log_with(lg, TRAIL_INFO,
                       TRAIL_FIELDS(TRAIL_STR("S", "s"), TRAIL_INT("I", -1), TRAIL_UINT("U", 2u),
                                    TRAIL_DOUBLE("D", 0.5), TRAIL_BOOL("B", true),
                                    TRAIL_BYTES("Y", bytes, sizeof(bytes)), TRAIL_ERRNO(EIO),
                                    TRAIL_MESSAGE_ID(TRAIL_MESSAGE_ID_DROPPED)),
                       "with");
        trail_emergency(lg, "x");
        trail_alert(lg, "x");
        trail_critical(lg, "x");
        trail_error(lg, "x");
        trail_warning(lg, "x");
        trail_notice(lg, "x");
        trail_info(lg, "x");
        trail_debug(lg, "x %d", touch(1));
        trail_emergency_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 0)), "x");
        trail_alert_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 1)), "x");
        trail_critical_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 2)), "x");
        trail_error_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 3)), "x");
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 4)), "x");
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 5)), "x");
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_INT("N", 6)), "x");
        trail_debug_with(lg, TRAIL_FIELDS(TRAIL_INT("N", touch(7))), "x %d", touch(7));
        fail |= check(evaluated == 0, "a disabled level evaluates nothing");
        fail |= check(trail_capture_count(cap) == 16, "16 records captured");

        fail |= check(trail_log_errno(lg, TRAIL_INFO, EIO, "e") == -EIO, "trail_log_errno");
        fail |= check(trail_log_errno_with(lg, TRAIL_INFO, -EIO, TRAIL_FIELDS(TRAIL_INT("N", 1)),
                                           "e") == -EIO,
                      "trail_log_errno_with");
        fail |= check(trail_emergency_errno(lg, 1, "e") == -1, "emergency_errno");
        fail |= check(trail_alert_errno(lg, 2, "e") == -2, "alert_errno");
        fail |= check(trail_critical_errno(lg, 3, "e") == -3, "critical_errno");
        fail |= check(trail_error_errno(lg, 4, "e") == -4, "error_errno");
        fail |= check(trail_warning_errno(lg, 5, "e") == -5, "warning_errno");
        fail |= check(trail_notice_errno(lg, 6, "e") == -6, "notice_errno");
        fail |= check(trail_info_errno(lg, 7, "e") == -7, "info_errno");
        fail |= check(trail_debug_errno(lg, 8, "e %d", touch(8)) == -8, "debug_errno");
        fail |= check(trail_emergency_errno_with(lg, 1, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -1,
                      "emergency_errno_with");
        fail |= check(trail_alert_errno_with(lg, 2, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -2,
                      "alert_errno_with");
        fail |= check(trail_critical_errno_with(lg, 3, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -3,
                      "critical_errno_with");
        fail |= check(trail_error_errno_with(lg, 4, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -4,
                      "error_errno_with");
        fail |= check(trail_warning_errno_with(lg, 5, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -5,
                      "warning_errno_with");
        fail |= check(trail_notice_errno_with(lg, 6, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -6,
                      "notice_errno_with");
        fail |= check(trail_info_errno_with(lg, 7, TRAIL_FIELDS(TRAIL_INT("N", 1)), "e") == -7,
                      "info_errno_with");
        fail |= check(trail_debug_errno_with(lg, 8, TRAIL_FIELDS(TRAIL_INT("N", touch(1))), "e %d",
                                             touch(1)) == -8,
                      "debug_errno_with");
        fail |= check(trail_error_errno(lg, INT_MIN, "e") == -INT_MAX, "INT_MIN");
        fail |= check(trail_error_errno(lg, 0, "e") == -ESTRPIPE, "errnum 0");
        fail |= check(evaluated == 0, "a disabled errno form evaluates nothing but errnum");

        trail_debug_with(
                lg, TRAIL_FIELDS(TRAIL_SAMPLE(2), TRAIL_RATE_LIMIT(10, 1000000), TRAIL_BACKTRACE()),
                "x");
        {
                TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", "r1"), TRAIL_INT("ATTEMPT", 2));
                trail_info(lg, "in scope");
                trail_context *ctx = trail_context_capture();
                {
                        TRAIL_CONTEXT_SCOPE(ctx);
                        trail_info(lg, "restored");
                }
                trail_context_free(ctx);
        }
        auto kept = TRAIL_FIELDS(TRAIL_STR("KEPT", "yes"));
        trail_info_with(lg, kept, "kept");
        trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("G", "g")));
        trail_set_global_fields(TRAIL_NO_FIELDS);
        int t = trail_context_push(TRAIL_FIELDS(TRAIL_STR("P", "p")));
        trail_context_pop(t);

        fail |= check(wrapper_v(lg, "v %d", 1) == 0, "trail_logv");
        fail |= check(wrapper_loc(lg, "loc %d", 1) == 0, "trail_logv_with_location");
        fail |= check(trail_log_with_location(lg, TRAIL_INFO, nullptr, 0, nullptr, TRAIL_NO_FIELDS,
                                              "no location") == 0,
                      "trail_log_with_location");
        fail |= check(evaluated == 0, "nothing disabled evaluated");
        fail |= check(trail_capture_find(cap, -1, "loc 1") >= 0, "the va_list record");

        trail_handler_unref(cap);
        trail_shutdown();
        return fail || !trail_enabled(lg, TRAIL_INFO) || trail_enabled(lg, TRAIL_DEBUG);
}
