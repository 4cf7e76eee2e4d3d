/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5), building: from the parsed entries, every section is
 * checked and the handlers and loggers of the new configuration are built
 * aside (struct config); config-env.c puts $TRAIL_LEVEL's levels on top,
 * config.c applies the result. */

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config-private.h"

struct clogger *config_add_logger(struct config *c, const char *name, unsigned line) {
        if (!config_grow((void **) &c->loggers, &c->cap_loggers, c->n_loggers, sizeof(*c->loggers)))
                return NULL;
        struct clogger *l = &c->loggers[c->n_loggers];
        *l = (struct clogger){
                .name = name ? strdup(name) : NULL,
                .line = line,
                .level = name ? TRAIL_LEVEL_INHERIT : TRAIL_INFO,
                .propagate = true,
        };
        if (name && !l->name)
                return NULL;
        c->n_loggers++;
        return l;
}

static struct chandler *config_handler(struct config *c, const char *name) {
        struct key *k = keys_find(c->handler_index, c->n_handlers, name, "");
        return k ? &c->handlers[k->i] : NULL;
}

void config_free_contents(struct config *c) {
        for (size_t i = 0; i < c->n_loggers; i++)
                free(c->loggers[i].name);
        for (size_t i = 0; i < c->n_handlers; i++) {
                free(c->handlers[i].name);
                free(c->handlers[i].summary);
                free(c->handlers[i].pending);
                trail_handler_unref(c->handlers[i].h);
        }
        free(c->loggers);
        free(c->handlers);
        free(c->handler_index);
        free(c->ident);
        free(c->fields);
        free(c->fields_buf);
        free(c->redact);
        free(c->redact_buf);
        errors_free(&c->errors);
}

/* ---- Handlers: types and wrappers ----------------------------------------- */

static const struct entry *hsection_get(const struct hsection *s, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->e[i]->key, key) == 0)
                        return s->e[i];
        return NULL;
}

static trail_handler *create_failed(struct config *c, const struct hsection *s,
                                    const struct entry *e, int errnum) {
        errors_add(&c->errors, e ? e->line : s->line, e ? e->key : "type", errnum,
                   "cannot create the handler: %s", strerror(errnum));
        return NULL;
}

static trail_handler *create_journald(struct config *c, const struct hsection *s, char *summary,
                                      size_t size) {
        trail_handler *h = trail_handler_journald();
        return h ? h : create_failed(c, s, NULL, errno);
}

static trail_handler *create_auto(struct config *c, const struct hsection *s, char *summary,
                                  size_t size) {
        trail_handler *h = trail_handler_auto();
        return h ? h : create_failed(c, s, NULL, errno);
}

/* fd = stderr | stdout | N (not owned; default stderr) */
static trail_handler *create_stream(struct config *c, const struct hsection *s, char *summary,
                                    size_t size) {
        const struct entry *e = hsection_get(s, "fd");
        int fd = STDERR_FILENO;

        if (e) {
                unsigned long long x;
                if (strcmp(e->value, "stderr") == 0)
                        fd = STDERR_FILENO;
                else if (strcmp(e->value, "stdout") == 0)
                        fd = STDOUT_FILENO;
                else if (parse_uint(e->value, INT_MAX, &x) == 0)
                        fd = (int) x;
                else {
                        ERR(c, e, "'%s' is not stderr, stdout or a file descriptor number",
                            e->value);
                        return NULL;
                }
        }
        snprintf(summary, size, " fd=%d", fd);
        trail_handler *h = trail_handler_stream(fd, NULL);
        return h ? h : create_failed(c, s, e, errno);
}

/* target = unix:PATH | udp://HOST:PORT | tcp://… | tls://… | relp://… | relp+tls://…
 * (default: /dev/log).
 * Creating one does not connect: an unreachable collector is not an error
 * of the file, and records wait in the handler's buffer until it answers. */
static trail_handler *create_syslog(struct config *c, const struct hsection *s, char *summary,
                                    size_t size) {
        const struct entry *e = hsection_get(s, "target");
        trail_handler *h = trail_handler_syslog(e ? e->value : NULL);

        if (!h) {
                if (e && errno == EINVAL) {
                        ERR(c, e,
                            "'%s' is not a syslog target (unix:PATH, udp://HOST:PORT, "
                            "tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT, "
                            "relp+tls://HOST:PORT)",
                            e->value);
                        return NULL;
                }
                return create_failed(c, s, e, errno);
        }
        snprintf(summary, size, " target=%s", e ? e->value : "/dev/log");
        return h;
}

/* path = FILE (required); mode, check_interval and the formatter's options
 * go through trail_handler_set(). Neither trail check nor a refused file
 * creates the file: config_apply() does (file_handler_open()). */
static trail_handler *create_file(struct config *c, const struct hsection *s, char *summary,
                                  size_t size) {
        const struct entry *e = hsection_get(s, "path");
        trail_handler *h;

        if (!e || !*e->value) {
                errors_add(&c->errors, e ? e->line : s->line, "path", EINVAL,
                           "missing: a file handler needs a path");
                return NULL;
        }
        h = file_handler_deferred(e->value);
        if (!h) {
                int errnum = errno;
                errors_add(&c->errors, e->line, e->key, errnum, "cannot open '%s': %s", e->value,
                           errnum == EINVAL ? "not a regular file" : strerror(errnum));
                return NULL;
        }
        snprintf(summary, size, " path=%s", e->value);
        return h;
}

/* One entry per handler type (see the end of trail.conf(5) for what each
 * type takes). */
static const struct handler_type handler_types[] = {
        {"journald", NULL, create_journald},
        {"syslog", (const char *const[]){"target", NULL}, create_syslog},
        {"stream", (const char *const[]){"fd", NULL}, create_stream},
        {"file", (const char *const[]){"path", NULL}, create_file},
        {"auto", NULL, create_auto},
        {"memory", (const char *const[]){"target", "capacity", "trigger", "per_thread", NULL},
         create_memory},
};

static bool type_takes(const struct handler_type *t, const char *key) {
        for (const char *const *k = t->keys; k && *k; k++)
                if (strcmp(*k, key) == 0)
                        return true;
        return false;
}

/* "async = yes" wraps the handler in an asynchronous queue
 * (trail_handler_async(3)), with these keys of its own. */
struct async_keys {
        const struct entry *async, *queue, *overflow, *timeout, *keep_level, *flush_timeout, *batch;
        unsigned long long queue_len, batch_len;
        int overflow_mode, keep;
        uint64_t timeout_usec, flush_usec;
};

static bool is_async_key(const struct async_keys *a, const struct entry *e) {
        return e == a->async || e == a->queue || e == a->overflow || e == a->timeout ||
               e == a->keep_level || e == a->flush_timeout || e == a->batch;
}

static trail_handler *wrap_async(struct config *c, const struct async_keys *a,
                                 trail_handler *inner) {
        trail_handler *h = trail_handler_async(inner, a->queue_len, a->overflow_mode);
        int errnum = errno;

        trail_handler_unref(inner); /* the async handler holds its own reference */
        if (!h) {
                errors_add(&c->errors, a->async->line, a->async->key, errnum,
                           "cannot create the asynchronous handler: %s", strerror(errnum));
                return NULL;
        }
        /* Values were checked when read: these cannot fail. */
        if (a->timeout)
                (void) trail_handler_async_set_timeout(h, a->timeout_usec);
        if (a->keep_level)
                (void) trail_handler_async_set_keep_level(h, a->keep);
        if (a->flush_timeout)
                (void) trail_handler_async_set_flush_timeout(h, a->flush_usec);
        if (a->batch)
                (void) trail_handler_set(h, "batch", a->batch->value);
        return h;
}

static const char *set_error(int r) {
        switch (r) {
        case -ENOENT:
                return "unknown key";
        case -EINVAL:
                return "invalid value";
        case -EOPNOTSUPP:
                return "not supported by this handler type";
        default:
                return NULL;
        }
}

/* The wrapper's keys, checked before anything is built. Returns whether
 * the handler is to be wrapped. */
static bool read_async_keys(struct config *c, const struct hsection *s, struct async_keys *a) {
        bool want_async = false;
        int r;

        a->async = hsection_get(s, "async");
        a->queue = hsection_get(s, "queue");
        a->overflow = hsection_get(s, "overflow");
        a->timeout = hsection_get(s, "queue_timeout");
        a->keep_level = hsection_get(s, "keep_level");
        a->flush_timeout = hsection_get(s, "flush_timeout");
        a->batch = hsection_get(s, "batch");
        if (a->async) {
                r = parse_bool(a->async->value);
                if (r < 0)
                        ERR(c, a->async, "'%s' is not yes or no", a->async->value);
                want_async = r > 0;
        }
        if (a->queue &&
            (parse_uint(a->queue->value, 1ULL << 20, &a->queue_len) < 0 || a->queue_len < 16))
                ERR(c, a->queue, "'%s' is not a queue length from 16 to %llu", a->queue->value,
                    1ULL << 20);
        if (a->overflow) {
                if (strcmp(a->overflow->value, "block") == 0)
                        a->overflow_mode = TRAIL_OVERFLOW_BLOCK;
                else if (strcmp(a->overflow->value, "drop-new") == 0)
                        a->overflow_mode = TRAIL_OVERFLOW_DROP_NEW;
                else if (strcmp(a->overflow->value, "drop-old") == 0)
                        a->overflow_mode = TRAIL_OVERFLOW_DROP_OLD;
                else
                        ERR(c, a->overflow, "'%s' is not block, drop-new or drop-old",
                            a->overflow->value);
        }
        if (a->timeout && parse_duration_usec(a->timeout->value, &a->timeout_usec) < 0)
                ERR(c, a->timeout, "'%s' is not a duration (like 50ms, 1s)", a->timeout->value);
        if (a->flush_timeout && parse_duration_usec(a->flush_timeout->value, &a->flush_usec) < 0)
                ERR(c, a->flush_timeout, "'%s' is not a duration (like 500ms, 5s)",
                    a->flush_timeout->value);
        if (a->batch && (parse_uint(a->batch->value, 64, &a->batch_len) < 0 || a->batch_len < 1))
                ERR(c, a->batch, "'%s' is not a batch size from 1 to 64", a->batch->value);
        if (a->keep_level && (a->keep = trail_level_parse(a->keep_level->value)) < 0)
                ERR(c, a->keep_level, "unknown level '%s'", a->keep_level->value);
        if (!want_async) {
                const struct entry *only[] = {a->queue,      a->overflow,      a->timeout,
                                              a->keep_level, a->flush_timeout, a->batch};
                for (size_t i = 0; i < ELEMENTSOF(only); i++)
                        if (only[i])
                                ERR(c, only[i], "only with async = yes");
        }
        return want_async;
}

/* The keys the type's constructor does not take, through
 * trail_handler_set(); each one set is added to the summary. */
static void set_handler_keys(struct config *c, trail_handler *h, const struct handler_type *t,
                             const struct hsection *s, const struct entry *type,
                             const struct async_keys *a, char *summary, size_t size) {
        int r;

        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = s->e[i];
                if (e == type || is_async_key(a, e) || type_takes(t, e->key))
                        continue;
                r = trail_handler_set(h, e->key, e->value);
                if (r >= 0) {
                        snprintf(summary + strlen(summary), size - strlen(summary), " %s=%s",
                                 e->key, e->value);
                        continue;
                }
                const char *why = set_error(r);
                if (r == -ENOENT)
                        ERR(c, e, "unknown key for a %s handler", t->name);
                else if (r == -EINVAL)
                        ERR(c, e, "invalid value '%s'", e->value);
                else
                        errors_add(&c->errors, e->line, e->key, -r, "%s", why ? why : strerror(-r));
        }
}

static void build_handler(struct config *c, struct chandler *ch, const struct hsection *s) {
        const struct entry *type = hsection_get(s, "type");
        const struct handler_type *t = NULL;
        struct async_keys a = {.overflow_mode = TRAIL_OVERFLOW_BLOCK};
        char summary[256] = "";
        size_t errors_before = c->errors.n;
        bool want_async;

        if (!type) {
                errors_add(&c->errors, s->line, "type", EINVAL,
                           "missing: [handler %s] needs a type (journald, syslog, stream, file, "
                           "auto, memory)",
                           s->name);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(handler_types); i++)
                if (strcmp(handler_types[i].name, type->value) == 0)
                        t = &handler_types[i];
        if (!t) {
                char names[128] = "";
                for (size_t i = 0; i < ELEMENTSOF(handler_types); i++)
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                 i ? ", " : "", handler_types[i].name);
                ERR(c, type, "unknown handler type '%s' (this build has: %s)", type->value, names);
                return;
        }
        ch->type = t;

        want_async = read_async_keys(c, s, &a);

        trail_handler *h = t->create(c, s, summary, sizeof(summary));
        if (!h)
                return;

        if (t->create == create_file)
                ch->file = h; /* kept alive by ch->h, async or not */
        set_handler_keys(c, h, t, s, type, &a, summary, sizeof(summary));

        if (c->errors.n > errors_before) {
                trail_handler_unref(h);
                return;
        }
        if (want_async) {
                h = wrap_async(c, &a, h);
                if (!h)
                        return;
                snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
                         " async queue=%llu overflow=%s", a.queue_len,
                         a.overflow ? a.overflow->value : "block");
        }
        ch->h = h;
        ch->summary = strdup(summary);
}

/* ---- Sections ------------------------------------------------------------- */

/* "logger myapp.db" → kind "logger", name "myapp.db". */
static void section_split(const char *section, char *kind, size_t kind_size, const char **name) {
        size_t n = strcspn(section, " \t");
        snprintf(kind, kind_size, "%.*s", (int) n, section);
        section += n;
        while (*section == ' ' || *section == '\t')
                section++;
        *name = section;
}

/* handlers = a, b c: resolved after every [handler] section is known. */
static void set_handler_list(struct config *c, const struct entry *e, struct clogger *l) {
        _cleanup_free_ char *copy = strdup(e->value);
        char *words[LIST_MAX + 1];
        size_t n;

        if (!copy) {
                c->errors.oom = true;
                return;
        }
        n = split_words(copy, words, LIST_MAX);
        if (n > LIST_MAX) {
                ERR(c, e, "more than %d handlers", LIST_MAX);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct chandler *h = config_handler(c, words[i]);
                if (!h) {
                        ERR(c, e, "no [handler %s] section", words[i]);
                        continue;
                }
                bool dup = false;
                for (size_t k = 0; k < l->n_handlers; k++)
                        dup = dup || l->handlers[k] == h;
                if (dup) {
                        ERR(c, e, "handler '%s' listed twice", words[i]);
                        continue;
                }
                h->used = true;
                l->handlers[l->n_handlers++] = h;
        }
}

static void unknown_key(struct config *c, const struct entry *e, const char *section,
                        const char *known) {
        ERR(c, e, "unknown key in [%s] (known: %s)", section, known);
}

/* The indexes: section headers by name; entries by section and key,
 * and by section alone (each section's entries, in file order);
 * [handler NAME] headers and [logger NAME] entries by NAME. */
struct build_index {
        struct key *sec, *ent, *ent_sec, *hsec, *lent;
        size_t n_hsec, n_lent;
};

static void build_index_free(struct build_index *x) {
        free(x->sec);
        free(x->ent);
        free(x->ent_sec);
        free(x->hsec);
        free(x->lent);
}

static bool build_index_make(struct build_index *x, const struct parse *p) {
        struct key *sec = x->sec = calloc(p->n_s + 1, sizeof(*sec));
        struct key *ent = x->ent = calloc(p->n_e + 1, sizeof(*ent));
        struct key *ent_sec = x->ent_sec = calloc(p->n_e + 1, sizeof(*ent_sec));
        struct key *hsec = x->hsec = calloc(p->n_s + 1, sizeof(*hsec));
        struct key *lent = x->lent = calloc(p->n_e + 1, sizeof(*lent));
        size_t n_hsec = 0, n_lent = 0;

        if (!sec || !ent || !ent_sec || !hsec || !lent)
                return false;
        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                sec[i] = (struct key){p->s[i].name, "", i};
                if (strcmp(kind, "handler") == 0 && *name && !strpbrk(name, ", \t"))
                        hsec[n_hsec++] = (struct key){name, "", i};
        }
        for (size_t i = 0; i < p->n_e; i++) {
                char kind[32];
                const char *name;
                section_split(p->e[i].section, kind, sizeof(kind), &name);
                ent[i] = (struct key){p->e[i].section, p->e[i].key, i};
                ent_sec[i] = (struct key){p->e[i].section, "", i};
                if (strcmp(kind, "logger") == 0 && *name)
                        lent[n_lent++] = (struct key){name, "", i};
        }
        keys_sort(sec, p->n_s);
        keys_sort(ent, p->n_e);
        keys_sort(ent_sec, p->n_e);
        keys_sort(hsec, n_hsec);
        keys_sort(lent, n_lent);
        x->n_hsec = n_hsec;
        x->n_lent = n_lent;
        return true;
}

/* Section headers: kinds and duplicates. */
static void check_sections(struct config *c, const struct parse *p, const struct build_index *x) {
        struct key *sec = x->sec;

        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                const struct key *first = keys_find(sec, p->n_s, p->s[i].name, "");
                if (first->i != i)
                        errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                   "duplicate section [%s] (first at line %u)", p->s[i].name,
                                   p->s[first->i].line);
                if (strcmp(kind, "trail") == 0 || strcmp(kind, "filter") == 0) {
                        if (*name)
                                errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                           "[%s] takes no name", kind);
                } else if (strcmp(kind, "logger") == 0 || strcmp(kind, "handler") == 0) {
                        if (!*name)
                                errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                           "[%s] needs a name: [%s NAME]", kind, kind);
                        else if (strcmp(kind, "logger") == 0 &&
                                 (strcmp(name, "root") == 0 ||
                                  !logger_name_is_valid(name, strlen(name))))
                                errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                           strcmp(name, "root") == 0
                                                   ? "the root logger is set in [trail]"
                                                   : "'%s' is not a logger name (dotted, "
                                                     "printable, no blanks)",
                                           name);
                        else if (strcmp(kind, "handler") == 0 && strpbrk(name, ", \t"))
                                errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                           "'%s' is not a handler name (no blanks or commas)",
                                           name);
                } else
                        errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                   "unknown section [%s] (known: [trail], [logger NAME], "
                                   "[handler NAME], [filter])",
                                   p->s[i].name);
        }
}

/* Duplicate keys within a section. */
static void check_duplicate_keys(struct config *c, struct parse *p, const struct build_index *x) {
        struct key *ent = x->ent;

        for (size_t i = 0; i < p->n_e; i++) {
                const struct key *first = keys_find(ent, p->n_e, p->e[i].section, p->e[i].key);
                if (first->i != i) {
                        ERR(c, &p->e[i], "given twice in [%s] (first at line %u)", p->e[i].section,
                            p->e[first->i].line);
                        p->e[i].used = true; /* the first one counts */
                }
        }
}

/* [filter]: redaction for every record, and defaults for sampling
 * and rate limits. */
static void build_filter(struct config *c, struct parse *p) {
        for (size_t i = 0; i < p->n_e; i++) {
                struct entry *e = &p->e[i];
                if (strcmp(e->section, "filter") != 0 || e->used)
                        continue;
                e->used = true;
                if (strcmp(e->key, "redact") == 0)
                        set_redact(c, e);
                else if (strcmp(e->key, "scrub") == 0) {
                        int b = parse_bool(e->value);
                        if (b < 0)
                                ERR(c, e, "'%s' is not yes or no", e->value);
                        c->scrub = b > 0;
                        c->has_scrub = true;
                } else if (!set_flow(c, e, &c->filter_flow))
                        unknown_key(c, e, "filter", "redact, scrub, sample, rate_limit");
        }
}

/* The memory handlers, each after its target (config-memory.c). False
 * when out of memory. */
static bool build_memory_handlers(struct config *c) {
        _cleanup_free_ struct chandler **order = calloc(2 * c->n_handlers + 1, sizeof(*order));
        size_t n;

        if (!order)
                return false;
        n = memory_order(c, order, order + c->n_handlers);
        for (size_t i = 0; i < n; i++)
                build_handler(c, order[i], order[i]->pending);
        return true;
}

/* Handlers, in the order of their sections (memory handlers after their
 * targets). False when out of memory. */
static bool build_handlers(struct config *c, struct parse *p, const struct build_index *x) {
        struct key *hsec = x->hsec, *ent_sec = x->ent_sec;
        size_t n_hsec = x->n_hsec;

        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                if (strcmp(kind, "handler") != 0 || !*name || strpbrk(name, ", \t"))
                        continue;
                /* the first section of that name makes the handler */
                if (keys_find(hsec, n_hsec, name, "")->i != i)
                        continue;
                struct hsection s = {.name = name, .line = p->s[i].line};
                struct key *end = ent_sec + p->n_e;
                for (struct key *k = keys_find(ent_sec, p->n_e, p->s[i].name, "");
                     k && k < end && strcmp(k->a, p->s[i].name) == 0; k++) {
                        struct entry *e = &p->e[k->i];
                        if (e->used)
                                continue;
                        e->used = true;
                        if (s.n < LIST_MAX)
                                s.e[s.n++] = e;
                        else
                                ERR(c, e, "more than %d keys in one section", LIST_MAX);
                }
                if (!config_grow((void **) &c->handlers, &c->cap_handlers, c->n_handlers,
                                 sizeof(*c->handlers)) ||
                    !(c->handlers[c->n_handlers].name = strdup(name)))
                        return false;
                struct chandler *ch = &c->handlers[c->n_handlers++];
                *ch = (struct chandler){.name = ch->name, .line = s.line};
                if (!hsection_is_memory(&s))
                        build_handler(c, ch, &s);
                else if (!(ch->pending = malloc(sizeof(s))))
                        return false;
                else
                        *ch->pending = s; /* built once its target is */
        }
        c->handler_index = calloc(c->n_handlers + 1, sizeof(*c->handler_index));
        if (!c->handler_index)
                return false;
        for (size_t i = 0; i < c->n_handlers; i++)
                c->handler_index[i] = (struct key){c->handlers[i].name, "", i};
        keys_sort(c->handler_index, c->n_handlers);
        return build_memory_handlers(c);
}

/* A key of [trail]. */
static void build_trail_key(struct config *c, const struct entry *e) {
        struct clogger *root = &c->loggers[0];

        if (strcmp(e->key, "level") == 0)
                set_level(c, e, &root->level, false);
        else if (strcmp(e->key, "handlers") == 0)
                set_handler_list(c, e, root);
        else if (strcmp(e->key, "ident") == 0)
                set_ident(c, e);
        else if (strcmp(e->key, "facility") == 0) {
                c->facility = syslog_facility_parse(e->value);
                if (c->facility < 0)
                        ERR(c, e,
                            "unknown facility '%s' (daemon, user, "
                            "local0..local7, …, or 0..23)",
                            e->value);
                c->has_facility = true;
        } else if (strcmp(e->key, "fields") == 0)
                set_fields(c, e);
        else if (strcmp(e->key, "backtrace") == 0) {
                c->has_backtrace = true;
                if (strcasecmp(e->value, "none") == 0 || strcasecmp(e->value, "no") == 0)
                        c->backtrace_level = -1;
                else if ((c->backtrace_level = trail_level_parse(e->value)) < 0)
                        ERR(c, e, "'%s' is not a level or none", e->value);
        } else if (!set_flow(c, e, &root->flow))
                unknown_key(c, e, "trail",
                            "level, handlers, ident, facility, fields, "
                            "backtrace, sample, rate_limit");
}

/* A key of [logger NAME]: one logger per name, at its first section's
 * line. False when out of memory. */
static bool build_logger_key(struct config *c, const struct parse *p, const struct build_index *x,
                             const struct entry *e, const char *name) {
        struct key *lk = keys_find(x->lent, x->n_lent, name, "");
        if (lk->v == 0) {
                const struct key *h = keys_find(x->sec, p->n_s, e->section, "");
                if (!config_add_logger(c, name, h ? p->s[h->i].line : e->line))
                        return false;
                lk->v = c->n_loggers; /* its index + 1 */
        }
        struct clogger *l = &c->loggers[lk->v - 1];
        if (strcmp(e->key, "level") == 0)
                set_level(c, e, &l->level, true);
        else if (strcmp(e->key, "handlers") == 0)
                set_handler_list(c, e, l);
        else if (strcmp(e->key, "propagate") == 0) {
                int b = parse_bool(e->value);
                if (b < 0)
                        ERR(c, e, "'%s' is not yes or no", e->value);
                else
                        l->propagate = b;
        } else if (!set_flow(c, e, &l->flow))
                unknown_key(c, e, e->section, "level, handlers, propagate, sample, rate_limit");
        return true;
}

/* Builds the whole configuration from the entries; errors go to c->errors. */
void config_build(struct config *c, struct parse *p) {
        _cleanup_(build_index_free) struct build_index x = {};

        if (!build_index_make(&x, p)) {
                c->errors.oom = true;
                return;
        }
        check_sections(c, p, &x);
        check_duplicate_keys(c, p, &x);
        build_filter(c, p);
        if (!build_handlers(c, p, &x)) {
                c->errors.oom = true;
                return;
        }

        /* [trail] and [logger NAME]. */
        if (!config_add_logger(c, NULL, 0)) {
                c->errors.oom = true;
                return;
        }
        for (size_t i = 0; i < p->n_e; i++) {
                struct entry *e = &p->e[i];
                char kind[32];
                const char *name;

                if (e->used)
                        continue;
                e->used = true;
                section_split(e->section, kind, sizeof(kind), &name);
                if (!*e->section) {
                        ERR(c, e, "outside any section: put it under [trail]");
                        continue;
                }
                if (strcmp(kind, "trail") == 0 && !*name)
                        build_trail_key(c, e);
                else if (strcmp(kind, "logger") == 0 && *name && strcmp(name, "root") != 0 &&
                         logger_name_is_valid(name, strlen(name))) {
                        if (!build_logger_key(c, p, &x, e, name)) {
                                c->errors.oom = true;
                                return;
                        }
                }
                /* else: the section header already has its error */
        }
}
