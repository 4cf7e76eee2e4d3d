/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The process-wide calls: trail_get() (the configuration read on first use,
 * then the logger tree), and flush, statistics and shutdown over every
 * handler, with the flush at exit. This file sits above all others: nothing
 * in the library calls back into it. */

#include "logger-private.h"

_public_ trail_logger *trail_get(const char *name) {
        config_autoload_once();
        return logger_get(name);
}

/* ---- Statistics --------------------------------------------------------- */

/* Each handler counted once, however many loggers it is attached to: a
 * walk marks the handlers it counted with its own number (the walk runs
 * under the registry lock, which orders the marks). */
static uint64_t stats_walks; /* atomic */

struct stats_walk {
        trail_stats s;
        uint64_t id;
};

static void stats_add_set(struct handler_set *set, void *userdata) {
        struct stats_walk *w = userdata;

        for (size_t i = 0; i < set->n; i++) {
                trail_handler *h = set->h[i];
                if (h->stats_walk == w->id)
                        continue;
                h->stats_walk = w->id;
                handler_stats_add(h, &w->s);
        }
}

_public_ int trail_get_stats(trail_stats *ret) {
        struct stats_walk w = {.id = __atomic_add_fetch(&stats_walks, 1, __ATOMIC_RELAXED)};
        trail_handler *lr;

        if (!ret)
                return -EINVAL;
        loggers_for_each_handler_set(stats_add_set, &w);
        lr = handler_last_resort_peek();
        if (lr)
                handler_stats_add(lr, &w.s);
        w.s.fields_renamed = atomic_get(&trail_stat_fields_renamed);
        w.s.fields_dropped = atomic_get(&trail_stat_fields_dropped);
        w.s.truncated = atomic_get(&trail_stat_truncated);
        *ret = w.s;
        return 0;
}

/* ---- Flush and shutdown ------------------------------------------------- */

static void flush_set(struct handler_set *set, void *userdata) {
        int *result = userdata;

        for (size_t i = 0; i < set->n; i++)
                if (set->h[i]->ops->flush) {
                        int r = set->h[i]->ops->flush(set->h[i]);
                        if (r < 0 && *result == 0)
                                *result = r;
                }
}

_public_ int trail_flush(void) {
        PROTECT_ERRNO;
        trail_handler *lr;
        int r = 0;

        /* Handlers flush holding the locks a record needs: a signal
         * handler's record meanwhile is refused rather than waiting. */
        thread_busy_enter();
        loggers_for_each_handler_set(flush_set, &r);
        lr = handler_last_resort_peek();
        if (lr && lr->ops->flush) {
                int k = lr->ops->flush(lr);
                if (k < 0 && r == 0)
                        r = k;
        }
        thread_busy_leave();
        return r;
}

_public_ void trail_shutdown(void) {
        PROTECT_ERRNO;

        (void) trail_flush();
        config_free();
        loggers_detach_all_handlers();
        handler_sets_free_retired();
        globals_free();
        redact_free();
        settings_free();
        tls_state_release();
        dispatch_slot_release();
}

/* At exit, records already handed to a handler are delivered; nothing is
 * freed, since other threads may still be logging. */
__attribute__((destructor)) static void trail_at_exit(void) {
        (void) trail_flush();
}
