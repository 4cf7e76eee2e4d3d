// SPDX-License-Identifier: LGPL-2.1-or-later
// The C examples of README.md, each in a function, compiled as C++17 by g++
// and clang++ with -pedantic -Werror (tests/check-cxx.sh). Every line of every
// ```c block of the README appears here, in order (check-readme-examples.py):
// change one, change the other. Compiled only, never run.
#include <assert.h>
#include <stdbool.h>
#include <unistd.h>

#include <trail.h>

struct request {
        const char *id;
};
void metrics_count(void *m, const char *logger, int level);
void run_code_under_test(void);
extern int metrics;

// The tour
static int tour(const struct request *req, int n, int ms, int r, const char *path) {
        trail_logger *db = trail_get("myapp.db"); /* same name, same logger */

        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", req->id)); /* on every record until the block ends */
        trail_info_with(db, TRAIL_FIELDS(TRAIL_INT("ROWS", n)), "query took %d ms", ms);

        if (r < 0)
                return trail_error_errno(db, r, "cannot open %s: %m",
                                         path); /* ERRNO=, returns -|r| */
        return 0;
}

// Syslog, and a central collector over TLS
static void syslog_tls(void) {
        trail_handler *h = trail_handler_syslog("tls://logs.example.com:6514");
        trail_handler_set(h, "ca",
                          "/etc/ssl/certs/ca-certificates.crt"); /* default: the system store */
        trail_handler_set(h, "cert", "/etc/myapp/client.pem");   /* if the server asks */
        trail_handler_set(h, "key", "/etc/myapp/client-key.pem");
        trail_handler_set(h, "timeout", "200ms"); /* no call waits longer */
        trail_handler_set(h, "buffer", "4M");     /* held while the collector is away */
        trail_logger_add_handler(trail_get(NULL), h);
        trail_handler_unref(h);
}

// Formats: text
static void format_text(void) {
        trail_handler *h = trail_handler_stream(STDERR_FILENO, "text");
        trail_handler_set(
                h, "pattern",
                "%(asctime)s %(levelname)-8s %(name)s [%(REQUEST_ID)s] %(message)s %(fields)s");
        trail_handler_unref(h);
}

// Formats: json
static void format_json(void) {
        trail_handler *h = trail_handler_stream(STDERR_FILENO, "json");
        trail_logger_add_handler(trail_get(NULL), h);
        trail_handler_unref(h);
}

// Async delivery
static void async_delivery(void) {
        trail_handler *j = trail_handler_journald();
        trail_handler *h = trail_handler_async(j, 4096, TRAIL_OVERFLOW_DROP_NEW);
        trail_handler_unref(j);                             /* h holds its own reference */
        trail_handler_async_set_timeout(h, 50000);          /* a call waits at most 50 ms */
        trail_handler_async_set_keep_level(h, TRAIL_ERROR); /* ERROR and above: wait, not drop */
        trail_logger_add_handler(trail_get("myapp"), h);
        trail_handler_unref(h);
}

// Redaction
static void redaction(trail_logger *lg, const char *pw) {
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("db_password", pw)), "login password=%s", pw);
        /* DB_PASSWORD=****  MESSAGE=login password=**** */

        static const char *const names[] = {"PASSWORD", "PIN", NULL};
        trail_set_redact_fields(names);       /* NULL: the built-in list again */
        trail_add_redact_field("session_id"); /* SESSION_ID, WEB_SESSION_ID */
        trail_set_scrub(false);               /* names only */
}

// Sampling and rate limits
static void sampling(trail_logger *lg) {
        trail_debug_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(100)), "packet in");
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_RATE_LIMIT(10, 1000000)), "recv: %m");

        trail_logger_set_sample(trail_get("myapp.net"), 10);
        trail_logger_set_rate_limit(trail_get("myapp.net"), 1000, 10 * 1000000); /* 1000/10s */
}

// Correlation across services, threads and callbacks
static void correlation(trail_logger *lg, const char *header) {
        int t = trail_context_push_traceparent(header); /* TRACE_ID, SPAN_ID, TRACE_FLAGS */
        trail_context *ctx = trail_context_capture();   /* where the work is scheduled */
        trail_context_pop(t);

        /* later, on a pool thread or in a callback */
        {
                TRAIL_CONTEXT_SCOPE(ctx); /* REQUEST_ID etc. are back */
                trail_info(lg, "step two");
        }
        trail_context_free(ctx);
}

// Handlers of your own, and a capture handler for tests
static int emit(const trail_record *r, void *userdata) {
        metrics_count(userdata, trail_record_logger(r), trail_record_level(r));
        return 0;
}
static void own_handlers(void) {
        static const trail_handler_vtable vt = {emit, NULL, NULL}; /* emit, flush, close */
        trail_handler *h = trail_handler_custom(&vt, &metrics);
        trail_logger_add_handler(trail_get(NULL), h); /* the logger takes its own reference, */
        trail_handler_unref(h);                       /* so drop the constructor's */

        /* in a unit test */
        trail_handler *cap = trail_handler_capture();
        trail_logger_add_handler(trail_get("myapp"), cap);
        run_code_under_test();
        assert(trail_capture_find(cap, TRAIL_WARNING, "retrying") >= 0);
        const trail_record *r = trail_capture_get(cap, 0); /* trail_record_* accessors */
        trail_logger_remove_handler(trail_get("myapp"), cap);
        trail_handler_unref(cap); /* the test's own reference */
        (void) r;
}

// Referenced, so that nothing above is unused.
void (*readme_examples[])(void) = {
        reinterpret_cast<void (*)(void)>(tour),
        syslog_tls,
        format_text,
        format_json,
        async_delivery,
        reinterpret_cast<void (*)(void)>(redaction),
        reinterpret_cast<void (*)(void)>(sampling),
        reinterpret_cast<void (*)(void)>(correlation),
        own_handlers,
};
