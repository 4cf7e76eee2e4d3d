/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "text" formatter: a line a person reads, laid out by a pattern in
 * Python's %(name)s style, coloured by level on a terminal; also the journald
 * handler's stderr fallback. Every control character, backslash and invalid
 * UTF-8 byte is escaped, so a value cannot forge a line (CWE-117) and the
 * default line can be read back exactly (see trail_formatter_new(3)). */

#include <string.h>

#include "format-private.h"

#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                typeof(p) take_ = (p);                                                             \
                (p) = NULL;                                                                        \
                take_;                                                                             \
        })

enum item_kind {
        ITEM_LITERAL,
        ITEM_ASCTIME,
        ITEM_CREATED,
        ITEM_LEVELNAME,
        ITEM_LEVELNO,
        ITEM_NAME,
        ITEM_MESSAGE,
        ITEM_FILENAME,
        ITEM_PATHNAME,
        ITEM_LINENO,
        ITEM_FUNCNAME,
        ITEM_PROCESS,
        ITEM_THREAD,
        ITEM_IDENT,
        ITEM_FIELD,  /* one field, by its name */
        ITEM_FIELDS, /* every field not named elsewhere in the pattern */
};

struct item {
        unsigned char kind;
        bool left; /* '-': pad on the right */
        unsigned short width;
        /* LITERAL: the text; FIELD: the name; FIELDS: the whitespace before
         * it in the pattern, written only when there are fields to show. */
        const char *s;
        size_t len;
};

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct text_formatter {
        trail_formatter base;
        const struct item *items;
        size_t n_items;
        bool has_fields_item; /* some ITEM_FIELD: %(fields)s must skip those */
        unsigned char color;
        bool utc;
        char *text;         /* the compiled pattern's strings */
        struct item *owned; /* items, unless the default */
};

#define DEFAULT_PATTERN "%(asctime)s %(levelname)s %(name)s: %(message)s %(fields)s"

#define LIT(x)                                                                                     \
        { ITEM_LITERAL, false, 0, x, STRLEN(x) }
static const struct item default_items[] = {
        {ITEM_ASCTIME, false, 0, NULL, 0},   LIT(" "),
        {ITEM_LEVELNAME, false, 0, NULL, 0}, LIT(" "),
        {ITEM_NAME, false, 0, NULL, 0},      LIT(": "),
        {ITEM_MESSAGE, false, 0, NULL, 0},   {ITEM_FIELDS, false, 0, " ", 1},
};
#undef LIT

static const struct {
        const char *name;
        unsigned char kind;
} attributes[] = {
        {"asctime", ITEM_ASCTIME},   {"created", ITEM_CREATED},   {"levelname", ITEM_LEVELNAME},
        {"levelno", ITEM_LEVELNO},   {"name", ITEM_NAME},         {"message", ITEM_MESSAGE},
        {"filename", ITEM_FILENAME}, {"pathname", ITEM_PATHNAME}, {"lineno", ITEM_LINENO},
        {"funcName", ITEM_FUNCNAME}, {"process", ITEM_PROCESS},   {"thread", ITEM_THREAD},
        {"ident", ITEM_IDENT},       {"fields", ITEM_FIELDS},
};

static const char *const level_upper[] = {
        "EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG",
};
static const unsigned char level_upper_len[] = {9, 5, 8, 5, 7, 6, 4, 5};

/* SGR by level, as journalctl colours: red for the severe ones, yellow for
 * warnings, bold notices, plain info, grey debug. */
static const char *const level_color[] = {
        "\x1b[1;31m", "\x1b[1;31m", "\x1b[1;31m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "", "\x1b[2m",
};
#define COLOR_RESET "\x1b[0m"

/* ---- Escaping ------------------------------------------------------------- */

/* '\\', control characters, C1 controls, U+2028/9 and invalid UTF-8 escaped
 * (and '"' when quoted): at most 4 bytes out per byte in. Every escape is
 * "\\", "\"", "\n", "\r", "\t" or "\xNN", so the bytes can be recovered. */
static const struct escaper text_bare = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r'), ['\\'] = '\\'},
        .invalid = ESCAPE_INVALID_HEX,
};
static const struct escaper text_quoted = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r'), ['\\'] = '\\', ['"'] = '"'},
        .invalid = ESCAPE_INVALID_HEX,
};

/* A value as in KEY=value: bare when it has nothing to escape, else quoted. */
static char *render_value(char *p, const struct rfield *fl) {
        const char *v;
        size_t vn;
        char num[32];

        if (fl->type == TRAIL_FIELD_STR || fl->type == TRAIL_FIELD_BYTES)
                v = fl->v.s, vn = fl->len;
        else
                v = num, vn = rfield_render_value(fl, num);
        return put_value(p, v, vn, &text_quoted);
}

/* ---- Rendering ------------------------------------------------------------- */

static const struct rfield *record_field(const struct trail_record *r, const char *name,
                                         size_t len) {
        for (size_t i = 0; i < r->n_fields; i++)
                if (r->fields[i].name_len == len && memcmp(r->fields[i].name, name, len) == 0)
                        return &r->fields[i];
        return NULL;
}

static bool named_in_pattern(const struct text_formatter *tf, const struct rfield *fl) {
        for (size_t i = 0; i < tf->n_items; i++)
                if (tf->items[i].kind == ITEM_FIELD && tf->items[i].len == fl->name_len &&
                    memcmp(tf->items[i].s, fl->name, fl->name_len) == 0)
                        return true;
        return false;
}

static size_t field_bound(const struct rfield *fl) {
        return 4 * rfield_value_bound(fl) + 2;
}

static const char *base_name(const char *path, size_t len, size_t *ret_len) {
        const char *slash = memrchr(path, '/', len);

        if (!slash) {
                *ret_len = len;
                return path;
        }
        *ret_len = len - (size_t) (slash + 1 - path);
        return slash + 1;
}

static size_t item_bound(const struct text_formatter *tf, const struct item *it,
                         const struct trail_record *r, size_t id_len) {
        size_t n = it->width + 4;

        switch (it->kind) {
        case ITEM_LITERAL:
                return n + it->len;
        case ITEM_NAME:
                return n + 4 * r->logger_field_len;
        case ITEM_MESSAGE:
                return n + 4 * r->message_len;
        case ITEM_FILENAME:
        case ITEM_PATHNAME:
                return n + 4 * r->src->file_len;
        case ITEM_FUNCNAME:
                return n + 4 * r->src->func_len;
        case ITEM_IDENT:
                return n + 4 * id_len;
        case ITEM_FIELD: {
                const struct rfield *fl = record_field(r, it->s, it->len);
                return n + (fl ? field_bound(fl) : 1);
        }
        case ITEM_FIELDS:
                n += it->len;
                for (size_t i = 0; i < r->n_fields; i++)
                        n += r->fields[i].name_len + 2 + field_bound(&r->fields[i]);
                return n;
        default:
                (void) tf;
                return n + 48;
        }
}

static char *render_item(const struct text_formatter *tf, const struct item *it, char *p,
                         const struct trail_record *r, const char *id, size_t id_len) {
        size_t n;
        const char *s;

        switch (it->kind) {
        case ITEM_LITERAL:
                return memcpy(p, it->s, it->len), p + it->len;
        case ITEM_ASCTIME:
                return format_time(p, &r->time, tf->utc);
        case ITEM_CREATED: {
                long usec = r->time.tv_nsec / 1000;
                p += format_int(p, r->time.tv_sec);
                *p++ = '.';
                for (int k = 5; k >= 0; k--, usec /= 10)
                        p[k] = (char) ('0' + usec % 10);
                return p + 6;
        }
        case ITEM_LEVELNAME:
                return memcpy(p, level_upper[r->level], level_upper_len[r->level]),
                       p + level_upper_len[r->level];
        case ITEM_LEVELNO:
                *p++ = (char) ('0' + r->level);
                return p;
        case ITEM_NAME:
                s = record_logger_name(r, &n);
                return escape(p, s, n, &text_bare);
        case ITEM_MESSAGE:
                return put_message(p, r->message, r->message_len, &text_bare, &text_quoted);
        case ITEM_FILENAME:
                /* no location (trail_log_with_location()): empty */
                if (!r->src->file)
                        return p;
                s = base_name(r->src->file, r->src->file_len, &n);
                return escape(p, s, n, &text_bare);
        case ITEM_PATHNAME:
                return r->src->file ? escape(p, r->src->file, r->src->file_len, &text_bare) : p;
        case ITEM_LINENO: /* a line without a file says nothing: empty */
                return r->src->file ? p + format_int(p, r->src->line) : p;
        case ITEM_FUNCNAME:
                return r->src->func ? escape(p, r->src->func, r->src->func_len, &text_bare) : p;
        case ITEM_PROCESS:
                return p + format_int(p, pid_get());
        case ITEM_THREAD:
                return p + format_int(p, r->tid);
        case ITEM_IDENT:
                return escape(p, id, id_len, &text_bare);
        case ITEM_FIELD: {
                const struct rfield *fl = record_field(r, it->s, it->len);
                if (!fl) {
                        *p++ = '-';
                        return p;
                }
                return render_value(p, fl);
        }
        case ITEM_FIELDS: {
                bool first = true;
                for (size_t i = 0; i < r->n_fields; i++) {
                        const struct rfield *fl = &r->fields[i];
                        if (tf->has_fields_item && named_in_pattern(tf, fl))
                                continue;
                        if (first) {
                                /* no separator: it->s is NULL, which memcpy may not get */
                                if (it->len)
                                        memcpy(p, it->s, it->len);
                                p += it->len;
                                first = false;
                        } else
                                *p++ = ' ';
                        memcpy(p, fl->name, fl->name_len);
                        p += fl->name_len;
                        *p++ = '=';
                        p = render_value(p, fl);
                }
                return p;
        }
        }
        return p;
}

/* Width counts characters: bytes that are not UTF-8 continuation bytes. */
static char *pad(char *start, char *p, const struct item *it) {
        size_t chars = 0;

        for (const char *q = start; q < p; q++)
                chars += ((unsigned char) *q & 0xc0) != 0x80;
        if (chars >= it->width)
                return p;
        size_t k = it->width - chars;
        if (!it->left) {
                memmove(start + k, start, (size_t) (p - start));
                memset(start, ' ', k);
        } else
                memset(p, ' ', k);
        return p + k;
}

static int render(const trail_formatter *f, const struct trail_record *r, es_str_t **buf,
                  bool terminal) {
        const struct text_formatter *tf = (const struct text_formatter *) f;
        const struct ident *ident = NULL;
        const char *id = "";
        size_t id_len = 0, bound = 32;
        bool color = tf->color == COLOR_ALWAYS || (terminal && tf->color == COLOR_AUTO);
        const char *sgr = color ? level_color[r->level] : "";
        char *p, *start;

        for (size_t i = 0; i < tf->n_items; i++)
                if (tf->items[i].kind == ITEM_IDENT && !ident) {
                        ident = ident_get();
                        if (ident) {
                                id = ident->field + STRLEN("SYSLOG_IDENTIFIER=");
                                id_len = ident->len - STRLEN("SYSLOG_IDENTIFIER=");
                        }
                }
        for (size_t i = 0; i < tf->n_items; i++)
                bound += item_bound(tf, &tf->items[i], r, id_len);
        if (buf_reserve(buf, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(*buf) + (*buf)->lenStr;

        if (*sgr)
                p = stpcpy(p, sgr);
        for (size_t i = 0; i < tf->n_items; i++) {
                char *s = p;
                p = render_item(tf, &tf->items[i], p, r, id, id_len);
                if (tf->items[i].width > 0)
                        p = pad(s, p, &tf->items[i]);
        }
        if (*sgr)
                p = mempcpy(p, COLOR_RESET, STRLEN(COLOR_RESET));
        (*buf)->lenStr += (es_size_t) (p - start);
        return 0;
}

static int text_format(const trail_formatter *f, const struct trail_record *r,
                       const struct format_frame *fr, es_str_t **buf) {
        return render(f, r, buf, false);
}

static int text_format_terminal(const trail_formatter *f, const struct trail_record *r,
                                const struct format_frame *fr, es_str_t **buf) {
        return render(f, r, buf, true);
}

/* ---- Patterns ------------------------------------------------------------- */

/* Python's %-style: "%(name)[-][width](s|d|f)" and "%%". Field names are
 * journald names (upper case); attributes are Python's (lower or camel
 * case). Returns -EINVAL for anything else. */
static int pattern_compile(const char *pattern, char **ret_text, struct item **ret_items,
                           size_t *ret_n) {
        size_t plen = strlen(pattern), n = 0;
        _cleanup_free_ char *text = malloc(plen + 1);
        _cleanup_free_ struct item *items = calloc(plen + 1, sizeof(struct item));
        char *w;
        const char *q = pattern;

        if (!text || !items)
                return -ENOMEM;
        w = text;
        while (*q) {
                if (*q != '%' || q[1] == '%') {
                        /* literal text, "%%" unescaped into the copy */
                        if (n == 0 || items[n - 1].kind != ITEM_LITERAL)
                                items[n++] = (struct item){ITEM_LITERAL, false, 0, w, 0};
                        *w++ = *q;
                        items[n - 1].len++;
                        q += *q == '%' ? 2 : 1;
                        continue;
                }
                if (q[1] != '(')
                        return -EINVAL;
                const char *name = q + 2, *end = strchr(name, ')');
                if (!end || end == name)
                        return -EINVAL;
                size_t name_len = (size_t) (end - name);
                struct item it = {.kind = ITEM_LITERAL};
                for (size_t k = 0; k < ELEMENTSOF(attributes); k++)
                        if (strlen(attributes[k].name) == name_len &&
                            memcmp(attributes[k].name, name, name_len) == 0)
                                it.kind = attributes[k].kind;
                if (it.kind == ITEM_LITERAL) {
                        char tmp[FIELD_NAME_MAX + 1];
                        size_t len;
                        if (name_len > FIELD_NAME_MAX)
                                return -EINVAL;
                        memcpy(tmp, name, name_len);
                        tmp[name_len] = '\0';
                        if (!field_name_is_valid(tmp, &len))
                                return -EINVAL;
                        it.kind = ITEM_FIELD;
                        it.s = w;
                        it.len = name_len;
                        w = mempcpy(w, name, name_len);
                }
                q = end + 1;
                if (*q == '-')
                        it.left = true, q++;
                unsigned width = 0;
                while (*q >= '0' && *q <= '9') {
                        width = width * 10 + (unsigned) (*q++ - '0');
                        if (width > 1000)
                                return -EINVAL;
                }
                it.width = (unsigned short) width;
                if (*q != 's' && *q != 'd' && *q != 'f')
                        return -EINVAL;
                q++;
                if (it.kind == ITEM_FIELDS && n > 0 && items[n - 1].kind == ITEM_LITERAL) {
                        /* the separator before %(fields)s goes with it */
                        struct item *lit = &items[n - 1];
                        size_t ws = 0;
                        while (ws < lit->len && (lit->s[lit->len - 1 - ws] == ' ' ||
                                                 lit->s[lit->len - 1 - ws] == '\t'))
                                ws++;
                        lit->len -= ws;
                        it.s = lit->s + lit->len;
                        it.len = ws;
                        if (lit->len == 0)
                                n--;
                }
                items[n++] = it;
        }
        *ret_text = TAKE_PTR(text);
        *ret_items = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}

static void text_done(trail_formatter *f) {
        struct text_formatter *tf = (struct text_formatter *) f;

        free(tf->text);
        free(tf->owned);
}

static int text_init(trail_formatter *f) {
        struct text_formatter *tf = (struct text_formatter *) f;

        tf->items = default_items;
        tf->n_items = ELEMENTSOF(default_items);
        tf->color = COLOR_AUTO;
        return 0;
}

static int text_set(trail_formatter *f, const char *key, const char *value) {
        struct text_formatter *tf = (struct text_formatter *) f;

        if (strcmp(key, "pattern") == 0) {
                char *text;
                struct item *items;
                size_t n;
                int r = pattern_compile(value, &text, &items, &n);
                if (r < 0)
                        return r;
                text_done(f);
                tf->text = text;
                tf->owned = items;
                tf->items = items;
                tf->n_items = n;
                tf->has_fields_item = false;
                for (size_t i = 0; i < n; i++)
                        if (items[i].kind == ITEM_FIELD)
                                tf->has_fields_item = true;
                return 0;
        }
        if (strcmp(key, "color") == 0) {
                if (strcmp(value, "auto") == 0)
                        tf->color = COLOR_AUTO;
                else if (strcmp(value, "always") == 0)
                        tf->color = COLOR_ALWAYS;
                else if (strcmp(value, "never") == 0)
                        tf->color = COLOR_NEVER;
                else
                        return -EINVAL;
                return 0;
        }
        if (strcmp(key, "time") == 0)
                return format_time_option(&tf->utc, value);
        return -ENOENT;
}

const struct formatter_ops format_text_ops = {
        .name = "text",
        .size = sizeof(struct text_formatter),
        .init = text_init,
        .set = text_set,
        .format = text_format,
        .format_terminal = text_format_terminal,
        .done = text_done,
};

/* The journald handler's fallback: the default line, never coloured. */
static struct text_formatter default_text = {
        .base = {.ops = &format_text_ops, .refcount = 1, .frozen = true},
        .items = default_items,
        .n_items = ELEMENTSOF(default_items),
        .color = COLOR_NEVER,
};

trail_formatter *formatter_default_text(void) {
        return &default_text.base;
}
