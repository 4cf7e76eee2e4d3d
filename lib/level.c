/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public level names: shared/util.h's one table of syslog's eight,
 * and the aliases syslog(3) accepts, for trail_level_name() and
 * trail_level_parse(). */

#include <errno.h>
#include <strings.h>

#include "pipeline-private.h"

_public_ const char *trail_level_name(int level) {
        if (level < 0 || level >= (int) ELEMENTSOF(level_lower))
                return NULL;
        return level_lower[level];
}

_public_ int trail_level_parse(const char *s) {
        /* syslog(3)'s short names and the aliases its prioritynames[] accepts */
        static const struct {
                const char *name;
                int level;
        } aliases[] = {
                {"emerg", TRAIL_EMERGENCY}, {"panic", TRAIL_EMERGENCY}, {"crit", TRAIL_CRITICAL},
                {"err", TRAIL_ERROR},       {"warn", TRAIL_WARNING},
        };

        if (!s)
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        for (size_t i = 0; i < ELEMENTSOF(level_lower); i++)
                if (strcasecmp(s, level_lower[i]) == 0)
                        return (int) i;
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (strcasecmp(s, aliases[i].name) == 0)
                        return aliases[i].level;
        return -EINVAL;
}
