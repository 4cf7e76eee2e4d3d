/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The formatters by name: the one place that knows every format-*.c, above
 * them, so that none of them is reached from the core below. */

#include <string.h>

#include "format-private.h"

static const struct formatter_ops *const formatters[] = {
        &format_text_ops, &format_rfc5424_ops, &format_rfc3164_ops,
        &format_json_ops, &format_logfmt_ops,
};

_public_ trail_formatter *trail_formatter_new(const char *name) {
        if (!name) {
                errno = EINVAL;
                return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(formatters); i++)
                if (strcmp(formatters[i]->name, name) == 0)
                        return formatter_new(formatters[i]);
        errno = EINVAL;
        return NULL;
}
