/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail(1): check a trail.conf(5), send records through a configuration
 * from a shell script (arguments or standard input), list the levels. */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"
#include "trail-tool.h"
#include "trail.h"

#define FIELDS_MAX 64

static int usage(FILE *out, int status) {
        fprintf(out,
                "Usage: trail check FILE\n"
                "       trail send [-c FILE] [-p LEVEL] [-l LOGGER] [-t TAG] [-F NAME=value]...\n"
                "                  [--code-file FILE [--code-line N] [--code-func NAME]]\n"
                "                  [NAME=value]... [MESSAGE...]\n"
                "       trail levels\n"
                "       trail version\n"
                "\n"
                "  check    validate FILE and print what it would set up\n"
                "  send     log one record (also: log) through FILE, or $TRAIL_CONFIG;\n"
                "           without MESSAGE, one record per line of standard input\n"
                "  levels   list the levels and their syslog numbers\n");
        return status;
}

static int cmd_check(int argc, char **argv) {
        if (argc != 2)
                return usage(stderr, 2);
        /* errors on stderr as FILE:LINE: key: why; the summary on stdout */
        return trail__config_check(argv[1], stdout) < 0 ? 1 : 0;
}

static int cmd_levels(void) {
        static const char *const short_names[] = {"emerg",   "alert",  "crit", "err",
                                                  "warning", "notice", "info", "debug"};
        for (int l = TRAIL_EMERGENCY; l <= TRAIL_DEBUG; l++)
                printf("%d %-9s %s\n", l, trail_level_name(l), short_names[l]);
        return 0;
}

/* What every record of one "trail send" shares. */
struct send {
        trail_logger *lg;
        int level;
        trail_fields fields;
        trail_source src; /* file NULL: no CODE_* fields (the tool's own are no use) */
        bool failed;
};

/* One record; the level check is the logger's (a record below it is not an
 * error), as the macros make it. */
static void send_one(struct send *s, const char *message) {
        if (!trail_enabled(s->lg, s->level))
                return;
        int r = trail__log(s->lg, s->level, &s->src, s->fields, 0, "%s", message);
        if (r < 0) {
                fprintf(stderr, "trail: send: %s\n", strerror(-r));
                s->failed = true;
        }
}

/* Standard input, one record per line, like logger(1) and systemd-cat(1): a
 * line of any length (getline() grows its buffer), a NUL byte ends a line
 * as it does in journald's stdout streams, empty lines are skipped (as
 * logger -e does), a last line without a newline is a record too. */
static int send_stdin(struct send *s) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        while ((n = getline(&line, &cap, stdin)) >= 0) {
                if (n > 0 && line[n - 1] == '\n')
                        line[--n] = '\0';
                for (char *p = line, *end = line + n; p < end; p += strlen(p) + 1)
                        if (*p)
                                send_one(s, p);
        }
        if (ferror(stdin)) {
                fprintf(stderr, "trail: send: standard input: %s\n", strerror(errno));
                return -EIO;
        }
        return 0;
}

static char *join_words(int argc, char **argv) {
        size_t len = 1;
        for (int i = 0; i < argc; i++)
                len += strlen(argv[i]) + 1;
        char *message = malloc(len), *p = message;
        if (!message)
                return NULL;
        for (int i = 0; i < argc; i++) {
                if (i > 0)
                        *p++ = ' ';
                p = stpcpy(p, argv[i]);
        }
        *p = '\0';
        return message;
}

static int parse_line(const char *s, int *ret) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 1 || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int cmd_send(int argc, char **argv) {
        enum { OPT_CODE_FILE = 0x100, OPT_CODE_LINE, OPT_CODE_FUNC };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"priority", required_argument, NULL, 'p'},
                {"logger", required_argument, NULL, 'l'},
                {"tag", required_argument, NULL, 't'},
                {"field", required_argument, NULL, 'F'},
                {"code-file", required_argument, NULL, OPT_CODE_FILE},
                {"code-line", required_argument, NULL, OPT_CODE_LINE},
                {"code-func", required_argument, NULL, OPT_CODE_FUNC},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        trail_field fields[FIELDS_MAX];
        const char *config = NULL, *logger = NULL, *tag = NULL;
        const char *code_file = NULL, *code_func = NULL;
        struct send s = {.level = TRAIL_NOTICE};
        size_t n_fields = 0;
        int code_line = 0, c, r;

        while ((c = getopt_long(argc, argv, "c:p:l:t:F:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'p':
                        s.level = trail_level_parse(optarg);
                        if (s.level < 0) {
                                fprintf(stderr, "trail: %s: not a level (see trail levels)\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 'l':
                        logger = optarg;
                        break;
                case 't':
                        tag = optarg;
                        break;
                case 'F': {
                        char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg || n_fields == FIELDS_MAX) {
                                fprintf(stderr, "trail: -F %s: expected NAME=value\n", optarg);
                                return 2;
                        }
                        *eq = '\0';
                        fields[n_fields++] = TRAIL_STR(optarg, eq + 1);
                        break;
                }
                case OPT_CODE_FILE:
                        code_file = optarg;
                        break;
                case OPT_CODE_LINE:
                        if (parse_line(optarg, &code_line) < 0) {
                                fprintf(stderr, "trail: --code-line %s: not a line number\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case OPT_CODE_FUNC:
                        code_func = optarg;
                        break;
                case 'h':
                        return usage(stdout, 0);
                default:
                        return usage(stderr, 2);
                }
        if (!code_file && (code_line || code_func)) {
                fprintf(stderr, "trail: --code-line and --code-func need --code-file\n");
                return 2;
        }
        if (code_file && !*code_file) {
                fprintf(stderr, "trail: --code-file: empty\n");
                return 2;
        }

        /* Leading NAME=value words are fields, as journal fields are named. */
        for (; optind < argc && n_fields < FIELDS_MAX; optind++) {
                char *eq = strchr(argv[optind], '=');
                if (!eq)
                        break;
                *eq = '\0';
                if (!trail__field_name_is_valid(argv[optind])) {
                        *eq = '=';
                        break;
                }
                fields[n_fields++] = TRAIL_STR(argv[optind], eq + 1);
        }
        /* no message words: standard input, one record per line */
        _cleanup_free_ char *message = NULL;
        if (optind < argc && !(message = join_words(argc - optind, argv + optind)))
                return 1;

        if (config) {
                r = trail_configure(config);
                if (r < 0)
                        return 1;
        }
        if (tag && (r = trail_set_ident(tag)) < 0) {
                fprintf(stderr, "trail: -t %s: %s\n", tag, strerror(-r));
                return 2;
        }
        s.lg = trail_get(logger);
        if (!s.lg) {
                fprintf(stderr, "trail: -l %s: not a logger name\n", logger);
                return 2;
        }
        s.fields = (trail_fields){fields, n_fields};
        if (code_file)
                s.src = (trail_source){code_file,
                                       code_func,
                                       code_line,
                                       (unsigned) strlen(code_file),
                                       code_func ? (unsigned) strlen(code_func) : 0,
                                       NULL};
        if (message)
                send_one(&s, message);
        else if (send_stdin(&s) < 0)
                s.failed = true;

        trail_stats st;
        (void) trail_flush();
        if (trail_get_stats(&st) >= 0 && st.lost > 0) {
                fprintf(stderr, "trail: send: %s lost\n",
                        message ? "the record was" : "records were");
                s.failed = true;
        }
        trail_shutdown();
        return s.failed ? 1 : 0;
}

int main(int argc, char **argv) {
        if (argc < 2)
                return usage(stderr, 2);
        if (strcmp(argv[1], "check") == 0)
                return cmd_check(argc - 1, argv + 1);
        if (strcmp(argv[1], "send") == 0 || strcmp(argv[1], "log") == 0)
                return cmd_send(argc - 1, argv + 1);
        if (strcmp(argv[1], "levels") == 0)
                return argc == 2 ? cmd_levels() : usage(stderr, 2);
        if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
                printf("trail %s\n", TRAIL_VERSION);
                return 0;
        }
        if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
            strcmp(argv[1], "-h") == 0)
                return usage(stdout, 0);
        fprintf(stderr, "trail: unknown command '%s'\n", argv[1]);
        return usage(stderr, 2);
}
