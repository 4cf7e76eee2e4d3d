/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5): the file is parsed by libinih into entries, every entry is
 * validated and the whole new configuration (handlers, levels, propagation,
 * ident, facility, global fields) is built aside; only when nothing is wrong
 * is it swapped in, at once, while other threads log (grace.c). Also
 * $TRAIL_CONFIG and $TRAIL_LEVEL, read when the first logger is asked for. */

#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "trail-private.h"

/* How long a swap waits for records already being delivered. */
#define SWAP_WAIT_MS 1000

/* ---- Errors --------------------------------------------------------------- */

struct config_error {
        unsigned line;
        char *key;
        char *message;
        int errnum; /* positive */
};

struct errors {
        struct config_error *e;
        size_t n, cap;
        bool oom;
};

static void errors_add(struct errors *es, unsigned line, const char *key, int errnum,
                       const char *fmt, ...) TRAIL__PRINTF(5, 6);
static void errors_add(struct errors *es, unsigned line, const char *key, int errnum,
                       const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;

        if (es->n == es->cap) {
                size_t cap = es->cap ? es->cap * 2 : 8;
                struct config_error *p = realloc(es->e, cap * sizeof(*p));
                if (!p) {
                        es->oom = true;
                        return;
                }
                es->e = p;
                es->cap = cap;
        }
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg) {
                es->oom = true;
                return;
        }
        es->e[es->n++] = (struct config_error) {
                .line = line,
                .key = key ? strdup(key) : NULL,
                .message = msg,
                .errnum = errnum,
        };
}

static int error_cmp(const void *a, const void *b) {
        const struct config_error *x = a, *y = b;
        return x->line < y->line ? -1 : x->line > y->line;
}

static void errors_free(struct errors *es) {
        for (size_t i = 0; i < es->n; i++) {
                free(es->e[i].key);
                free(es->e[i].message);
        }
        free(es->e);
        *es = (struct errors) {};
}

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

/* ---- Parsing: libinih into a list of entries ------------------------------ */

struct entry {
        char *section; /* as written, between the brackets */
        char *key;
        char *value;
        unsigned line;
        bool used;
};

struct section_header {
        char *name;
        unsigned line;
};

struct parse {
        const char *file;
        FILE *f;
        struct errors *errors;
        unsigned line;   /* lines handed to inih so far */
        bool indented;   /* the current line starts with a blank */
        char *buf;
        size_t buf_cap;
        struct entry *e;
        size_t n_e, cap_e;
        struct section_header *s;
        size_t n_s, cap_s;
        bool oom;
};

static bool grow(void **p, size_t *cap, size_t n, size_t size) {
        if (n < *cap)
                return true;
        size_t c = *cap ? *cap * 2 : 16;
        void *q = realloc(*p, c * size);
        if (!q)
                return false;
        *p = q;
        *cap = c;
        return true;
}

/* inih truncates section names silently at 50 bytes (MAX_SECTION). */
#define SECTION_MAX 49

static void note_section(struct parse *p, const char *line, size_t n) {
        const char *s = line, *end = line + n;

        while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        if (s >= end || *s != '[')
                return;
        const char *close = memchr(s, ']', (size_t) (end - s));
        if (!close)
                return; /* inih reports it */
        size_t len = (size_t) (close - s - 1);
        if (len > SECTION_MAX) {
                errors_add(p->errors, p->line, NULL, EINVAL,
                           "section name longer than %d bytes", SECTION_MAX);
                return;
        }
        if (!grow((void **) &p->s, &p->cap_s, p->n_s, sizeof(*p->s))) {
                p->oom = true;
                return;
        }
        char *name = strndup(s + 1, len);
        if (!name) {
                p->oom = true;
                return;
        }
        p->s[p->n_s++] = (struct section_header) { name, p->line };
}

/* inih's fgets-style reader: whole lines are read here first, so that a line
 * too long for inih's buffer, a NUL byte or other binary data is an error
 * with its line number instead of a silently cut value. */
static char *read_line(char *str, int num, void *stream) {
        struct parse *p = stream;
        ssize_t n = getline(&p->buf, &p->buf_cap, p->f);

        if (n < 0)
                return NULL;
        p->line++;
        p->indented = n > 0 && (p->buf[0] == ' ' || p->buf[0] == '\t');
        for (ssize_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p->buf[i];
                if ((c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                        errors_add(p->errors, p->line, NULL, EINVAL,
                                   "binary data (byte 0x%02x at column %zd)", c, i + 1);
                        strcpy(str, "\n");
                        return str;
                }
        }
        if (n > num - 3) { /* inih wants room for "\r\n\0" */
                errors_add(p->errors, p->line, NULL, EINVAL,
                           "line longer than %d bytes: continue the value on an indented line",
                           num - 3);
                strcpy(str, "\n");
                return str;
        }
        memcpy(str, p->buf, (size_t) n + 1);
        note_section(p, p->buf, (size_t) n);
        return str;
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value) {
        struct parse *p = userdata;

        /* An indented line after a key continues its value (inih calls us
         * again with the same key): lists may span lines. */
        if (p->indented && p->n_e > 0) {
                struct entry *last = &p->e[p->n_e - 1];
                if (strcmp(last->section, section) == 0 && strcmp(last->key, key) == 0) {
                        char *v;
                        if (asprintf(&v, "%s %s", last->value, value) < 0) {
                                p->oom = true;
                                return 1;
                        }
                        free(last->value);
                        last->value = v;
                        return 1;
                }
        }
        if (!grow((void **) &p->e, &p->cap_e, p->n_e, sizeof(*p->e))) {
                p->oom = true;
                return 1;
        }
        struct entry e = {
                .section = strdup(section),
                .key = strdup(key),
                .value = strdup(value),
                .line = p->line,
        };
        if (!e.section || !e.key || !e.value) {
                free(e.section);
                free(e.key);
                free(e.value);
                p->oom = true;
                return 1;
        }
        p->e[p->n_e++] = e;
        return 1;
}

static void parse_free(struct parse *p) {
        for (size_t i = 0; i < p->n_e; i++) {
                free(p->e[i].section);
                free(p->e[i].key);
                free(p->e[i].value);
        }
        for (size_t i = 0; i < p->n_s; i++)
                free(p->s[i].name);
        free(p->e);
        free(p->s);
        free(p->buf);
}

/* ---- Values --------------------------------------------------------------- */

static int parse_bool(const char *v) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *ret) {
        char *end;
        unsigned long long x;

        if (!isdigit((unsigned char) v[0]))
                return -EINVAL;
        errno = 0;
        x = strtoull(v, &end, 10);
        if (errno || *end || x > max)
                return -ERANGE;
        *ret = x;
        return 0;
}

static int parse_facility(const char *v) {
        static const char *const names[] = {
                "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
                "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "security", "console", "solaris-cron",
                "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        };
        unsigned long long x;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(v, names[i]) == 0)
                        return (int) i;
        if (parse_uint(v, 23, &x) == 0)
                return (int) x;
        return -EINVAL;
}

static const char *facility_name(int f) {
        static const char *const names[] = {
                "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
                "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "security", "console", "solaris-cron",
                "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        };
        return f >= 0 && f < (int) ELEMENTSOF(names) ? names[f] : "?";
}

/* Splits a list on commas and blanks; returns the number of words, each
 * NUL-terminated in the (modified) buffer. */
static size_t split_words(char *s, char **words, size_t max) {
        size_t n = 0;

        for (char *tok = strtok(s, ", \t"); tok; tok = strtok(NULL, ", \t"))
                if (n < max)
                        words[n++] = tok;
                else
                        return max + 1;
        return n;
}

/* ---- The configuration being built ---------------------------------------- */

struct chandler {
        char *name;
        unsigned line;
        const struct handler_type *type;
        trail_handler *h;
        bool used;
        char *summary; /* for trail check */
};

#define LIST_MAX 64

struct clogger {
        char *name;       /* NULL: the root */
        unsigned line;
        int level;        /* TRAIL_LEVEL_INHERIT or a level */
        bool propagate;
        struct chandler *handlers[LIST_MAX];
        size_t n_handlers;
        trail_logger *lg;
        bool from_env;    /* only a level from $TRAIL_LEVEL */
};

struct config {
        const char *file;
        struct errors errors;
        struct clogger *loggers; /* [0] is the root */
        size_t n_loggers, cap_loggers;
        struct chandler *handlers;
        size_t n_handlers, cap_handlers;
        bool has_ident, has_facility, has_fields;
        char *ident;
        int facility;
        trail_field *fields;
        size_t n_fields;
        char *fields_buf;
        const struct entry *filter_entries[LIST_MAX];
        size_t n_filter_entries;
        bool check_only;
};

static struct clogger *config_logger(struct config *c, const char *name) {
        for (size_t i = 1; i < c->n_loggers; i++)
                if (strcmp(c->loggers[i].name, name) == 0)
                        return &c->loggers[i];
        return NULL;
}

static struct clogger *config_add_logger(struct config *c, const char *name, unsigned line) {
        if (!grow((void **) &c->loggers, &c->cap_loggers, c->n_loggers, sizeof(*c->loggers)))
                return NULL;
        struct clogger *l = &c->loggers[c->n_loggers];
        *l = (struct clogger) {
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
        for (size_t i = 0; i < c->n_handlers; i++)
                if (strcmp(c->handlers[i].name, name) == 0)
                        return &c->handlers[i];
        return NULL;
}

static void config_free_contents(struct config *c) {
        for (size_t i = 0; i < c->n_loggers; i++)
                free(c->loggers[i].name);
        for (size_t i = 0; i < c->n_handlers; i++) {
                free(c->handlers[i].name);
                free(c->handlers[i].summary);
                trail_handler_unref(c->handlers[i].h);
        }
        free(c->loggers);
        free(c->handlers);
        free(c->ident);
        free(c->fields);
        free(c->fields_buf);
        errors_free(&c->errors);
}

#define ERR(c, ent, fmt, ...) \
        errors_add(&(c)->errors, (ent)->line, (ent)->key, EINVAL, fmt, ##__VA_ARGS__)

/* ---- Handlers: types and wrappers ----------------------------------------- */

/* The keys of one [handler NAME] section. */
struct hsection {
        const char *name;
        unsigned line;
        const struct entry *e[LIST_MAX];
        size_t n;
};

static const struct entry *hsection_get(const struct hsection *s, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->e[i]->key, key) == 0)
                        return s->e[i];
        return NULL;
}

struct handler_type {
        const char *name;
        /* Keys the constructor takes; every other key of the section goes
         * through trail_handler_set(). */
        const char *const *keys;
        /* Returns a new handler, or NULL after adding an error. */
        trail_handler *(*create)(struct config *c, const struct hsection *s, char *summary,
                                 size_t summary_size);
};

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

/* One entry per handler type of this build. syslog joins with its own line
 * (see the end of trail.conf(5) for what each type takes). */
static const struct handler_type handler_types[] = {
        { "journald", NULL, create_journald },
        { "stream", (const char *const[]) { "fd", NULL }, create_stream },
        { "auto", NULL, create_auto },
};

static bool type_takes(const struct handler_type *t, const char *key) {
        for (const char *const *k = t->keys; k && *k; k++)
                if (strcmp(*k, key) == 0)
                        return true;
        return false;
}

/* "async = yes", "queue = N", "overflow = block|drop-new|drop-old": the
 * handler is wrapped in an asynchronous queue. */
enum { OVERFLOW_BLOCK, OVERFLOW_DROP_NEW, OVERFLOW_DROP_OLD };

static trail_handler *wrap_async(struct config *c, const struct entry *async, trail_handler *inner,
                                 unsigned long long queue, int overflow) {
        /* The async handler is not in this build: say so rather than pretend. */
        (void) queue;
        (void) overflow;
        ERR(c, async, "asynchronous handlers are not available in this build of trail");
        trail_handler_unref(inner);
        return NULL;
}

/* [filter] keys: each applies to every handler of the configuration that
 * does not set the same key itself. Returns 0 or a negative errno as
 * trail_handler_set() does. */
struct filter_key {
        const char *key;
        int (*apply)(trail_handler *h, const char *key, const char *value);
};

static const struct filter_key filter_keys[] = {
        { NULL, NULL }, /* none in this build yet */
};

static const struct filter_key *filter_key_find(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(filter_keys); i++)
                if (filter_keys[i].key && strcmp(filter_keys[i].key, key) == 0)
                        return &filter_keys[i];
        return NULL;
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

static void build_handler(struct config *c, struct chandler *ch, const struct hsection *s) {
        const struct entry *type = hsection_get(s, "type");
        const struct entry *async = NULL, *queue = NULL, *overflow = NULL;
        const struct handler_type *t = NULL;
        char summary[256] = "";
        size_t errors_before = c->errors.n;
        unsigned long long queue_len = 0;
        int overflow_mode = OVERFLOW_BLOCK, r;
        bool want_async = false;

        if (!type) {
                errors_add(&c->errors, s->line, "type", EINVAL,
                           "missing: [handler %s] needs a type (journald, stream, auto)",
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
                ERR(c, type, "unknown handler type '%s' (this build has: %s)", type->value,
                    names);
                return;
        }
        ch->type = t;

        /* The wrapper's keys, checked before anything is built. */
        async = hsection_get(s, "async");
        queue = hsection_get(s, "queue");
        overflow = hsection_get(s, "overflow");
        if (async) {
                r = parse_bool(async->value);
                if (r < 0)
                        ERR(c, async, "'%s' is not yes or no", async->value);
                want_async = r > 0;
        }
        if (queue) {
                if (parse_uint(queue->value, 1ULL << 24, &queue_len) < 0 || queue_len == 0)
                        ERR(c, queue, "'%s' is not a queue length from 1 to %llu", queue->value,
                            1ULL << 24);
                else if (!want_async)
                        ERR(c, queue, "only with async = yes");
        }
        if (overflow) {
                if (strcmp(overflow->value, "block") == 0)
                        overflow_mode = OVERFLOW_BLOCK;
                else if (strcmp(overflow->value, "drop-new") == 0)
                        overflow_mode = OVERFLOW_DROP_NEW;
                else if (strcmp(overflow->value, "drop-old") == 0)
                        overflow_mode = OVERFLOW_DROP_OLD;
                else
                        ERR(c, overflow, "'%s' is not block, drop-new or drop-old",
                            overflow->value);
                if (!want_async)
                        ERR(c, overflow, "only with async = yes");
        }

        trail_handler *h = t->create(c, s, summary, sizeof(summary));
        if (!h)
                return;

        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = s->e[i];
                if (e == type || e == async || e == queue || e == overflow ||
                    type_takes(t, e->key))
                        continue;
                r = trail_handler_set(h, e->key, e->value);
                if (r >= 0) {
                        snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
                                 " %s=%s", e->key, e->value);
                        continue;
                }
                const char *why = set_error(r);
                if (r == -ENOENT)
                        ERR(c, e, "unknown key for a %s handler", t->name);
                else if (r == -EINVAL)
                        ERR(c, e, "invalid value '%s'", e->value);
                else
                        errors_add(&c->errors, e->line, e->key, -r, "%s",
                                   why ? why : strerror(-r));
        }

        /* [filter] defaults, unless the section sets the key itself. */
        for (size_t i = 0; i < c->n_filter_entries; i++) {
                const struct entry *e = c->filter_entries[i];
                const struct filter_key *fk = filter_key_find(e->key);
                if (!fk || hsection_get(s, e->key))
                        continue;
                r = fk->apply(h, e->key, e->value);
                if (r < 0)
                        errors_add(&c->errors, e->line, e->key, -r, "%s (for [handler %s])",
                                   set_error(r) ?: strerror(-r), s->name);
        }

        if (c->errors.n > errors_before) {
                trail_handler_unref(h);
                return;
        }
        if (want_async) {
                h = wrap_async(c, async, h, queue ? queue_len : 0, overflow_mode);
                if (!h)
                        return;
                snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
                         " async queue=%llu overflow=%s", queue_len,
                         overflow ? overflow->value : "block");
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

static void set_level(struct config *c, const struct entry *e, int *level, bool may_inherit) {
        if (may_inherit && (strcasecmp(e->value, "inherit") == 0 ||
                            strcasecmp(e->value, "notset") == 0)) {
                *level = TRAIL_LEVEL_INHERIT;
                return;
        }
        int l = trail_level_parse(e->value);
        if (l < 0)
                ERR(c, e, "unknown level '%s' (debug, info, notice, warning, error, critical, "
                          "alert, emergency%s)",
                    e->value, may_inherit ? ", inherit" : "");
        else
                *level = l;
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

/* fields = NAME=value NAME="two words" */
static void set_fields(struct config *c, const struct entry *e) {
        size_t len = strlen(e->value);
        char *buf = malloc(len + 1), *out = buf;
        const char *p = e->value;
        trail_field *f = NULL;
        size_t n = 0;

        if (!buf) {
                c->errors.oom = true;
                return;
        }
        while (*p) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                const char *name = out;
                while (*p && *p != '=' && *p != ' ' && *p != '\t')
                        *out++ = *p++;
                *out++ = '\0';
                if (*p != '=') {
                        ERR(c, e, "'%s' is not NAME=value", name);
                        goto fail;
                }
                p++;
                const char *value = out;
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                        p++;
                                *out++ = *p++;
                        }
                        if (*p != '"') {
                                ERR(c, e, "%s: unterminated quoted value", name);
                                goto fail;
                        }
                        p++;
                } else
                        while (*p && *p != ' ' && *p != '\t')
                                *out++ = *p++;
                *out++ = '\0';

                size_t nl;
                if (!field_name_is_valid(name, &nl)) {
                        ERR(c, e, "'%s' is not a journal field name (A-Z, 0-9, _; not "
                                  "starting with a digit or _; not one of trail's own)",
                            name);
                        goto fail;
                }
                for (size_t i = 0; i < n; i++)
                        if (strcmp(f[i].name, name) == 0) {
                                ERR(c, e, "field %s given twice", name);
                                goto fail;
                        }
                trail_field *g = realloc(f, (n + 1) * sizeof(*f));
                if (!g) {
                        c->errors.oom = true;
                        goto fail;
                }
                f = g;
                f[n++] = TRAIL_STR(name, value);
        }
        c->fields = f;
        c->n_fields = n;
        c->fields_buf = buf;
        c->has_fields = true;
        return;
fail:
        free(f);
        free(buf);
}

static void set_ident(struct config *c, const struct entry *e) {
        size_t n = strlen(e->value);
        bool ok = n > 0 && n <= 48;

        for (size_t i = 0; ok && i < n; i++)
                ok = e->value[i] > ' ' && e->value[i] < 0x7f;
        if (!ok) {
                ERR(c, e, "'%s' is not 1 to 48 printable ASCII characters without blanks",
                    e->value);
                return;
        }
        c->ident = strdup(e->value);
        if (!c->ident)
                c->errors.oom = true;
        c->has_ident = true;
}

static void unknown_key(struct config *c, const struct entry *e, const char *section,
                        const char *known) {
        ERR(c, e, "unknown key in [%s] (known: %s)", section, known);
}

/* Builds the whole configuration from the entries; errors go to c->errors. */
static void build(struct config *c, struct parse *p) {
        /* Section headers: kinds and duplicates. */
        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                for (size_t k = 0; k < i; k++)
                        if (strcmp(p->s[k].name, p->s[i].name) == 0) {
                                errors_add(&c->errors, p->s[i].line, NULL, EINVAL,
                                           "duplicate section [%s] (first at line %u)",
                                           p->s[i].name, p->s[k].line);
                                break;
                        }
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

        /* Duplicate keys within a section. */
        for (size_t i = 0; i < p->n_e; i++)
                for (size_t k = 0; k < i; k++)
                        if (strcmp(p->e[k].section, p->e[i].section) == 0 &&
                            strcmp(p->e[k].key, p->e[i].key) == 0) {
                                ERR(c, &p->e[i], "given twice in [%s] (first at line %u)",
                                    p->e[i].section, p->e[k].line);
                                p->e[i].used = true; /* the first one counts */
                                break;
                        }

        /* [filter] first: its keys apply to the handlers built below. */
        for (size_t i = 0; i < p->n_e; i++) {
                struct entry *e = &p->e[i];
                if (strcmp(e->section, "filter") != 0 || e->used)
                        continue;
                e->used = true;
                if (!filter_key_find(e->key))
                        ERR(c, e, "unknown key in [filter]%s",
                            filter_keys[0].key ? "" : " (this build has no filters)");
                else if (c->n_filter_entries < LIST_MAX)
                        c->filter_entries[c->n_filter_entries++] = e;
        }

        /* Handlers, in the order of their sections. */
        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                if (strcmp(kind, "handler") != 0 || !*name || strpbrk(name, ", \t") ||
                    config_handler(c, name))
                        continue;
                struct hsection s = { .name = name, .line = p->s[i].line };
                for (size_t k = 0; k < p->n_e; k++)
                        if (!p->e[k].used && strcmp(p->e[k].section, p->s[i].name) == 0) {
                                p->e[k].used = true;
                                if (s.n < LIST_MAX)
                                        s.e[s.n++] = &p->e[k];
                                else
                                        ERR(c, &p->e[k], "more than %d keys in one section",
                                            LIST_MAX);
                        }
                if (!grow((void **) &c->handlers, &c->cap_handlers, c->n_handlers,
                          sizeof(*c->handlers)) ||
                    !(c->handlers[c->n_handlers].name = strdup(name))) {
                        c->errors.oom = true;
                        return;
                }
                struct chandler *ch = &c->handlers[c->n_handlers++];
                *ch = (struct chandler) { .name = ch->name, .line = s.line };
                build_handler(c, ch, &s);
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
                if (strcmp(kind, "trail") == 0 && !*name) {
                        struct clogger *root = &c->loggers[0];
                        if (strcmp(e->key, "level") == 0)
                                set_level(c, e, &root->level, false);
                        else if (strcmp(e->key, "handlers") == 0)
                                set_handler_list(c, e, root);
                        else if (strcmp(e->key, "ident") == 0)
                                set_ident(c, e);
                        else if (strcmp(e->key, "facility") == 0) {
                                c->facility = parse_facility(e->value);
                                if (c->facility < 0)
                                        ERR(c, e, "unknown facility '%s' (daemon, user, "
                                                  "local0..local7, …, or 0..23)",
                                            e->value);
                                c->has_facility = true;
                        } else if (strcmp(e->key, "fields") == 0)
                                set_fields(c, e);
                        else
                                unknown_key(c, e, "trail",
                                            "level, handlers, ident, facility, fields");
                } else if (strcmp(kind, "logger") == 0 && *name &&
                           strcmp(name, "root") != 0 && logger_name_is_valid(name, strlen(name))) {
                        struct clogger *l = config_logger(c, name);
                        if (!l) {
                                unsigned line = e->line;
                                for (size_t k = 0; k < p->n_s; k++)
                                        if (strcmp(p->s[k].name, e->section) == 0) {
                                                line = p->s[k].line;
                                                break;
                                        }
                                l = config_add_logger(c, name, line);
                                if (!l) {
                                        c->errors.oom = true;
                                        return;
                                }
                        }
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
                        } else
                                unknown_key(c, e, e->section, "level, handlers, propagate");
                }
                /* else: the section header already has its error */
        }
}

/* ---- $TRAIL_LEVEL ----------------------------------------------------------- */

/* "info,myapp.db=debug": a bare level is the root's. Problems are reported
 * and the whole variable ignored: a typo in a debugging aid must not refuse
 * the configuration. Returns the number of overrides, or -EINVAL. */
static int env_levels(struct config *c, trail_config_error_fn on_error, void *userdata) {
        const char *v = secure_getenv("TRAIL_LEVEL");
        char *words[LIST_MAX + 1];
        size_t n;

        if (!v || !*v)
                return 0;
        _cleanup_free_ char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        n = split_words(copy, words, LIST_MAX);
        if (n > LIST_MAX) {
                on_error("$TRAIL_LEVEL", 0, NULL, "too many entries: ignored", userdata);
                return -EINVAL;
        }
        /* Everything checked first: on a problem, nothing of it counts. */
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(words[i], '=');
                const char *name = eq ? words[i] : "";
                int level = trail_level_parse(eq ? eq + 1 : words[i]);
                size_t nl = eq ? (size_t) (eq - words[i]) : 0;
                char msg[256];

                if (level >= 0 && (!eq || (nl == 4 && strncmp(name, "root", 4) == 0) ||
                                   logger_name_is_valid(name, nl)))
                        continue;
                snprintf(msg, sizeof(msg), "'%s': %s: ignored", words[i],
                         level < 0 ? "unknown level" : "not a logger name");
                on_error("$TRAIL_LEVEL", 0, NULL, msg, userdata);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(words[i], '=');
                const char *name = eq ? words[i] : "";
                int level = trail_level_parse(eq ? eq + 1 : words[i]);

                if (eq)
                        *eq = '\0';
                if (!*name || strcmp(name, "root") == 0) {
                        c->loggers[0].level = level;
                        continue;
                }
                struct clogger *l = config_logger(c, name);
                if (!l) {
                        l = config_add_logger(c, name, 0);
                        if (!l)
                                return -ENOMEM;
                        l->from_env = true;
                }
                l->level = level;
        }
        return (int) n;
}

/* ---- Applying ------------------------------------------------------------- */

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
int config_autoload_done;

/* What the configuration in force manages, so that the next one can take
 * it back: loggers it set, and whether it set ident, facility, fields. */
static struct {
        trail_logger **loggers;
        size_t n;
        bool ident, facility, fields;
        struct handler_set *deferred; /* replaced, not yet proven unused */
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
        if (set_ident && (r = ident_prepare(c->has_ident ? c->ident : NULL, &ident)) < 0)
                goto fail;
        if (set_fields && (r = globals_prepare((trail_fields) { c->fields, c->n_fields },
                                               &fields)) < 0)
                goto fail;
        r = -ENOMEM;
        ch = calloc(c->n_loggers + current.n, sizeof(*ch));
        managed = calloc(c->n_loggers, sizeof(*managed));
        if (!ch || !managed)
                goto fail;
        for (size_t i = 0; i < c->n_loggers; i++) {
                struct clogger *l = &c->loggers[i];
                l->lg = trail_get(l->name);
                if (!l->lg)
                        goto fail;
                bool was_managed = false;
                for (size_t k = 0; k < current.n && !was_managed; k++)
                        was_managed = current.loggers[k] == l->lg;
                /* A logger only $TRAIL_LEVEL names keeps what the program
                 * gave it, unless the previous configuration set that. */
                ch[n] = (struct logger_change) {
                        .lg = l->lg,
                        .level = l->level,
                        .propagate = l->propagate,
                        .replace_handlers = !l->from_env || was_managed,
                        .set_propagate = !l->from_env || was_managed,
                };
                if (!l->from_env && l->n_handlers > 0 && !(ch[n].set = handler_set_new(l)))
                        goto fail;
                n++;
                if (i > 0)
                        managed[n_managed++] = l->lg;
        }
        /* Loggers the previous configuration set and this one does not: back
         * to inheriting, propagating, no handlers. */
        for (size_t i = 0; i < current.n; i++) {
                bool kept = false;
                for (size_t k = 0; k < n_managed && !kept; k++)
                        kept = managed[k] == current.loggers[i];
                if (!kept)
                        ch[n++] = (struct logger_change) {
                                .lg = current.loggers[i],
                                .level = TRAIL_LEVEL_INHERIT,
                                .propagate = true,
                                .replace_handlers = true,
                                .set_propagate = true,
                        };
        }

        /* The swap: new records wait at the door, those in flight finish. */
        bool drained = dispatch_swap_begin(SWAP_WAIT_MS);
        struct handler_set *replaced = loggers_apply(ch, n);
        if (ident)
                ident_publish(ident);
        if (c->has_facility || current.facility)
                (void) trail_set_facility(c->has_facility ? c->facility : 3);
        if (set_fields)
                globals_publish(&fields);
        dispatch_swap_end();

        /* What was replaced is flushed and closed once no record can be in
         * it; a record stuck in a handler past the wait keeps it (and what
         * earlier swaps left) alive until a later grace period or
         * trail_shutdown(). */
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

        free(current.loggers);
        current.loggers = managed;
        current.n = n_managed;
        current.ident = c->has_ident;
        current.facility = c->has_facility;
        current.fields = c->has_fields;
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

static void describe_logger(const struct clogger *l, FILE *out) {
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
        fputc('\n', out);
}

static void describe(const struct config *c, FILE *out) {
        fprintf(out, "%s: configuration is valid\n", c->file);
        fprintf(out, "ident: %s\n", c->has_ident ? c->ident : "(program name)");
        fprintf(out, "facility: %s (%d)\n", facility_name(c->has_facility ? c->facility : 3),
                c->has_facility ? c->facility : 3);
        fprintf(out, "global fields:");
        for (size_t i = 0; i < c->n_fields; i++)
                fprintf(out, " %s=%s", c->fields[i].name, c->fields[i].value.s);
        fprintf(out, c->n_fields ? "\n" : " none\n");
        for (size_t i = 0; i < c->n_loggers; i++)
                describe_logger(&c->loggers[i], out);
        for (size_t i = 0; i < c->n_handlers; i++)
                fprintf(out, "handler %s: type %s%s%s\n", c->handlers[i].name,
                        c->handlers[i].type->name, c->handlers[i].summary ?: "",
                        c->handlers[i].used ? "" : " (unused)");
}

/* ---- Loading --------------------------------------------------------------- */

static void config_record(bool loaded, const char *file, const char *why) {
        trail_logger *lg = trail_get("trail");

        if (loaded)
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_MESSAGE_ID(TRAIL_MESSAGE_ID_CONFIG_LOADED),
                                             TRAIL_STR("CONFIG_FILE", file)),
                                "configuration loaded from %s", file);
        else
                trail_error_with(lg,
                                 TRAIL_FIELDS(TRAIL_MESSAGE_ID(TRAIL_MESSAGE_ID_CONFIG_ERROR),
                                              TRAIL_STR("CONFIG_FILE", file)),
                                 "configuration %s refused, the previous one stays: %s", file,
                                 why);
}

/* Parses, validates, builds and (unless TRAIL_CONFIGURE_CHECK) applies the
 * file, or the default configuration when path is NULL. Called under
 * config_lock; *ret_why gets the first error's text for the record. */
static int config_load_locked(const char *path, unsigned flags, trail_config_error_fn on_error,
                              void *userdata, FILE *out, char **ret_why) {
        struct errors errors = {};
        struct parse p = { .file = path, .errors = &errors };
        struct config c = { .file = path ? path : "(default)" };
        int r = 0;

        if (path) {
                p.f = fopen(path, "re");
                if (!p.f) {
                        r = -errno;
                        errors_add(&errors, 0, NULL, -r, "cannot open: %s", strerror(-r));
                        goto report;
                }
                int k = ini_parse_stream(read_line, &p, on_entry, &p);
                if (ferror(p.f)) {
                        errors_add(&errors, 0, NULL, EIO, "cannot read: %s", strerror(errno));
                }
                fclose(p.f);
                if (k > 0)
                        errors_add(&errors, (unsigned) k, NULL, EINVAL,
                                   "syntax error: expected [section], key = value, or a "
                                   "comment");
                else if (k < 0)
                        p.oom = true;
                if (p.oom)
                        errors_add(&errors, 0, NULL, ENOMEM, "out of memory");
        }
        c.errors = errors;
        errors = (struct errors) {};
        build(&c, &p);
        if (c.loggers && env_levels(&c, on_error, userdata) == -ENOMEM)
                c.errors.oom = true;
        if (c.errors.oom)
                errors_add(&c.errors, 0, NULL, ENOMEM, "out of memory");
        errors = c.errors;
        c.errors = (struct errors) {};

report:
        if (errors.n > 0) {
                qsort(errors.e, errors.n, sizeof(errors.e[0]), error_cmp);
                for (size_t i = 0; i < errors.n; i++)
                        on_error(c.file, errors.e[i].line, errors.e[i].key, errors.e[i].message,
                                 userdata);
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
        } else
                r = config_apply(&c);

        errors_free(&errors);
        config_free_contents(&c);
        parse_free(&p);
        return r;
}

int config_check(const char *path, trail_config_error_fn on_error, void *userdata, FILE *out) {
        PROTECT_ERRNO;
        int r;

        pthread_mutex_lock(&config_lock);
        r = config_load_locked(path, TRAIL_CONFIGURE_CHECK, on_error ?: error_to_stderr,
                               userdata, out, NULL);
        pthread_mutex_unlock(&config_lock);
        return r;
}

_public_ int trail_configure_full(const char *path, unsigned flags,
                                  trail_config_error_fn on_error, void *userdata) {
        PROTECT_ERRNO;
        struct tls_state *t = tls_state_peek();
        _cleanup_free_ char *why = NULL, *env = NULL;
        int r;

        if (flags & ~TRAIL_CONFIGURE_CHECK)
                return -EINVAL;
        /* From a handler or filter, the swap would wait for itself. */
        if (t && t->depth > 0)
                return -EDEADLK;
        if (!path) {
                const char *e = secure_getenv("TRAIL_CONFIG");
                if (e && *e && !(env = strdup(e)))
                        return -ENOMEM;
                path = env;
        }

        pthread_mutex_lock(&config_lock);
        /* An explicit configuration wins over $TRAIL_CONFIG, even one read
         * later by a thread that asked for its first logger meanwhile. */
        __atomic_store_n(&config_autoload_done, 1, __ATOMIC_RELEASE);
        r = config_load_locked(path, flags, on_error ?: error_to_stderr, userdata, NULL, &why);
        pthread_mutex_unlock(&config_lock);

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
        pthread_mutex_lock(&config_lock);
        if (__atomic_load_n(&config_autoload_done, __ATOMIC_ACQUIRE)) {
                pthread_mutex_unlock(&config_lock);
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
        pthread_mutex_unlock(&config_lock);
        autoloading = false;
        if (path)
                config_record(r >= 0, path, why ?: strerror(-r));
}

void config_free(void) {
        pthread_mutex_lock(&config_lock);
        handler_sets_release(current.deferred);
        current.deferred = NULL;
        free(current.loggers);
        current.loggers = NULL;
        current.n = 0;
        current.ident = current.facility = current.fields = false;
        pthread_mutex_unlock(&config_lock);
}
