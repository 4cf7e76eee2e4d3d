/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail.h alone, compiled as strict C99 (see tests/meson.build), and used. */
#include "trail.h"

int main(void) {
        trail_logger *lg = trail_get("header.c99");
        trail_fields f = TRAIL_FIELDS(TRAIL_INT("N", 1), TRAIL_STR("S", "s"));
        (void) f;
        return trail_enabled(lg, TRAIL_DEBUG) ? 1 : 0;
}
