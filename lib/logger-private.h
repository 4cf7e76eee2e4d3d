/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loggers layer (logger.c) and what the layers above it share: the
 * builder (log.c), the configuration (config*.c) and the process calls
 * (trail.c, trail-tool.c). */
#pragma once

#include "handler-private.h"

/* The logger node. Below this layer a logger is opaque: a record carries
 * its LOGGER= field (struct trail_record), flow.c gets its limits. */
struct trail_logger {
        int level_effective; /* first: read by the inline trail_enabled() */
        int level_set;       /* TRAIL_LEVEL_INHERIT or a level */
        bool propagate;
        struct handler_set *handlers; /* atomic pointer; NULL when none */
        struct filter_list *filters;  /* atomic pointer; NULL when none */
        struct trail_logger *parent, *first_child, *next_sibling, *hash_next;
        struct flow_limits flow; /* sampling and rate limit of its call sites */
        const char *name;        /* points into logger_field */
        size_t field_len;        /* strlen(logger_field) */
        char logger_field[];     /* "LOGGER=name" */
};
/* trail.h's inline trail_enabled() and trail__wants() read the first int of
 * the opaque logger: that int must stay the effective level. */
_Static_assert(offsetof(struct trail_logger, level_effective) == 0,
               "trail.h reads the effective level at offset 0");
_Static_assert(sizeof(((struct trail_logger *) 0)->level_effective) == sizeof(int),
               "trail.h reads the effective level as an int");

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

/* log.c: dispatches one of trail's own records (record-private.h) through
 * lg's handlers, as if logged on lg, when lg's level lets it through. */
int own_record_log(struct own_record *o, const trail_logger *lg);

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
