// SPDX-License-Identifier: LGPL-2.1-or-later
// Every logging macro of trail.h, compiled as C++17 (-pedantic -Werror), logs
// into the real journald, and the records are read back with sd-journal;
// a disabled level evaluates none of its arguments.
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" {
#include "journal-util.h"
}
#include "trail.h"

static int failures;
static int evaluated;

static void expect(bool ok, int line, const char *what) {
        if (!ok) {
                std::fprintf(stderr, "test-cxx-journald.cc:%d: FAIL: %s\n", line, what);
                failures++;
        }
}
#define EXPECT(cond) expect((cond), __LINE__, #cond)

static int touch() {
        return ++evaluated;
}

static std::string field(const jentry *e, const char *name) {
        size_t len;
        const char *v = jentry_get(e, name, &len);
        return v ? std::string(v, len) : std::string("(none)");
}

// A project's own variadic function, forwarding its va_list.
static void app_log(trail_logger *lg, const char *fmt, ...) TRAIL__PRINTF(2, 3);
static void app_log(trail_logger *lg, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        trail_logv(lg, TRAIL_NOTICE, TRAIL_FIELDS(TRAIL_STR("MACRO", "logv")), fmt, ap);
        va_end(ap);
}

int main() {
        char run[33];
        static const unsigned char bytes[] = {0, 1, '\n', 0xff};

        require_journald();
        test_run_id(run);
        trail_logger *lg = trail_get("trailtest.cxx");
        trail_handler *h = trail_handler_journald();
        trail_logger_add_handler(lg, h);
        trail_handler_unref(h);
        trail_logger_set_propagate(lg, false);
        trail_logger_set_level(lg, TRAIL_INFO);
        trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("CXX_RUN", run)));

        // debug is disabled: nothing below is evaluated, nothing logged
        trail_debug(lg, "%d", touch());
        trail_debug_with(lg, TRAIL_FIELDS(TRAIL_INT("N", touch())), "%d", touch());
        EXPECT(trail_debug_errno(lg, EIO, "%d", touch()) == -EIO);
        EXPECT(trail_debug_errno_with(lg, -EIO, TRAIL_FIELDS(TRAIL_INT("N", touch())), "%d",
                                      touch()) == -EIO);
        EXPECT(evaluated == 0);

        // (not emergency: journald would broadcast it; test-header-cxx runs it)
        trail_alert_with(lg, TRAIL_FIELDS(TRAIL_STR("MACRO", "alert_with")), "m");
        trail_critical(lg, "critical %s", "plain"); // no MACRO field: counted below
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_STR("MACRO", "fields"), TRAIL_INT("I", -5),
                                     TRAIL_UINT("U", 7u), TRAIL_DOUBLE("D", 0.25),
                                     TRAIL_BOOL("B", true), TRAIL_BYTES("Y", bytes, sizeof(bytes)),
                                     TRAIL_MESSAGE_ID("0123456789abcdef0123456789abcdef")),
                        "fields %d", 1);
        EXPECT(trail_error_errno_with(lg, ENOENT, TRAIL_FIELDS(TRAIL_STR("MACRO", "errno_with")),
                                      "gone: %m") == -ENOENT);
        EXPECT(trail_warning_errno(lg, -EACCES, "denied: %m") == -EACCES);
        {
                TRAIL_SCOPE(TRAIL_STR("MACRO", "scope"), TRAIL_STR("SCOPED", "yes"));
                trail_notice(lg, "in scope");
                trail_context *ctx = trail_context_capture();
                { TRAIL_SCOPE(TRAIL_STR("MACRO", "context_scope")); }
                {
                        TRAIL_CONTEXT_SCOPE(ctx);
                        trail_alert_with(lg, TRAIL_FIELDS(TRAIL_STR("RESTORED", "yes")),
                                         "restored");
                }
                trail_context_free(ctx);
        }
        trail_info(lg, "after the scope");
        app_log(lg, "via %s %d", "logv", 42);
        auto kept = TRAIL_FIELDS(TRAIL_STR("MACRO", "auto"));
        trail_info_with(lg, kept, "kept fields");

        struct jentries es = journal_collect("CXX_RUN", run, 10, 10000);
        EXPECT(es.n == 10);
        int seen = 0;
        for (size_t i = 0; i < es.n; i++) {
                const jentry *e = &es.e[i];
                std::string m = field(e, "MACRO"), msg = field(e, "MESSAGE");
                EXPECT(field(e, "LOGGER") == "trailtest.cxx");
                EXPECT(field(e, "CODE_FILE").find("test-cxx-journald.cc") != std::string::npos);
                if (m == "alert_with")
                        seen |= 1, EXPECT(field(e, "PRIORITY") == "1");
                else if (msg == "critical plain")
                        seen |= 2, EXPECT(field(e, "PRIORITY") == "2");
                else if (m == "fields") {
                        seen |= 4;
                        EXPECT(msg == "fields 1");
                        EXPECT(field(e, "I") == "-5" && field(e, "U") == "7");
                        EXPECT(field(e, "D") == "0.25" && field(e, "B") == "true");
                        EXPECT(field(e, "Y") == std::string("\0\1\n\xff", 4));
                        EXPECT(field(e, "MESSAGE_ID") == "0123456789abcdef0123456789abcdef");
                } else if (m == "errno_with")
                        seen |= 8, EXPECT(field(e, "ERRNO") == "2" &&
                                          msg == "gone: " + std::string(strerror(ENOENT)));
                else if (msg.rfind("denied: ", 0) == 0)
                        seen |= 16, EXPECT(field(e, "ERRNO") == std::to_string(EACCES));
                else if (m == "scope" && msg != "restored")
                        seen |= 32, EXPECT(field(e, "SCOPED") == "yes" && msg == "in scope");
                else if (msg == "restored")
                        seen |= 64, EXPECT(m == "scope" || field(e, "SCOPED") == "yes");
                else if (msg == "after the scope")
                        seen |= 128, EXPECT(m == "(none)" && field(e, "SCOPED") == "(none)");
                else if (m == "logv")
                        seen |= 256, EXPECT(msg == "via logv 42" && field(e, "PRIORITY") == "5");
                else if (m == "auto")
                        seen |= 512, EXPECT(msg == "kept fields");
        }
        EXPECT(seen == 1023);
        jentries_free(&es);
        trail_shutdown();
        if (failures)
                std::fprintf(stderr, "%d failures (seen %#x)\n", failures, seen);
        return failures ? 1 : 0;
}
