/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* $TRAIL_LEVEL: levels on top of the configuration being built, for a
 * debugging session. "info, worker.db = debug": entries split at commas,
 * blanks around an entry and around its '=' ignored; a problem is named
 * exactly and the whole variable is then ignored (config.c applies what
 * is left). */

#include <stdio.h>
#include <string.h>

#include "config-private.h"

/* Only for $TRAIL_LEVEL's at most LIST_MAX names: the file's loggers are
 * found through config_build()'s index. */
static struct clogger *config_logger(struct config *c, const char *name) {
        for (size_t i = 1; i < c->n_loggers; i++)
                if (strcmp(c->loggers[i].name, name) == 0)
                        return &c->loggers[i];
        return NULL;
}

/* A shell's quoting may bring a newline too. */
static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s without the blanks around it, in place. */
static char *trim(char *s) {
        char *end;

        while (is_blank(*s))
                s++;
        end = s + strlen(s);
        while (end > s && is_blank(end[-1]))
                end--;
        *end = '\0';
        return s;
}

struct env_level {
        const char *name; /* NULL: the root */
        int level;
};

/* One entry, trimmed, into *ret; false with the problem in msg. The entry
 * is cut in place at its '='. */
static bool env_entry_parse(char *entry, struct env_level *ret, char *msg, size_t size) {
        char *eq = strchr(entry, '=');
        const char *name = NULL, *value = entry;

        if (eq) {
                if (strchr(eq + 1, '=')) {
                        snprintf(msg, size, "'%s': more than one '='", entry);
                        return false;
                }
                *eq = '\0';
                name = trim(entry);
                value = trim(eq + 1);
                if (!*name) {
                        snprintf(msg, size, "'=%s': missing logger name before '='", value);
                        return false;
                }
                if (!*value) {
                        snprintf(msg, size, "'%s=': missing level after '='", name);
                        return false;
                }
        }
        ret->level = trail_level_parse(value);
        if (ret->level < 0) {
                /* "worker.db" or "worker.db debug" alone: a logger without its level */
                if (!name && strpbrk(value, ". \t\n\r"))
                        snprintf(msg, size, "'%s': missing '=' (expected LEVEL or LOGGER=LEVEL)",
                                 value);
                else
                        snprintf(msg, size, "'%s': unknown level (expected one of %s)", value,
                                 LEVEL_NAMES_EXPECTED);
                return false;
        }
        if (name && strcmp(name, "root") == 0)
                name = NULL;
        if (name && !logger_name_is_valid(name, strlen(name))) {
                snprintf(msg, size,
                         "'%s': invalid logger name (no blanks or control characters, no "
                         "empty part between dots)",
                         name);
                return false;
        }
        ret->name = name;
        return true;
}

/* "info,myapp.db=debug": a bare level is the root's. Problems are reported
 * and the whole variable ignored: a typo in a debugging aid must not refuse
 * the configuration. Returns the number of overrides, or -EINVAL. */
int env_levels(struct config *c, trail_config_error_fn on_error, void *userdata) {
        const char *v = secure_getenv("TRAIL_LEVEL");
        struct env_level levels[LIST_MAX];
        size_t n = 0;
        char *save = NULL;

        if (!v || !*v)
                return 0;
        _cleanup_free_ char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        /* Everything checked first: on a problem, nothing of it counts. An
         * empty entry ("info,", blanks only) is no problem. */
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char msg[320];
                size_t len;

                tok = trim(tok);
                if (!*tok)
                        continue;
                if (n == LIST_MAX) {
                        on_error("$TRAIL_LEVEL", 0, NULL, "too many entries: ignored", userdata);
                        return -EINVAL;
                }
                if (env_entry_parse(tok, &levels[n], msg, sizeof(msg) - STRLEN(": ignored"))) {
                        n++;
                        continue;
                }
                len = strlen(msg);
                memcpy(msg + len, ": ignored", sizeof(": ignored"));
                on_error("$TRAIL_LEVEL", 0, NULL, msg, userdata);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                if (!levels[i].name) {
                        c->loggers[0].level = levels[i].level;
                        continue;
                }
                struct clogger *l = config_logger(c, levels[i].name);
                if (!l) {
                        l = config_add_logger(c, levels[i].name, 0);
                        if (!l)
                                return -ENOMEM;
                        l->from_env = true;
                }
                l->level = levels[i].level;
        }
        return (int) n;
}
