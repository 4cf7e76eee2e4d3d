/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filters and propagation against what Python's logging documents
 * (logging.html "Logger.filter", "Handler.handle", "propagate", and the
 * flow diagram of the logging HOWTO), one rule per test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "trail.h"

struct probe {
        int calls;
        bool verdict;
        int *order; /* appends id here when called */
        int id;
};

static int order[8], n_order;

static bool probe_filter(const trail_record *r, void *userdata) {
        struct probe *p = userdata;
        (void) r;
        p->calls++;
        if (p->order)
                p->order[n_order++] = p->id;
        return p->verdict;
}

static trail_handler *attach(trail_logger *lg) {
        trail_handler *h = trail_handler_capture();
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        trail_handler_unref(h); /* the logger holds it */
        return h;
}

/* "Logger.isEnabledFor" comes before "Logger.filter": a record below the
 * logger's level never reaches its filters. */
static void logger_level_is_checked_before_logger_filters(void **state) {
        (void) state;
        trail_logger *lg = trail_get("py1");
        struct probe p = {.verdict = true};

        trail_logger_set_propagate(lg, false);
        trail_handler *h = attach(lg);
        trail_logger_set_level(lg, TRAIL_WARNING);
        trail_logger_add_filter(lg, probe_filter, &p);
        trail_info(lg, "below");
        trail_warning(lg, "at");
        assert_int_equal(p.calls, 1);
        assert_int_equal(trail_capture_count(h), 1);
}

/* "callHandlers": a handler's level is compared before Handler.handle()
 * runs the handler's filters. */
static void handler_level_is_checked_before_handler_filters(void **state) {
        (void) state;
        trail_logger *lg = trail_get("py2");
        struct probe p = {.verdict = true};

        trail_logger_set_propagate(lg, false);
        trail_handler *h = attach(lg);
        trail_handler_set_level(h, TRAIL_ERROR);
        trail_handler_add_filter(h, probe_filter, &p);
        trail_warning(lg, "below the handler");
        trail_error(lg, "at the handler");
        assert_int_equal(p.calls, 1);
        assert_int_equal(trail_capture_count(h), 1);
}

/* Filterer.filter: filters are consulted in order, and the first that
 * rejects stops the others. */
static void filters_run_in_order_and_the_first_no_stops(void **state) {
        (void) state;
        trail_logger *lg = trail_get("py3");
        struct probe a = {.verdict = true, .order = order, .id = 1};
        struct probe b = {.verdict = false, .order = order, .id = 2};
        struct probe c = {.verdict = true, .order = order, .id = 3};

        trail_logger_set_propagate(lg, false);
        trail_handler *h = attach(lg);
        trail_logger_add_filter(lg, probe_filter, &a);
        trail_logger_add_filter(lg, probe_filter, &b);
        trail_logger_add_filter(lg, probe_filter, &c);
        n_order = 0;
        trail_info(lg, "x");
        assert_int_equal(n_order, 2);
        assert_int_equal(order[0], 1);
        assert_int_equal(order[1], 2);
        assert_int_equal(c.calls, 0);
        assert_int_equal(trail_capture_count(h), 0);
}

/* Logger.handle: a record the logger's filter rejects reaches no handler,
 * neither the logger's nor any ancestor's. */
static void a_logger_filter_no_stops_propagation_too(void **state) {
        (void) state;
        trail_logger *parent = trail_get("py4");
        trail_logger *kid = trail_get("py4.kid");
        struct probe no = {.verdict = false};

        trail_logger_set_propagate(parent, false);
        trail_handler *hp = attach(parent);
        trail_handler *hk = attach(kid);
        trail_logger_add_filter(kid, probe_filter, &no);
        trail_info(kid, "x");
        assert_int_equal(trail_capture_count(hk), 0);
        assert_int_equal(trail_capture_count(hp), 0);
}

/* A handler filter decides for its handler only. */
static void a_handler_filter_no_leaves_other_handlers_alone(void **state) {
        (void) state;
        trail_logger *parent = trail_get("py5");
        trail_logger *kid = trail_get("py5.kid");
        struct probe no = {.verdict = false};

        trail_logger_set_propagate(parent, false);
        trail_handler *hp = attach(parent);
        trail_handler *hk = attach(kid);
        trail_handler *hk2 = attach(kid);
        trail_handler_add_filter(hk, probe_filter, &no);
        trail_info(kid, "x");
        assert_int_equal(trail_capture_count(hk), 0);
        assert_int_equal(trail_capture_count(hk2), 1);
        assert_int_equal(trail_capture_count(hp), 1);
}

/* "Messages are passed directly to the ancestor loggers' handlers —
 * neither the level nor filters of the ancestor loggers in question are
 * considered." */
static void ancestor_levels_and_filters_are_not_considered(void **state) {
        (void) state;
        trail_logger *parent = trail_get("py6");
        trail_logger *kid = trail_get("py6.kid");
        struct probe no = {.verdict = false};

        trail_logger_set_propagate(parent, false);
        trail_handler *hp = attach(parent);
        trail_logger_set_level(parent, TRAIL_ERROR);
        trail_logger_set_level(kid, TRAIL_DEBUG);
        trail_logger_add_filter(parent, probe_filter, &no);
        trail_debug(kid, "passes through the parent's handler");
        assert_int_equal(trail_capture_count(hp), 1);
        assert_int_equal(no.calls, 0);
}

/* propagate = False: the record stops at the logger that has it. */
static void propagate_false_stops_at_that_logger(void **state) {
        (void) state;
        trail_logger *top = trail_get("py7");
        trail_logger *mid = trail_get("py7.mid");
        trail_logger *low = trail_get("py7.mid.low");

        trail_logger_set_propagate(top, false);
        trail_handler *ht = attach(top);
        trail_handler *hm = attach(mid);
        trail_handler *hl = attach(low);
        trail_logger_set_propagate(mid, false);
        trail_info(low, "x");
        assert_int_equal(trail_capture_count(hl), 1);
        assert_int_equal(trail_capture_count(hm), 1);
        assert_int_equal(trail_capture_count(ht), 0);
}

/* Filterer.addFilter adds a filter once: trail says so with -EEXIST, and
 * the filter still runs once per record. */
static void a_filter_added_twice_runs_once(void **state) {
        (void) state;
        trail_logger *lg = trail_get("py8");
        struct probe p = {.verdict = true};

        trail_logger_set_propagate(lg, false);
        (void) attach(lg);
        assert_int_equal(trail_logger_add_filter(lg, probe_filter, &p), 0);
        assert_int_equal(trail_logger_add_filter(lg, probe_filter, &p), -EEXIST);
        trail_info(lg, "x");
        assert_int_equal(p.calls, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(logger_level_is_checked_before_logger_filters),
                cmocka_unit_test(handler_level_is_checked_before_handler_filters),
                cmocka_unit_test(filters_run_in_order_and_the_first_no_stops),
                cmocka_unit_test(a_logger_filter_no_stops_propagation_too),
                cmocka_unit_test(a_handler_filter_no_leaves_other_handlers_alone),
                cmocka_unit_test(ancestor_levels_and_filters_are_not_considered),
                cmocka_unit_test(propagate_false_stops_at_that_logger),
                cmocka_unit_test(a_filter_added_twice_runs_once),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
