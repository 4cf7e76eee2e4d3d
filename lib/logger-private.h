/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loggers layer (logger.c) and what the layers above it share: the
 * builder (log.c), the configuration (config*.c) and the process calls
 * (trail.c, trail-tool.c). */
#pragma once

#include "handler-private.h"

/* An immutable handler list; replaced as a whole, never edited in place, so
 * that a logging thread can walk it without a lock. */
struct handler_set {
        struct handler_set *retired_next;
        size_t n;
        trail_handler *h[];
};

/* logger.c */
trail_logger *logger_root(void);
/* trail_get() without the configuration's autoload (for config.c). */
trail_logger *logger_get(const char *name);
void loggers_for_each_handler_set(void (*fn)(struct handler_set *set, void *userdata),
                                  void *userdata);
void loggers_detach_all_handlers(void);
void handler_sets_free_retired(void);
bool logger_name_is_valid(const char *name, size_t n);
void handler_set_release(struct handler_set *set); /* unrefs its handlers; NULL-safe */

/* config.c: one logger's part of a configuration, applied with the others
 * under the registry lock by loggers_apply(), which cannot fail. */
struct logger_change {
        trail_logger *lg;
        int level; /* TRAIL_LEVEL_INHERIT or a level */
        bool propagate, set_propagate;
        struct handler_set *set; /* taken over; NULL: no handlers */
        bool replace_handlers;
};
/* Returns the replaced handler sets, chained through retired_next. */
struct handler_set *loggers_apply(const struct logger_change *c, size_t n);

/* config.c: $TRAIL_CONFIG and $TRAIL_LEVEL, read when the first logger is
 * asked for. */
extern int config_autoload_done;
void config_autoload(void);
static inline void config_autoload_once(void) {
        if (_unlikely_(!__atomic_load_n(&config_autoload_done, __ATOMIC_ACQUIRE)))
                config_autoload();
}
void config_free(void);
/* trail check: validates path and describes what it would set up on out. */
int config_check(const char *path, trail_config_error_fn on_error, void *userdata, FILE *out);
