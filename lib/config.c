/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5): the file is parsed by libinih into entries
 * (config-parse.c), every entry is validated and the whole new
 * configuration (handlers, levels, propagation, ident, facility, global
 * fields) is built aside (config-build.c); only when nothing is wrong is it
 * swapped in, here, at once, while other threads log (grace.c). Also
 * $TRAIL_CONFIG and $TRAIL_LEVEL, read when the first logger is asked for,
 * and trail check's description of a configuration. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

/* How long a swap waits for records already being delivered. */
#define SWAP_WAIT_MS 1000

static void error_to_stderr(const char *file, unsigned line, const char *key, const char *message,
                            void *userdata) {
        (void) userdata;
        if (line > 0)
                fprintf(stderr, "%s:%u: ", file, line);
        else
                fprintf(stderr, "%s: ", file);
        if (key)
                fprintf(stderr, "%s: ", key);
        fprintf(stderr, "%s\n", message);
}

static void error_silent(const char *file, unsigned line, const char *key, const char *message,
                         void *userdata) {
}

/* ---- Applying ------------------------------------------------------------- */

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
/* Whether this thread holds config_lock: a program that forks from a
 * callback of trail_configure_full() (its error callback) holds it already. */
static __thread bool config_lock_mine;

static void config_lock_take(void) {
        pthread_mutex_lock(&config_lock);
        config_lock_mine = true;
}

static void config_lock_drop(void) {
        config_lock_mine = false;
        pthread_mutex_unlock(&config_lock);
}

/* fork(): a configuration is never inherited half-applied. */
static bool config_fork_taken;

static void config_fork_prepare(void) {
        config_fork_taken = !config_lock_mine;
        if (config_fork_taken)
                pthread_mutex_lock(&config_lock);
}

static void config_fork_release(void) {
        if (config_fork_taken)
                pthread_mutex_unlock(&config_lock);
}

static const struct fork_hooks config_fork = {
        .prepare = config_fork_prepare,
        .parent = config_fork_release,
        .child = config_fork_release,
};
__attribute__((constructor)) static void config_fork_register(void) {
        fork_hooks_register(FORK_RANK_CONFIG, &config_fork);
}
int config_autoload_done;

/* What the configuration in force manages, so that the next one can take
 * it back: loggers it set, and whether it set ident, facility, fields. */
static struct {
        trail_logger **loggers;
        size_t n;
        bool ident, facility, fields;
        bool redact, scrub, backtrace, flow; /* set: the next one resets them */
        struct handler_set *deferred;        /* replaced, not yet proven unused */
} current;

static void handler_sets_flush(struct handler_set *s) {
        for (; s; s = s->retired_next)
                for (size_t i = 0; i < s->n; i++)
                        if (s->h[i]->ops->flush)
                                (void) s->h[i]->ops->flush(s->h[i]);
}

static void handler_sets_release(struct handler_set *s) {
        while (s) {
                struct handler_set *next = s->retired_next;
                handler_set_release(s);
                s = next;
        }
}

static struct handler_set *handler_set_new(const struct clogger *l) {
        struct handler_set *set;

        if (l->n_handlers == 0)
                return NULL;
        set = malloc(sizeof(*set) + l->n_handlers * sizeof(set->h[0]));
        if (!set)
                return NULL;
        set->retired_next = NULL;
        set->n = l->n_handlers;
        for (size_t i = 0; i < l->n_handlers; i++)
                set->h[i] = trail_handler_ref(l->handlers[i]->h);
        return set;
}

static bool config_sets_flow(const struct config *c) {
        bool any = c->filter_flow.has_sample || c->filter_flow.has_rate_limit;
        for (size_t i = 0; i < c->n_loggers && !any; i++)
                any = c->loggers[i].flow.has_sample || c->loggers[i].flow.has_rate_limit;
        return any;
}

/* Sampling and rate limits of the loggers the file names: their own, else
 * [filter]'s, else none. Once a configuration has set any, the next one sets
 * (or resets) them on every logger it manages or gives back: ch[0..) are
 * c->loggers in order, then the loggers given back. */
static void config_apply_flow(const struct config *c, const struct logger_change *ch, size_t n) {
        if (!config_sets_flow(c) && !current.flow)
                return;
        for (size_t i = 0; i < n; i++) {
                struct flow_setting f = {.sample = 1};
                if (i < c->n_loggers) {
                        const struct clogger *l = &c->loggers[i];
                        if (!ch[i].replace_handlers)
                                continue; /* only $TRAIL_LEVEL names it */
                        const struct flow_setting *d = &c->filter_flow;
                        if (l->flow.has_sample || d->has_sample)
                                f.sample = l->flow.has_sample ? l->flow.sample : d->sample;
                        const struct flow_setting *rl = l->flow.has_rate_limit ? &l->flow : d;
                        if (rl->has_rate_limit) {
                                f.burst = rl->burst;
                                f.interval = rl->interval;
                        }
                }
                (void) trail_logger_set_sample(ch[i].lg, f.sample);
                (void) trail_logger_set_rate_limit(ch[i].lg, f.burst, f.interval);
        }
}

static int pointer_cmp(const void *a, const void *b) {
        uintptr_t x = (uintptr_t) * (void *const *) a, y = (uintptr_t) * (void *const *) b;
        return x < y ? -1 : x > y;
}

/* The changes to the loggers: those of the configuration in c's order,
 * then those the previous one set and this one does not. ch has room for
 * both, managed for c's; *ret_n changes are made, even on failure. */
static int logger_changes(struct config *c, struct logger_change *ch, trail_logger **managed,
                          size_t *ret_n, size_t *ret_n_managed) {
        size_t n = 0, n_managed = 0;
        int r = -ENOMEM;

        for (size_t i = 0; i < c->n_loggers; i++) {
                struct clogger *l = &c->loggers[i];
                l->lg = logger_get(l->name);
                if (!l->lg)
                        goto done;
                bool was_managed = current.n > 0 && bsearch(&l->lg, current.loggers, current.n,
                                                            sizeof(*current.loggers), pointer_cmp);
                /* A logger only $TRAIL_LEVEL names keeps what the program
                 * gave it, unless the previous configuration set that. */
                ch[n] = (struct logger_change){
                        .lg = l->lg,
                        .level = l->level,
                        .propagate = l->propagate,
                        .replace_handlers = !l->from_env || was_managed,
                        .set_propagate = !l->from_env || was_managed,
                };
                if (!l->from_env && l->n_handlers > 0 && !(ch[n].set = handler_set_new(l)))
                        goto done;
                n++;
                if (i > 0)
                        managed[n_managed++] = l->lg;
        }
        /* Loggers the previous configuration set and this one does not: back
         * to inheriting, propagating, no handlers. Both lists sorted, as
         * current.loggers stays: lookups by bisection. */
        if (n_managed > 1)
                qsort(managed, n_managed, sizeof(*managed), pointer_cmp);
        for (size_t i = 0; i < current.n; i++) {
                bool kept = n_managed > 0 && bsearch(&current.loggers[i], managed, n_managed,
                                                     sizeof(*managed), pointer_cmp);
                if (!kept)
                        ch[n++] = (struct logger_change){
                                .lg = current.loggers[i],
                                .level = TRAIL_LEVEL_INHERIT,
                                .propagate = true,
                                .replace_handlers = true,
                                .set_propagate = true,
                        };
        }
        r = 0;
done:
        *ret_n = n;
        *ret_n_managed = n_managed;
        return r;
}

/* What was replaced is flushed and closed once no record can be in
 * it; a record stuck in a handler past the wait keeps it (and what
 * earlier swaps left) alive until a later grace period or
 * trail_shutdown(). */
static void release_replaced(struct handler_set *replaced, bool drained) {
        if (!drained)
                drained = dispatch_grace_wait(SWAP_WAIT_MS);
        if (drained) {
                handler_sets_release(current.deferred);
                current.deferred = NULL;
                handler_sets_release(replaced);
        } else {
                handler_sets_flush(replaced);
                while (replaced) {
                        struct handler_set *next = replaced->retired_next;
                        replaced->retired_next = current.deferred;
                        current.deferred = replaced;
                        replaced = next;
                }
        }
}

static int config_apply(struct config *c) {
        struct ident_prepared *ident = NULL;
        struct field_store fields = {};
        struct logger_change *ch = NULL;
        trail_logger **managed = NULL;
        size_t n = 0, n_managed = 0;
        bool set_ident = c->has_ident || current.ident;
        bool set_fields = c->has_fields || current.fields;
        int r = -ENOMEM;

        /* Everything that can fail, before anything changes. */
        for (size_t i = 0; i < c->n_handlers; i++)
                if (c->handlers[i].file && c->handlers[i].used &&
                    (r = file_handler_open(c->handlers[i].file)) < 0)
                        goto fail;
        if (set_ident && (r = ident_prepare(c->has_ident ? c->ident : NULL, &ident)) < 0)
                goto fail;
        if (set_fields &&
            (r = globals_prepare((trail_fields){c->fields, c->n_fields}, &fields)) < 0)
                goto fail;
        r = -ENOMEM;
        ch = calloc(c->n_loggers + current.n, sizeof(*ch));
        managed = calloc(c->n_loggers, sizeof(*managed));
        if (!ch || !managed)
                goto fail;
        if ((r = logger_changes(c, ch, managed, &n, &n_managed)) < 0)
                goto fail;

        /* Redaction and backtraces: the last steps that can fail. A
         * failure after them would leave them changed, so nothing follows
         * that can. */
        if ((c->has_redact || current.redact) &&
            (r = trail_set_redact_fields(c->has_redact ? (const char *const *) c->redact : NULL)) <
                    0)
                goto fail;
        if ((c->has_backtrace || current.backtrace) &&
            (r = trail_set_backtrace_level(c->has_backtrace ? c->backtrace_level : -1)) < 0) {
                if (c->has_redact || current.redact)
                        (void) trail_set_redact_fields(NULL);
                goto fail;
        }

        /* The swap: new records wait at the door, those in flight finish. */
        bool drained = dispatch_swap_begin(SWAP_WAIT_MS);
        struct handler_set *replaced = loggers_apply(ch, n);
        if (ident)
                ident_publish(ident);
        if (c->has_facility || current.facility)
                (void) trail_set_facility(c->has_facility ? c->facility : 3);
        if (set_fields)
                globals_publish(GLOBALS_CONFIG, &fields);
        if (c->has_scrub || current.scrub)
                (void) trail_set_scrub(c->has_scrub ? c->scrub : true);
        config_apply_flow(c, ch, n);
        dispatch_swap_end();
        /* a reload reopens files too: the new handlers opened theirs, and
         * file handlers a program made itself reopen theirs (logrotate's
         * postrotate often reloads) */
        file_handlers_reopen();

        release_replaced(replaced, drained);

        free(current.loggers);
        current.loggers = managed;
        current.n = n_managed;
        current.ident = c->has_ident;
        current.facility = c->has_facility;
        current.fields = c->has_fields;
        current.redact = c->has_redact;
        current.scrub = c->has_scrub;
        current.backtrace = c->has_backtrace;
        current.flow = config_sets_flow(c);
        free(ch);
        return 0;

fail:
        ident_prepared_free(ident);
        field_store_free(&fields);
        if (ch)
                for (size_t i = 0; i < n; i++)
                        handler_set_release(ch[i].set);
        free(ch);
        free(managed);
        return r;
}

/* ---- trail check: what a configuration sets up ----------------------------- */

static void describe_logger(const struct config *c, const struct clogger *l, FILE *out) {
        fprintf(out, "logger %s: level %s", l->name ? l->name : "root",
                l->level == TRAIL_LEVEL_INHERIT ? "inherited" : trail_level_name(l->level));
        if (l->from_env) {
                fprintf(out, " (from $TRAIL_LEVEL)\n");
                return;
        }
        if (l->name)
                fprintf(out, ", propagate %s", l->propagate ? "yes" : "no");
        fprintf(out, ", handlers:");
        for (size_t i = 0; i < l->n_handlers; i++)
                fprintf(out, " %s", l->handlers[i]->name);
        if (l->n_handlers == 0)
                fprintf(out, l->name ? " none" : " none (records go to the auto handler)");
        const struct flow_setting *d = &c->filter_flow;
        const struct flow_setting *smp = l->flow.has_sample ? &l->flow : d->has_sample ? d : NULL;
        const struct flow_setting *rl = l->flow.has_rate_limit ? &l->flow
                                        : d->has_rate_limit    ? d
                                                               : NULL;
        if (smp && smp->sample > 1)
                fprintf(out, ", sample 1 in %u", smp->sample);
        if (rl && rl->burst > 0)
                fprintf(out, ", rate limit %u per %llu ms", rl->burst,
                        (unsigned long long) (rl->interval / 1000));
        fputc('\n', out);
}

/* The file's layer of global fields, written as the file would write them;
 * the program's own (trail_set_global_fields()) come on top of nothing
 * here, so the line says how the two add up. */
static void describe_fields(const struct config *c, FILE *out) {
        fprintf(out, "global fields:");
        for (size_t i = 0; i < c->n_fields; i++) {
                const char *v = c->fields[i].value.s;
                if (*v && !v[strcspn(v, " \t\"\\")]) {
                        fprintf(out, " %s=%s", c->fields[i].name, v);
                        continue;
                }
                fprintf(out, " %s=\"", c->fields[i].name);
                for (; *v; v++)
                        fprintf(out, *v == '"' || *v == '\\' ? "\\%c" : "%c", *v);
                fputc('"', out);
        }
        fprintf(out, c->n_fields ? " (added to the program's own; on a name set in both, "
                                   "these win)\n"
                                 : " none from the file (the program's own still apply)\n");
}

static void describe(const struct config *c, FILE *out) {
        fprintf(out, "%s: configuration is valid\n", c->file);
        fprintf(out, "ident: %s\n", c->has_ident ? c->ident : "(program name)");
        fprintf(out, "facility: %s (%d)\n", syslog_facility_name(c->has_facility ? c->facility : 3),
                c->has_facility ? c->facility : 3);
        describe_fields(c, out);
        fprintf(out, "redaction: ");
        if (!c->has_redact)
                fprintf(out, "the built-in list");
        else if (!c->redact[0])
                fprintf(out, "none");
        for (size_t i = 0; c->has_redact && c->redact[i]; i++)
                fprintf(out, "%s%s", i ? " " : "", c->redact[i]);
        fprintf(out, ", scrubber %s\n", !c->has_scrub || c->scrub ? "on" : "off");
        if (c->has_backtrace)
                fprintf(out, "backtraces: %s\n",
                        c->backtrace_level < 0 ? "none" : trail_level_name(c->backtrace_level));
        for (size_t i = 0; i < c->n_loggers; i++)
                describe_logger(c, &c->loggers[i], out);
        for (size_t i = 0; i < c->n_handlers; i++)
                fprintf(out, "handler %s: type %s%s%s\n", c->handlers[i].name,
                        c->handlers[i].type->name, c->handlers[i].summary ?: "",
                        c->handlers[i].used ? "" : " (unused)");
}

/* ---- Loading --------------------------------------------------------------- */

static void config_record(bool loaded, const char *file, const char *why) {
        static const trail_source src = {__FILE__, "config_record", __LINE__, STRLEN(__FILE__),
                                         STRLEN("config_record")};
        const struct rfield f = {.name = "CONFIG_FILE", .type = TRAIL_FIELD_STR, .v.s = file};
        struct own_record o;

        if (loaded)
                own_record_build(&o, TRAIL_INFO, &src, TRAIL_MESSAGE_ID_CONFIG_LOADED, &f, 1,
                                 "configuration loaded from %s", file);
        else
                own_record_build(&o, TRAIL_ERROR, &src, TRAIL_MESSAGE_ID_CONFIG_ERROR, &f, 1,
                                 "configuration %s refused, the previous one stays: %s", file, why);
        (void) own_record_log(&o, logger_get("trail"));
}

/* Parses, validates, builds and (unless TRAIL_CONFIGURE_CHECK) applies the
 * file, or the default configuration when path is NULL. Called under
 * config_lock; *ret_why gets the first error's text for the record. */
static int config_load_locked(const char *path, unsigned flags, trail_config_error_fn on_error,
                              void *userdata, FILE *out, char **ret_why) {
        struct errors errors = {};
        struct parse p = {.file = path, .errors = &errors};
        struct config c = {.file = path ? path : "(default)", .backtrace_level = -1};
        int r = 0;

        if (path) {
                r = config_parse_file(path, &p);
                if (r < 0)
                        goto report;
        }
        c.errors = errors;
        errors = (struct errors){};
        config_build(&c, &p);
        if (c.loggers && env_levels(&c, on_error, userdata) == -ENOMEM)
                c.errors.oom = true;
        if (c.errors.oom)
                errors_add(&c.errors, 0, NULL, ENOMEM, "out of memory");
        errors = c.errors;
        c.errors = (struct errors){};

report:
        if (errors.n == 0 && errors.oom) {
                /* so short of memory that even the error could not be
                 * recorded: still refused, never half applied */
                on_error(c.file, 0, NULL, "out of memory", userdata);
                r = -ENOMEM;
        } else if (errors.n > 0) {
                qsort(errors.e, errors.n, sizeof(errors.e[0]), error_cmp);
                for (size_t i = 0; i < errors.n; i++)
                        on_error(c.file, errors.e[i].line, errors.e[i].key, errors.e[i].message,
                                 userdata);
                if (errors.n_more > 0) {
                        char msg[64];
                        snprintf(msg, sizeof(msg), "%zu more errors not shown", errors.n_more);
                        on_error(c.file, 0, NULL, msg, userdata);
                }
                r = -errors.e[0].errnum;
                if (ret_why) {
                        const struct config_error *e = &errors.e[0];
                        if (asprintf(ret_why, "%s:%u: %s%s%s", path, e->line, e->key ?: "",
                                     e->key ? ": " : "", e->message) < 0)
                                *ret_why = NULL;
                }
        } else if (flags & TRAIL_CONFIGURE_CHECK) {
                if (out)
                        describe(&c, out);
        } else {
                r = config_apply(&c);
                /* nothing was swapped in: the file is not at fault, but the
                 * caller's error callback hears of it like of any other */
                if (r < 0)
                        on_error(c.file, 0, NULL, strerror(-r), userdata);
        }

        errors_free(&errors);
        config_free_contents(&c);
        parse_free(&p);
        return r;
}

int config_check(const char *path, trail_config_error_fn on_error, void *userdata, FILE *out) {
        PROTECT_ERRNO;
        int r;

        config_lock_take();
        r = config_load_locked(path, TRAIL_CONFIGURE_CHECK, on_error ?: error_to_stderr, userdata,
                               out, NULL);
        config_lock_drop();
        return r;
}

_public_ int trail_configure_full(const char *path, unsigned flags, trail_config_error_fn on_error,
                                  void *userdata) {
        PROTECT_ERRNO;
        _cleanup_free_ char *why = NULL, *env = NULL;
        int r;

        if (flags & ~TRAIL_CONFIGURE_CHECK)
                return -EINVAL;
        /* From a handler or filter, the swap would wait for itself. */
        if (thread_busy > 0)
                return -EDEADLK;
        if (!path) {
                const char *e = secure_getenv("TRAIL_CONFIG");
                if (e && *e && !(env = strdup(e)))
                        return -ENOMEM;
                path = env;
        }

        config_lock_take();
        /* An explicit configuration wins over $TRAIL_CONFIG, even one read
         * later by a thread that asked for its first logger meanwhile. */
        __atomic_store_n(&config_autoload_done, 1, __ATOMIC_RELEASE);
        r = config_load_locked(path, flags, on_error ?: error_to_stderr, userdata, NULL, &why);
        config_lock_drop();

        if (!(flags & TRAIL_CONFIGURE_CHECK) && path)
                config_record(r >= 0, path, why ?: strerror(-r));
        return r;
}

_public_ int trail_configure(const char *path) {
        return trail_configure_full(path, 0, NULL, NULL);
}

/* The first trail_get(): $TRAIL_CONFIG, or else $TRAIL_LEVEL alone. Other
 * threads asking for a logger meanwhile wait for it; this thread's own calls
 * (building the configuration asks for loggers) go through. */
static __thread bool autoloading;

void config_autoload(void) {
        PROTECT_ERRNO;
        _cleanup_free_ char *why = NULL;
        const char *path;
        int r = 0;

        if (autoloading)
                return;
        autoloading = true;
        config_lock_take();
        if (__atomic_load_n(&config_autoload_done, __ATOMIC_ACQUIRE)) {
                config_lock_drop();
                autoloading = false;
                return;
        }
        __atomic_store_n(&config_autoload_done, 1, __ATOMIC_RELEASE);
        path = secure_getenv("TRAIL_CONFIG");
        if (path && !*path)
                path = NULL;
        if (path || secure_getenv("TRAIL_LEVEL")) {
                r = config_load_locked(path, 0, error_to_stderr, NULL, NULL, &why);
                /* A refused file leaves the default; $TRAIL_LEVEL still counts. */
                if (r < 0 && path)
                        (void) config_load_locked(NULL, 0, error_silent, NULL, NULL, NULL);
        }
        config_lock_drop();
        autoloading = false;
        if (path)
                config_record(r >= 0, path, why ?: strerror(-r));
}

void config_free(void) {
        config_lock_take();
        handler_sets_release(current.deferred);
        current.deferred = NULL;
        free(current.loggers);
        current.loggers = NULL;
        current.n = 0;
        current.ident = current.facility = current.fields = false;
        current.redact = current.scrub = current.backtrace = current.flow = false;
        config_lock_drop();
}
