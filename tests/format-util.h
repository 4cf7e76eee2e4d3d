/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatter tests: render records with a formatter through a filter (so the
 * test sees exactly what trail_formatter_format() gives), with a fixed call
 * site, normalise what varies from run to run (time, pid, tid), and compare
 * with golden files in tests/golden/ (TRAIL_UPDATE_GOLDEN=1 rewrites them). */
#pragma once

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trail.h"

struct render {
        trail_formatter *f;
        char *out; /* malloc'd, NUL-terminated */
        int len;
};

static bool render_filter(const trail_record *r, void *userdata) {
        struct render *rd = userdata;
        int n = trail_formatter_format(rd->f, r, NULL, 0);

        free(rd->out);
        rd->out = NULL;
        rd->len = n;
        if (n >= 0) {
                rd->out = malloc((size_t) n + 1);
                if (!rd->out || trail_formatter_format(rd->f, r, rd->out, (size_t) n + 1) != n)
                        abort();
        }
        return false; /* rendered: nothing else to do with it */
}

static const trail_source golden_src = {"src/app/orders.c", "place_order", 42,
                                        sizeof("src/app/orders.c") - 1, sizeof("place_order") - 1};

/* Logs one record to the logger "golden.app" at a fixed call site and
 * returns it rendered by f (valid until the next call). */
#define RENDER(rd, level, fields, ...)                                                             \
        __extension__({                                                                            \
                trail_logger *lg_ = trail_get("golden.app");                                       \
                trail_logger_add_filter(lg_, render_filter, (rd));                                 \
                (void) trail__log(lg_, (level), &golden_src, (fields), 0, __VA_ARGS__);            \
                trail_logger_remove_filter(lg_, render_filter, (rd));                              \
                (const char *) (rd)->out;                                                          \
        })

/* Replaces every match of re in s with with; returns a new string. */
static char *replace_all(char *s, const char *re, const char *with) {
        regex_t rx;
        regmatch_t m;
        size_t cap = strlen(s) + 1, len = 0;
        char *out = malloc(cap), *p = s;

        if (!out || regcomp(&rx, re, REG_EXTENDED) != 0)
                abort();
        while (regexec(&rx, p, 1, &m, p == s ? 0 : REG_NOTBOL) == 0 && m.rm_eo > 0) {
                size_t need = len + (size_t) m.rm_so + strlen(with) + strlen(p + m.rm_eo) + 1;
                if (need > cap && !(out = realloc(out, cap = need)))
                        abort();
                memcpy(out + len, p, (size_t) m.rm_so);
                len += (size_t) m.rm_so;
                memcpy(out + len, with, strlen(with));
                len += strlen(with);
                p += m.rm_eo;
        }
        strcpy(out + len, p);
        regfree(&rx);
        free(s);
        return out;
}

static char *normalise(const char *text) {
        char *s = strdup(text);

        s = replace_all(s,
                        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}"
                        "(Z|[+-][0-9]{2}:[0-9]{2})",
                        "TIME");
        s = replace_all(s, "\"pid\":[0-9]+", "\"pid\":PID");
        s = replace_all(s, "\"tid\":[0-9]+", "\"tid\":TID");
        return s;
}

/* Compares text (normalised) with tests/golden/name; prints a diff-friendly
 * report and returns false when they differ. */
static bool golden_matches(const char *name, const char *text) {
        char path[512], *expect = NULL;
        char *got = normalise(text);
        size_t n = 0;
        FILE *f;
        bool ok;

        snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
        if (getenv("TRAIL_UPDATE_GOLDEN")) {
                f = fopen(path, "w");
                if (!f || fputs(got, f) < 0 || fclose(f) != 0)
                        abort();
        }
        f = fopen(path, "r");
        if (!f) {
                fprintf(stderr, "golden file %s missing; got:\n%s", path, got);
                free(got);
                return false;
        }
        if (getdelim(&expect, &n, '\0', f) < 0) {
                free(expect);
                expect = strdup("");
        }
        fclose(f);
        ok = strcmp(expect, got) == 0;
        if (!ok) {
                const char *e = expect, *g = got;
                while (*e && *e == *g)
                        e++, g++;
                fprintf(stderr, "%s differs at byte %zu:\n--- expected\n%.200s\n--- got\n%.200s\n",
                        path, (size_t) (e - expect), e, g);
        }
        free(expect);
        free(got);
        return ok;
}

/* The number of lines of text, or -1 when a CR or an ESC is in it: each
 * record of the corpus renders as one line, whatever its values hold. */
static long clean_lines(const char *text) {
        long lines = 0;
        for (const char *p = text; *p; p++) {
                if (*p == '\r' || *p == '\x1b')
                        return -1;
                lines += *p == '\n';
        }
        return lines;
}

/* The hostile corpus: every field type, and values that try to forge lines,
 * fields or keys. Each record's rendering is one line of the golden file. */
static char *render_corpus(trail_formatter *f) {
        struct render rd = {.f = f};
        size_t cap = 1 << 16, len = 0;
        char *all = calloc(1, cap);
        const char *line;

#define ADD(l)                                                                                     \
        do {                                                                                       \
                size_t n_ = strlen(l);                                                             \
                if (len + n_ + 2 > cap && !(all = realloc(all, cap = 2 * (len + n_ + 2))))         \
                        abort();                                                                   \
                memcpy(all + len, l, n_);                                                          \
                len += n_;                                                                         \
                all[len++] = '\n';                                                                 \
                all[len] = '\0';                                                                   \
        } while (0)

        line = RENDER(&rd, TRAIL_INFO, TRAIL_NO_FIELDS, "plain message");
        ADD(line);
        line = RENDER(&rd, TRAIL_ERROR,
                      TRAIL_FIELDS(TRAIL_STR("S", "text"), TRAIL_INT("I", -42),
                                   TRAIL_INT("IMIN", INT64_MIN), TRAIL_UINT("UMAX", UINT64_MAX),
                                   TRAIL_DOUBLE("D", 1.5), TRAIL_DOUBLE("DINT", 3.0),
                                   TRAIL_DOUBLE("DNEGZERO", -0.0), TRAIL_DOUBLE("DBIG", 1e300),
                                   TRAIL_DOUBLE("DNAN", __builtin_nan("")),
                                   TRAIL_DOUBLE("DINF", __builtin_inf()),
                                   TRAIL_DOUBLE("DNINF", -__builtin_inf()), TRAIL_BOOL("T", true),
                                   TRAIL_BOOL("F", false), TRAIL_BYTES("B", "\0\1\2bin\xff", 7),
                                   TRAIL_BYTES("B1", "a", 1), TRAIL_BYTES("B0", "", 0),
                                   TRAIL_ERRNO(2),
                                   TRAIL_MESSAGE_ID("b07a249cd024414a82dd00cd181378ff")),
                      "every field type");
        ADD(line);
        line = RENDER(
                &rd, TRAIL_WARNING,
                TRAIL_FIELDS(TRAIL_STR("NL", "a\nb"), TRAIL_STR("CR", "a\rb"),
                             TRAIL_STR("ANSI", "\x1b[31mred\x1b[0m"),
                             TRAIL_STR("QUOTE", "say \"hi\""), TRAIL_STR("BACKSLASH", "a\\b"),
                             TRAIL_STR("EQ", "a=b"), TRAIL_STR("SPACE", "a b"),
                             TRAIL_STR("EMPTY", ""), TRAIL_STR("TAB", "a\tb"),
                             TRAIL_STR("UTF8", "caf\xc3\xa9 \xe2\x82\xac"),
                             TRAIL_STR("INVALID", "a\xff"
                                                  "b\xfe"),
                             TRAIL_STR("TRUNCATED", "a\xe2\x82"
                                                    "b"),
                             TRAIL_STR("OVERLONG", "\xc0\xaf\xe0\x80\xaf"),
                             TRAIL_STR("SURROGATE", "\xed\xa0\x80"),
                             TRAIL_STR("C1", "a\xc2\x85"
                                             "b\xc2\x9b"
                                             "c"),
                             TRAIL_STR("LSEP", "a\xe2\x80\xa8"
                                               "b"),
                             TRAIL_STR("DEL", "a\x7f"
                                              "b"),
                             TRAIL_STR("FORGED", "x\n2026-01-01T00:00:00Z CRITICAL root: forged")),
                "hostile values");
        ADD(line);
        line = RENDER(&rd, TRAIL_CRITICAL, TRAIL_NO_FIELDS,
                      "line1\nline2\r\x1b[31mred\x1b[0m \"q\" back\\slash %c nul\xff end", 0);
        ADD(line);
        line = RENDER(&rd, TRAIL_NOTICE, TRAIL_FIELDS(TRAIL_STR("USER", "alice")),
                      "looks like a field: USER=admin");
        ADD(line);
        line = RENDER(&rd, TRAIL_DEBUG, TRAIL_NO_FIELDS, "\"starts with a quote");
        ADD(line);
        line = RENDER(&rd, TRAIL_ALERT, TRAIL_NO_FIELDS, "%s", "");
        ADD(line);
        /* user fields named like built-in keys: normalised to upper case
         * (and the journald ones renamed F_…), so no key can repeat */
        line = RENDER(&rd, TRAIL_EMERGENCY,
                      TRAIL_FIELDS(TRAIL_STR("message", "m"), TRAIL_STR("level", "l"),
                                   TRAIL_STR("time", "t"), TRAIL_STR("logger", "g"),
                                   TRAIL_STR("msg", "x"), TRAIL_STR("pid", "p")),
                      "built-in names");
        ADD(line);
#undef ADD
        free(rd.out);
        return all;
}
