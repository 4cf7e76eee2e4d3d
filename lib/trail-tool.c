/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The private interface for trail(1) (trail-tool.h): thin exports of the
 * internals the tool needs, so that it links the shared library it ships
 * with instead of a copy of the library's objects. */

#include "trail-tool.h"
#include "logger-private.h"

_public_ int trail__config_check(const char *path, FILE *out) {
        return config_check(path, NULL, NULL, out);
}

_public_ bool trail__field_name_is_valid(const char *name) {
        size_t len;

        return field_name_is_valid(name, &len);
}
