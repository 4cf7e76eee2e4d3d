/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.conf(5), reading: the file is read line by line (each checked for
 * length and binary data) and parsed by libinih into a list of entries;
 * the values of the [trail], [logger] and [filter] keys are parsed here
 * too. Errors are collected with their line for config.c to report. */

#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config-private.h"

void errors_add(struct errors *es, unsigned line, const char *key, int errnum, const char *fmt,
                ...) {
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
        es->e[es->n] = (struct config_error){
                .line = line,
                .seq = es->n,
                .key = key ? strdup(key) : NULL,
                .message = msg,
                .errnum = errnum,
        };
        es->n++;
}

int error_cmp(const void *a, const void *b) {
        const struct config_error *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void errors_free(struct errors *es) {
        for (size_t i = 0; i < es->n; i++) {
                free(es->e[i].key);
                free(es->e[i].message);
        }
        free(es->e);
        *es = (struct errors){};
}

bool config_grow(void **p, size_t *cap, size_t n, size_t size) {
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
                errors_add(p->errors, p->line, NULL, EINVAL, "section name longer than %d bytes",
                           SECTION_MAX);
                return;
        }
        if (!config_grow((void **) &p->s, &p->cap_s, p->n_s, sizeof(*p->s))) {
                p->oom = true;
                return;
        }
        char *name = strndup(s + 1, len);
        if (!name) {
                p->oom = true;
                return;
        }
        p->s[p->n_s++] = (struct section_header){name, p->line};
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
        if (!config_grow((void **) &p->e, &p->cap_e, p->n_e, sizeof(*p->e))) {
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

void parse_free(struct parse *p) {
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

int parse_uint(const char *v, unsigned long long max, unsigned long long *ret) {
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
size_t split_words(char *s, char **words, size_t max) {
        size_t n = 0;

        char *save = NULL;

        for (char *tok = strtok_r(s, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
                if (n < max)
                        words[n++] = tok;
                else
                        return max + 1;
        return n;
}

static int key_name_cmp(const struct key *k, const char *a, const char *b) {
        int r = strcmp(k->a, a);
        return r ? r : strcmp(k->b, b);
}

static int key_cmp(const void *x, const void *y) {
        const struct key *p = x, *q = y;
        int r = key_name_cmp(p, q->a, q->b);
        return r ? r : p->i < q->i ? -1 : p->i > q->i;
}

void keys_sort(struct key *k, size_t n) {
        if (n > 1)
                qsort(k, n, sizeof(*k), key_cmp);
}

/* The first of the keys named (a, b) in sorted k[0..n): the one of lowest i. */
struct key *keys_find(struct key *k, size_t n, const char *a, const char *b) {
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

/* ---- Values of keys --------------------------------------------------------- */

void set_level(struct config *c, const struct entry *e, int *level, bool may_inherit) {
        if (may_inherit &&
            (strcasecmp(e->value, "inherit") == 0 || strcasecmp(e->value, "notset") == 0)) {
                *level = TRAIL_LEVEL_INHERIT;
                return;
        }
        int l = trail_level_parse(e->value);
        if (l < 0)
                ERR(c, e, "unknown level '%s' (expected one of " LEVEL_NAMES_EXPECTED "%s)",
                    e->value, may_inherit ? ", inherit" : "");
        else
                *level = l;
}

/* fields = NAME=value NAME="two words" */
void set_fields(struct config *c, const struct entry *e) {
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
                        ERR(c, e,
                            "'%s' is not a journal field name (A-Z, 0-9, _; not "
                            "starting with a digit or _; not reserved, see trail_fields(3))",
                            name);
                        goto fail;
                }
                if (!config_grow((void **) &f, &cap, n, sizeof(*f))) {
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
                        k[i] = (struct key){f[i].name, "", i};
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

void set_ident(struct config *c, const struct entry *e) {
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
bool set_flow(struct config *c, const struct entry *e, struct flow_setting *f) {
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
void set_redact(struct config *c, const struct entry *e) {
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

/* ---- Opening -------------------------------------------------------------- */

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

int config_parse_file(const char *path, struct parse *p) {
        int k, r;

        r = config_open(path, p->errors, &p->f);
        if (r < 0)
                return r;
        k = ini_parse_stream(read_line, p, on_entry, p);
        if (ferror(p->f)) {
                errors_add(p->errors, 0, NULL, EIO, "cannot read: %s", strerror(errno));
        }
        fclose(p->f);
        p->f = NULL;
        if (k > 0)
                errors_add(p->errors, (unsigned) k, NULL, EINVAL,
                           "syntax error: expected [section], key = value, or a comment");
        else if (k < 0)
                p->oom = true;
        if (p->oom)
                errors_add(p->errors, 0, NULL, ENOMEM, "out of memory");
        return 0;
}
