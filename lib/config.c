/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5): the file is parsed by libinih into entries, every entry is
 * validated and the whole new configuration (handlers, levels, propagation,
 * ident, facility, global fields) is built aside; only when nothing is wrong
 * is it swapped in, at once, while other threads log (grace.c). Also
 * $TRAIL_CONFIG and $TRAIL_LEVEL, read when the first logger is asked for. */

#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "flow-private.h"
#include "trail-private.h"

/* How long a swap waits for records already being delivered. */
#define SWAP_WAIT_MS 1000

/* The largest file read (trail.conf(5)): far above any real configuration,
 * and what stops /dev/zero-like input, with the regular-file check, from
 * growing memory without end. */
#define CONFIG_SIZE_MAX (4 * 1024 * 1024)

/* ---- Errors --------------------------------------------------------------- */

struct config_error {
        unsigned line;
        size_t seq; /* errors of one line keep the order they were found in */
        char *key;
        char *message;
        int errnum; /* positive */
};

/* Errors kept with their line: a file of a million bad lines must neither
 * take a million messages' memory nor flood the terminal. Those of the
 * whole file (line 0) are always kept. */
#define ERRORS_MAX 1000

struct errors {
        struct config_error *e;
        size_t n, cap;
        size_t n_more; /* past ERRORS_MAX: counted, not kept */
        bool oom;
};

static void errors_add(struct errors *es, unsigned line, const char *key, int errnum,
                       const char *fmt, ...) TRAIL__PRINTF(5, 6);
static void errors_add(struct errors *es, unsigned line, const char *key, int errnum,
                       const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;

        if (line > 0 && es->n >= ERRORS_MAX) {
                es->n_more++;
                return;
        }
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
        es->e[es->n] = (struct config_error) {
                .line = line,
                .seq = es->n,
                .key = key ? strdup(key) : NULL,
                .message = msg,
                .errnum = errnum,
        };
        es->n++;
}

static int error_cmp(const void *a, const void *b) {
        const struct config_error *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
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
        size_t size;     /* bytes read so far */
        bool stop;       /* CONFIG_SIZE_MAX reached */
        size_t last_len, last_cap; /* of the last entry's value, which may grow */
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

/* inih's fgets-style reader. Each line is read here first, at most num - 3
 * bytes of it (inih wants room for "\r\n\0"), so that a line too long for
 * inih's buffer, a NUL byte or other binary data is an error with its line
 * number instead of a silently cut value; the rest of a long line is
 * skipped, never held in memory. Past CONFIG_SIZE_MAX bytes reading stops. */
static char *read_line(char *str, int num, void *stream) {
        struct parse *p = stream;
        size_t max = (size_t) num - 3, n = 0;
        bool too_long = false;
        int c = 0;

        if (p->stop)
                return NULL;
        while (c != '\n' && (c = getc_unlocked(p->f)) != EOF) {
                if (++p->size > CONFIG_SIZE_MAX) {
                        errors_add(p->errors, 0, NULL, EFBIG, "larger than %d bytes",
                                   CONFIG_SIZE_MAX);
                        p->stop = true;
                        return NULL;
                }
                if (n < max)
                        str[n++] = (char) c;
                else
                        too_long = true;
        }
        if (n == 0 && c == EOF)
                return NULL;
        str[n] = '\0';
        p->line++;
        p->indented = n > 0 && (str[0] == ' ' || str[0] == '\t');
        for (size_t i = 0; i < n; i++) {
                unsigned char b = (unsigned char) str[i];
                /* '\r' only in a CRLF line end: inside a line it would come
                 * back in an error message and overwrite it on a terminal */
                bool line_end = b == '\n' ||
                                (b == '\r' && (i == n - 1 || (i == n - 2 && str[n - 1] == '\n')));
                if ((b < ' ' && b != '\t' && !line_end) || b == 0x7f) {
                        errors_add(p->errors, p->line, NULL, EINVAL,
                                   "binary data (byte 0x%02x at column %zu)", b, i + 1);
                        strcpy(str, "\n");
                        return str;
                }
        }
        if (too_long) {
                errors_add(p->errors, p->line, NULL, EINVAL,
                           "line longer than %zu bytes: continue the value on an indented line",
                           max);
                strcpy(str, "\n");
                return str;
        }
        note_section(p, str, n);
        return str;
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value) {
        struct parse *p = userdata;

        /* inih takes "= value" as a key named "": every later error about
         * it would read "FILE:LINE: : why". */
        if (!*key) {
                errors_add(p->errors, p->line, NULL, EINVAL, "no key before '=' or ':'");
                return 1;
        }
        /* An indented line after a key continues its value (inih calls us
         * again with the same key): lists may span lines. */
        if (p->indented && p->n_e > 0) {
                struct entry *last = &p->e[p->n_e - 1];
                if (strcmp(last->section, section) == 0 && strcmp(last->key, key) == 0) {
                        /* grown geometrically: a value continued over many
                         * lines costs its length, not its length squared */
                        size_t vl = strlen(value), need = p->last_len + 1 + vl + 1;
                        if (need > p->last_cap) {
                                size_t cap = need > 2 * p->last_cap ? need : 2 * p->last_cap;
                                char *v = realloc(last->value, cap);
                                if (!v) {
                                        p->oom = true;
                                        return 1;
                                }
                                last->value = v;
                                p->last_cap = cap;
                        }
                        last->value[p->last_len] = ' ';
                        memcpy(last->value + p->last_len + 1, value, vl + 1);
                        p->last_len += 1 + vl;
                        return 1;
                }
        }
        if (!grow((void **) &p->e, &p->cap_e, p->n_e, sizeof(*p->e))) {
                p->oom = true;
                return 1;
        }
        /* Entries of one section share its name: the memory a file takes
         * stays a small multiple of its size. */
        const struct entry *prev = p->n_e > 0 ? &p->e[p->n_e - 1] : NULL;
        bool shared = prev && strcmp(prev->section, section) == 0;
        struct entry e = {
                .section = shared ? prev->section : strdup(section),
                .key = strdup(key),
                .value = strdup(value),
                .line = p->line,
        };
        if (!e.section || !e.key || !e.value) {
                if (!shared)
                        free(e.section);
                free(e.key);
                free(e.value);
                p->oom = true;
                return 1;
        }
        p->e[p->n_e++] = e;
        p->last_len = strlen(e.value);
        p->last_cap = p->last_len + 1;
        return 1;
}

static void parse_free(struct parse *p) {
        for (size_t i = 0; i < p->n_e; i++) {
                if (i == 0 || p->e[i].section != p->e[i - 1].section)
                        free(p->e[i].section);
                free(p->e[i].key);
                free(p->e[i].value);
        }
        for (size_t i = 0; i < p->n_s; i++)
                free(p->s[i].name);
        free(p->e);
        free(p->s);
}

/* ---- Values --------------------------------------------------------------- */

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

/* Splits a list on commas and blanks; returns the number of words, each
 * NUL-terminated in the (modified) buffer. */
static size_t split_words(char *s, char **words, size_t max) {
        size_t n = 0;

        char *save = NULL;

        for (char *tok = strtok_r(s, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
                if (n < max)
                        words[n++] = tok;
                else
                        return max + 1;
        return n;
}

/* ---- Name indexes ---------------------------------------------------------- */

/* Sections, keys, handlers and loggers are matched by name through arrays
 * sorted once and searched by bisection, so that building a file costs
 * O(n log n) in its entries: a scan of every section per section was
 * quadratic (100k sections never finished). Sorting, not hashing: no input
 * can make it slower. */
struct key {
        const char *a, *b; /* the name: b is "" when one string is enough */
        size_t i;          /* the item's position in the array indexed */
        size_t v;          /* the caller's */
};

static int key_name_cmp(const struct key *k, const char *a, const char *b) {
        int r = strcmp(k->a, a);
        return r ? r : strcmp(k->b, b);
}

static int key_cmp(const void *x, const void *y) {
        const struct key *p = x, *q = y;
        int r = key_name_cmp(p, q->a, q->b);
        return r ? r : p->i < q->i ? -1 : p->i > q->i;
}

static void keys_sort(struct key *k, size_t n) {
        if (n > 1)
                qsort(k, n, sizeof(*k), key_cmp);
}

/* The first of the keys named (a, b) in sorted k[0..n): the one of lowest i. */
static struct key *keys_find(struct key *k, size_t n, const char *a, const char *b) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (key_name_cmp(&k[mid], a, b) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && key_name_cmp(&k[lo], a, b) == 0 ? &k[lo] : NULL;
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
        struct flow_setting {
                bool has_sample, has_rate_limit;
                unsigned sample;       /* 1: keep all */
                unsigned burst;        /* 0: no limit */
                uint64_t interval;     /* µs */
        } flow;
};

struct config {
        const char *file;
        struct errors errors;
        struct clogger *loggers; /* [0] is the root */
        size_t n_loggers, cap_loggers;
        struct chandler *handlers;
        size_t n_handlers, cap_handlers;
        struct key *handler_index; /* by name, once every handler is known */
        bool has_ident, has_facility, has_fields;
        char *ident;
        int facility;
        trail_field *fields;
        size_t n_fields;
        char *fields_buf;
        struct flow_setting filter_flow; /* [filter] sample, rate_limit */
        bool has_redact, has_scrub, scrub, has_backtrace;
        char **redact; /* NULL-terminated; NULL: the built-in list */
        char *redact_buf;
        int backtrace_level; /* -1: none */
        bool check_only;
};

/* Only for $TRAIL_LEVEL's at most LIST_MAX names: the file's loggers are
 * found through build()'s index. */
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
        struct key *k = keys_find(c->handler_index, c->n_handlers, name, "");
        return k ? &c->handlers[k->i] : NULL;
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
        free(c->handler_index);
        free(c->ident);
        free(c->fields);
        free(c->fields_buf);
        free(c->redact);
        free(c->redact_buf);
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

/* target = unix:PATH | udp://HOST:PORT | tcp://… | tls://… (default: /dev/log).
 * Creating one does not connect: an unreachable collector is not an error
 * of the file, and records wait in the handler's buffer until it answers. */
static trail_handler *create_syslog(struct config *c, const struct hsection *s, char *summary,
                                    size_t size) {
        const struct entry *e = hsection_get(s, "target");
        trail_handler *h = trail_handler_syslog(e ? e->value : NULL);

        if (!h) {
                if (e && errno == EINVAL) {
                        ERR(c, e, "'%s' is not a syslog target (unix:PATH, udp://HOST:PORT, "
                                  "tcp://HOST:PORT, tls://HOST:PORT)",
                            e->value);
                        return NULL;
                }
                return create_failed(c, s, e, errno);
        }
        snprintf(summary, size, " target=%s", e ? e->value : "/dev/log");
        return h;
}

/* One entry per handler type (see the end of trail.conf(5) for what each
 * type takes). */
static const struct handler_type handler_types[] = {
        { "journald", NULL, create_journald },
        { "syslog", (const char *const[]) { "target", NULL }, create_syslog },
        { "stream", (const char *const[]) { "fd", NULL }, create_stream },
        { "auto", NULL, create_auto },
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
        const struct entry *async, *queue, *overflow, *timeout, *keep_level, *flush_timeout;
        unsigned long long queue_len;
        int overflow_mode, keep;
        uint64_t timeout_usec, flush_usec;
};

static bool is_async_key(const struct async_keys *a, const struct entry *e) {
        return e == a->async || e == a->queue || e == a->overflow || e == a->timeout ||
               e == a->keep_level || e == a->flush_timeout;
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

static void build_handler(struct config *c, struct chandler *ch, const struct hsection *s) {
        const struct entry *type = hsection_get(s, "type");
        const struct handler_type *t = NULL;
        struct async_keys a = { .overflow_mode = TRAIL_OVERFLOW_BLOCK };
        char summary[256] = "";
        size_t errors_before = c->errors.n;
        bool want_async = false;
        int r;

        if (!type) {
                errors_add(&c->errors, s->line, "type", EINVAL,
                           "missing: [handler %s] needs a type (journald, syslog, stream, auto)",
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
        a.async = hsection_get(s, "async");
        a.queue = hsection_get(s, "queue");
        a.overflow = hsection_get(s, "overflow");
        a.timeout = hsection_get(s, "queue_timeout");
        a.keep_level = hsection_get(s, "keep_level");
        a.flush_timeout = hsection_get(s, "flush_timeout");
        if (a.async) {
                r = parse_bool(a.async->value);
                if (r < 0)
                        ERR(c, a.async, "'%s' is not yes or no", a.async->value);
                want_async = r > 0;
        }
        if (a.queue && (parse_uint(a.queue->value, 1ULL << 20, &a.queue_len) < 0 ||
                        a.queue_len < 16))
                ERR(c, a.queue, "'%s' is not a queue length from 16 to %llu", a.queue->value,
                    1ULL << 20);
        if (a.overflow) {
                if (strcmp(a.overflow->value, "block") == 0)
                        a.overflow_mode = TRAIL_OVERFLOW_BLOCK;
                else if (strcmp(a.overflow->value, "drop-new") == 0)
                        a.overflow_mode = TRAIL_OVERFLOW_DROP_NEW;
                else if (strcmp(a.overflow->value, "drop-old") == 0)
                        a.overflow_mode = TRAIL_OVERFLOW_DROP_OLD;
                else
                        ERR(c, a.overflow, "'%s' is not block, drop-new or drop-old",
                            a.overflow->value);
        }
        if (a.timeout && parse_duration_usec(a.timeout->value, &a.timeout_usec) < 0)
                ERR(c, a.timeout, "'%s' is not a duration (like 50ms, 1s)", a.timeout->value);
        if (a.flush_timeout && parse_duration_usec(a.flush_timeout->value, &a.flush_usec) < 0)
                ERR(c, a.flush_timeout, "'%s' is not a duration (like 500ms, 5s)",
                    a.flush_timeout->value);
        if (a.keep_level && (a.keep = trail_level_parse(a.keep_level->value)) < 0)
                ERR(c, a.keep_level, "unknown level '%s'", a.keep_level->value);
        if (!want_async) {
                const struct entry *only[] = { a.queue, a.overflow, a.timeout, a.keep_level,
                                               a.flush_timeout };
                for (size_t i = 0; i < ELEMENTSOF(only); i++)
                        if (only[i])
                                ERR(c, only[i], "only with async = yes");
        }

        trail_handler *h = t->create(c, s, summary, sizeof(summary));
        if (!h)
                return;

        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = s->e[i];
                if (e == type || is_async_key(&a, e) || type_takes(t, e->key))
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
        size_t n = 0, cap = 0;

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
                                  "starting with a digit or _; not reserved, see trail_fields(3))",
                            name);
                        goto fail;
                }
                if (!grow((void **) &f, &cap, n, sizeof(*f))) {
                        c->errors.oom = true;
                        goto fail;
                }
                f[n++] = TRAIL_STR(name, value);
        }
        /* Names given twice, by sorting: the value may hold any number. */
        if (n > 1) {
                _cleanup_free_ struct key *k = calloc(n, sizeof(*k));
                size_t twice = SIZE_MAX;
                if (!k) {
                        c->errors.oom = true;
                        goto fail;
                }
                for (size_t i = 0; i < n; i++)
                        k[i] = (struct key) { f[i].name, "", i };
                keys_sort(k, n);
                for (size_t i = 1; i < n; i++)
                        if (strcmp(k[i].a, k[i - 1].a) == 0 && k[i].i < twice)
                                twice = k[i].i; /* the first that repeats one before it */
                if (twice != SIZE_MAX) {
                        ERR(c, e, "field %s given twice", f[twice].name);
                        goto fail;
                }
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

/* sample = N; rate_limit = BURST/INTERVAL (like 1000/10s; "off" or 0: none).
 * Returns false when the key is neither. */
static bool set_flow(struct config *c, const struct entry *e, struct flow_setting *f) {
        unsigned long long x;

        if (strcmp(e->key, "sample") == 0) {
                if (parse_uint(e->value, UINT_MAX, &x) < 0 || x == 0)
                        ERR(c, e, "'%s' is not a number from 1 (keep all) up", e->value);
                else {
                        f->sample = (unsigned) x;
                        f->has_sample = true;
                }
                return true;
        }
        if (strcmp(e->key, "rate_limit") != 0)
                return false;
        f->has_rate_limit = true;
        if (strcasecmp(e->value, "off") == 0 || strcmp(e->value, "0") == 0) {
                f->burst = 0;
                f->interval = 0;
                return true;
        }
        const char *slash = strchr(e->value, '/');
        char burst[32], interval[32];
        if (!slash || (size_t) (slash - e->value) >= sizeof(burst) ||
            strlen(slash + 1) + 2 > sizeof(interval)) {
                ERR(c, e, "'%s' is not BURST/INTERVAL (like 1000/10s) or off", e->value);
                return true;
        }
        snprintf(burst, sizeof(burst), "%.*s", (int) (slash - e->value), e->value);
        /* "100/s" is "100/1s" */
        snprintf(interval, sizeof(interval), "%s%s", isdigit((unsigned char) slash[1]) ? "" : "1",
                 slash + 1);
        if (parse_uint(burst, UINT_MAX, &x) < 0 || x == 0 ||
            parse_duration_usec(interval, &f->interval) < 0 || f->interval == 0) {
                ERR(c, e, "'%s' is not BURST/INTERVAL (like 1000/10s) or off", e->value);
                return true;
        }
        f->burst = (unsigned) x;
        return true;
}

/* redact = NAME… replaces the list; "default" stands for the built-in
 * names (so "default SESSION_ID" adds one); "none" empties it. */
static void set_redact(struct config *c, const struct entry *e) {
        size_t n_default = 0, len = strlen(e->value);
        char *words[LIST_MAX + 1];
        size_t n, total = 0;
        bool with_default = false;

        while (redact_default_names[n_default])
                n_default++;
        free(c->redact_buf);
        c->redact_buf = malloc(len + 1);
        if (!c->redact_buf) {
                c->errors.oom = true;
                return;
        }
        memcpy(c->redact_buf, e->value, len + 1);
        n = split_words(c->redact_buf, words, LIST_MAX);
        if (n > LIST_MAX) {
                ERR(c, e, "more than %d names", LIST_MAX);
                return;
        }
        if (n == 1 && strcasecmp(words[0], "none") == 0)
                n = 0;
        for (size_t i = 0; i < n; i++) {
                if (strcasecmp(words[i], "default") == 0) {
                        with_default = true;
                        continue;
                }
                size_t nl = strlen(words[i]);
                bool ok = nl > 0 && nl <= 64;
                for (size_t k = 0; ok && k < nl; k++)
                        ok = isalnum((unsigned char) words[i][k]) || words[i][k] == '_';
                if (!ok) {
                        ERR(c, e, "'%s' is not a field name (letters, digits, _)", words[i]);
                        return;
                }
                total++;
        }
        if (n == 0 && strcasecmp(e->value, "none") != 0) {
                ERR(c, e, "empty: give names, default, or none");
                return;
        }
        free(c->redact);
        c->redact = calloc(total + (with_default ? n_default : 0) + 1, sizeof(char *));
        if (!c->redact) {
                c->errors.oom = true;
                return;
        }
        size_t k = 0;
        if (with_default)
                for (size_t i = 0; i < n_default; i++)
                        c->redact[k++] = (char *) redact_default_names[i];
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(words[i], "default") != 0)
                        c->redact[k++] = words[i];
        c->has_redact = true;
}

static void unknown_key(struct config *c, const struct entry *e, const char *section,
                        const char *known) {
        ERR(c, e, "unknown key in [%s] (known: %s)", section, known);
}

/* Builds the whole configuration from the entries; errors go to c->errors. */
static void build(struct config *c, struct parse *p) {
        /* The indexes: section headers by name; entries by section and key,
         * and by section alone (each section's entries, in file order);
         * [handler NAME] headers and [logger NAME] entries by NAME. */
        _cleanup_free_ struct key *sec = calloc(p->n_s + 1, sizeof(*sec));
        _cleanup_free_ struct key *ent = calloc(p->n_e + 1, sizeof(*ent));
        _cleanup_free_ struct key *ent_sec = calloc(p->n_e + 1, sizeof(*ent_sec));
        _cleanup_free_ struct key *hsec = calloc(p->n_s + 1, sizeof(*hsec));
        _cleanup_free_ struct key *lent = calloc(p->n_e + 1, sizeof(*lent));
        size_t n_hsec = 0, n_lent = 0;

        if (!sec || !ent || !ent_sec || !hsec || !lent) {
                c->errors.oom = true;
                return;
        }
        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                sec[i] = (struct key) { p->s[i].name, "", i };
                if (strcmp(kind, "handler") == 0 && *name && !strpbrk(name, ", \t"))
                        hsec[n_hsec++] = (struct key) { name, "", i };
        }
        for (size_t i = 0; i < p->n_e; i++) {
                char kind[32];
                const char *name;
                section_split(p->e[i].section, kind, sizeof(kind), &name);
                ent[i] = (struct key) { p->e[i].section, p->e[i].key, i };
                ent_sec[i] = (struct key) { p->e[i].section, "", i };
                if (strcmp(kind, "logger") == 0 && *name)
                        lent[n_lent++] = (struct key) { name, "", i };
        }
        keys_sort(sec, p->n_s);
        keys_sort(ent, p->n_e);
        keys_sort(ent_sec, p->n_e);
        keys_sort(hsec, n_hsec);
        keys_sort(lent, n_lent);

        /* Section headers: kinds and duplicates. */
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

        /* Duplicate keys within a section. */
        for (size_t i = 0; i < p->n_e; i++) {
                const struct key *first = keys_find(ent, p->n_e, p->e[i].section, p->e[i].key);
                if (first->i != i) {
                        ERR(c, &p->e[i], "given twice in [%s] (first at line %u)",
                            p->e[i].section, p->e[first->i].line);
                        p->e[i].used = true; /* the first one counts */
                }
        }

        /* [filter]: redaction for every record, and defaults for sampling
         * and rate limits. */
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

        /* Handlers, in the order of their sections. */
        for (size_t i = 0; i < p->n_s; i++) {
                char kind[32];
                const char *name;
                section_split(p->s[i].name, kind, sizeof(kind), &name);
                if (strcmp(kind, "handler") != 0 || !*name || strpbrk(name, ", \t"))
                        continue;
                /* the first section of that name makes the handler */
                if (keys_find(hsec, n_hsec, name, "")->i != i)
                        continue;
                struct hsection s = { .name = name, .line = p->s[i].line };
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
        c->handler_index = calloc(c->n_handlers + 1, sizeof(*c->handler_index));
        if (!c->handler_index) {
                c->errors.oom = true;
                return;
        }
        for (size_t i = 0; i < c->n_handlers; i++)
                c->handler_index[i] = (struct key) { c->handlers[i].name, "", i };
        keys_sort(c->handler_index, c->n_handlers);

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
                                c->facility = syslog_facility_parse(e->value);
                                if (c->facility < 0)
                                        ERR(c, e, "unknown facility '%s' (daemon, user, "
                                                  "local0..local7, …, or 0..23)",
                                            e->value);
                                c->has_facility = true;
                        } else if (strcmp(e->key, "fields") == 0)
                                set_fields(c, e);
                        else if (strcmp(e->key, "backtrace") == 0) {
                                c->has_backtrace = true;
                                if (strcasecmp(e->value, "none") == 0 ||
                                    strcasecmp(e->value, "no") == 0)
                                        c->backtrace_level = -1;
                                else if ((c->backtrace_level = trail_level_parse(e->value)) < 0)
                                        ERR(c, e, "'%s' is not a level or none", e->value);
                        } else if (!set_flow(c, e, &root->flow))
                                unknown_key(c, e, "trail",
                                            "level, handlers, ident, facility, fields, "
                                            "backtrace, sample, rate_limit");
                } else if (strcmp(kind, "logger") == 0 && *name &&
                           strcmp(name, "root") != 0 && logger_name_is_valid(name, strlen(name))) {
                        /* one logger per name, at its first section's line */
                        struct key *lk = keys_find(lent, n_lent, name, "");
                        if (lk->v == 0) {
                                const struct key *h = keys_find(sec, p->n_s, e->section, "");
                                if (!config_add_logger(c, name, h ? p->s[h->i].line : e->line)) {
                                        c->errors.oom = true;
                                        return;
                                }
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
                                unknown_key(c, e, e->section,
                                            "level, handlers, propagate, sample, rate_limit");
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
                struct flow_setting f = { .sample = 1 };
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
        uintptr_t x = (uintptr_t) *(void *const *) a, y = (uintptr_t) *(void *const *) b;
        return x < y ? -1 : x > y;
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
                l->lg = logger_get(l->name);
                if (!l->lg)
                        goto fail;
                bool was_managed = current.n > 0 &&
                                   bsearch(&l->lg, current.loggers, current.n,
                                           sizeof(*current.loggers), pointer_cmp);
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
         * to inheriting, propagating, no handlers. Both lists sorted, as
         * current.loggers stays: lookups by bisection. */
        if (n_managed > 1)
                qsort(managed, n_managed, sizeof(*managed), pointer_cmp);
        for (size_t i = 0; i < current.n; i++) {
                bool kept = n_managed > 0 && bsearch(&current.loggers[i], managed, n_managed,
                                                     sizeof(*managed), pointer_cmp);
                if (!kept)
                        ch[n++] = (struct logger_change) {
                                .lg = current.loggers[i],
                                .level = TRAIL_LEVEL_INHERIT,
                                .propagate = true,
                                .replace_handlers = true,
                                .set_propagate = true,
                        };
        }

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
                globals_publish(&fields);
        if (c->has_scrub || current.scrub)
                (void) trail_set_scrub(c->has_scrub ? c->scrub : true);
        config_apply_flow(c, ch, n);
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
                                        : d->has_rate_limit  ? d
                                                             : NULL;
        if (smp && smp->sample > 1)
                fprintf(out, ", sample 1 in %u", smp->sample);
        if (rl && rl->burst > 0)
                fprintf(out, ", rate limit %u per %llu ms", rl->burst,
                        (unsigned long long) (rl->interval / 1000));
        fputc('\n', out);
}

static void describe(const struct config *c, FILE *out) {
        fprintf(out, "%s: configuration is valid\n", c->file);
        fprintf(out, "ident: %s\n", c->has_ident ? c->ident : "(program name)");
        fprintf(out, "facility: %s (%d)\n", syslog_facility_name(c->has_facility ? c->facility : 3),
                c->has_facility ? c->facility : 3);
        fprintf(out, "global fields:");
        for (size_t i = 0; i < c->n_fields; i++)
                fprintf(out, " %s=%s", c->fields[i].name, c->fields[i].value.s);
        fprintf(out, c->n_fields ? "\n" : " none\n");
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
        trail_logger *lg = logger_get("trail");

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

static const char *file_kind(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return "a directory";
        case S_IFCHR:
                return "a character device";
        case S_IFBLK:
                return "a block device";
        case S_IFIFO:
                return "a FIFO";
        case S_IFSOCK:
                return "a socket";
        default:
                return "not a regular file";
        }
}

/* Only a regular file (a symlink to one is fine), of at most CONFIG_SIZE_MAX
 * bytes. O_NONBLOCK: opening a FIFO without a writer would wait forever;
 * O_NOCTTY: a terminal must not become the controlling one. */
static int config_open(const char *path, struct errors *errors, FILE **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        FILE *f;
        int r;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                errors_add(errors, 0, NULL, -r, "cannot open: %s", strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
                errors_add(errors, 0, NULL, -r, "cannot open: %s, not a regular file",
                           file_kind(st.st_mode));
                return r;
        }
        if (st.st_size > CONFIG_SIZE_MAX) {
                errors_add(errors, 0, NULL, EFBIG, "larger than %d bytes", CONFIG_SIZE_MAX);
                return -EFBIG;
        }
        f = fdopen(fd, "r");
        if (!f) {
                r = -errno;
                errors_add(errors, 0, NULL, -r, "cannot open: %s", strerror(-r));
                return r;
        }
        fd = -EBADF; /* the FILE owns it */
        *ret = f;
        return 0;
}

/* Parses, validates, builds and (unless TRAIL_CONFIGURE_CHECK) applies the
 * file, or the default configuration when path is NULL. Called under
 * config_lock; *ret_why gets the first error's text for the record. */
static int config_load_locked(const char *path, unsigned flags, trail_config_error_fn on_error,
                              void *userdata, FILE *out, char **ret_why) {
        struct errors errors = {};
        struct parse p = { .file = path, .errors = &errors };
        struct config c = { .file = path ? path : "(default)", .backtrace_level = -1 };
        int r = 0;

        if (path) {
                r = config_open(path, &errors, &p.f);
                if (r < 0)
                        goto report;
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
        r = config_load_locked(path, TRAIL_CONFIGURE_CHECK, on_error ?: error_to_stderr,
                               userdata, out, NULL);
        config_lock_drop();
        return r;
}

_public_ int trail_configure_full(const char *path, unsigned flags,
                                  trail_config_error_fn on_error, void *userdata) {
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
