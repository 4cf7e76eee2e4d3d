/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail(1): check a trail.conf(5), send one record through a configuration
 * from a shell script, list the levels. */

#include <errno.h>
#include <getopt.h>
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
                "                  [NAME=value]... MESSAGE...\n"
                "       trail levels\n"
                "       trail version\n"
                "\n"
                "  check    validate FILE and print what it would set up\n"
                "  send     log one record (also: log) through FILE, or $TRAIL_CONFIG\n"
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

static int cmd_send(int argc, char **argv) {
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"priority", required_argument, NULL, 'p'},
                {"logger", required_argument, NULL, 'l'},
                {"tag", required_argument, NULL, 't'},
                {"field", required_argument, NULL, 'F'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        trail_field fields[FIELDS_MAX];
        const char *config = NULL, *logger = NULL, *tag = NULL;
        size_t n_fields = 0, len = 0;
        int level = TRAIL_NOTICE, c, r;

        while ((c = getopt_long(argc, argv, "c:p:l:t:F:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'p':
                        level = trail_level_parse(optarg);
                        if (level < 0) {
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
                case 'h':
                        return usage(stdout, 0);
                default:
                        return usage(stderr, 2);
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
        if (optind >= argc) {
                fprintf(stderr, "trail: send: no message\n");
                return 2;
        }
        for (int i = optind; i < argc; i++)
                len += strlen(argv[i]) + 1;
        _cleanup_free_ char *message = malloc(len);
        if (!message)
                return 1;
        message[0] = '\0';
        for (int i = optind; i < argc; i++) {
                if (i > optind)
                        strcat(message, " ");
                strcat(message, argv[i]);
        }

        if (config) {
                r = trail_configure(config);
                if (r < 0)
                        return 1;
        }
        if (tag && (r = trail_set_ident(tag)) < 0) {
                fprintf(stderr, "trail: -t %s: %s\n", tag, strerror(-r));
                return 2;
        }
        trail_logger *lg = trail_get(logger);
        if (!lg) {
                fprintf(stderr, "trail: -l %s: not a logger name\n", logger);
                return 2;
        }
        /* The level check is the logger's: a record below it is not an error. */
        r = trail_log_with(lg, level, ((trail_fields){fields, n_fields}), "%s", message);
        if (r < 0) {
                fprintf(stderr, "trail: send: %s\n", strerror(-r));
                return 1;
        }
        trail_stats st;
        (void) trail_flush();
        if (trail_get_stats(&st) >= 0 && st.lost > 0) {
                fprintf(stderr, "trail: send: the record was lost\n");
                return 1;
        }
        trail_shutdown();
        return 0;
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
